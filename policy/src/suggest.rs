//! "Did you mean …?" suggestions from a small edit-distance helper.

/// The candidate closest to `word` (case-insensitive), if it is close enough to be a
/// plausible typo: one edit for words under three characters, otherwise two edits or a
/// third of the length, whichever is more.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let len = w.chars().count();
    let limit = if len < 3 { 1 } else { (len / 3).max(2) };
    candidates
        .into_iter()
        .map(|c| (levenshtein(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(did_you_mean("dts", ["src", "dst", "proto"]), Some("dst"));
        assert_eq!(
            did_you_mean("tagowner", ["tagOwners", "groups"]),
            Some("tagOwners")
        );
        assert_eq!(did_you_mean("zzzzzz", ["src", "dst"]), None);
    }
}
