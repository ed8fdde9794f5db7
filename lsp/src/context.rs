//! Where the cursor is in a HuJSON text, lexically: the keys of the enclosing objects
//! and arrays and whether it is inside a string (a key or a value). Works on text that
//! does not parse (a buffer mid-edit).

/// The cursor's place in the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The member keys leading to the cursor, outermost first (`["acls", "dst"]` inside
    /// an ACL's `dst` array). Array elements add no key.
    pub path: Vec<String>,
    /// When inside a string: the byte offset just after its opening quote.
    pub string_start: Option<u32>,
    /// Whether that string (or the place) is an object key.
    pub is_key: bool,
}

impl Context {
    /// The top-level section (`acls`, `grants`, `ssh`, …), lower-cased.
    pub fn section(&self) -> Option<String> {
        self.path.first().map(|s| s.to_ascii_lowercase())
    }

    /// The innermost key, lower-cased.
    pub fn field(&self) -> Option<String> {
        self.path.last().map(|s| s.to_ascii_lowercase())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Frame {
    Object,
    Array,
}

/// The context at byte `offset` of `text`.
pub fn at(text: &str, offset: usize) -> Context {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    // (frame, the key it is the value of)
    let mut stack: Vec<(Frame, Option<String>)> = Vec::new();
    let mut last_string: Option<String> = None;
    let mut pending_key: Option<String> = None;
    let mut expect_key = false;
    let mut i = 0;
    while i < end {
        let b = bytes.get(i).copied().unwrap_or(b' ');
        match b {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut closed = false;
                while j < bytes.len() {
                    match bytes.get(j) {
                        Some(b'\\') => j += 2,
                        Some(b'"') => {
                            closed = true;
                            break;
                        }
                        Some(b'\n') | None => break,
                        Some(_) => j += 1,
                    }
                }
                if !closed || j >= end {
                    let mut path: Vec<String> =
                        stack.iter().filter_map(|(_, k)| k.clone()).collect();
                    let is_key = expect_key;
                    if !is_key && let Some(k) = pending_key.take() {
                        path.push(k);
                    }
                    return Context {
                        path,
                        string_start: u32::try_from(start).ok(),
                        is_key,
                    };
                }
                last_string = text.get(start..j).map(str::to_owned);
                i = j + 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < end && bytes.get(i) != Some(&b'\n') {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < end && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b':' => {
                pending_key = last_string.take();
                expect_key = false;
            }
            b'{' | b'[' => {
                let frame = if b == b'{' {
                    Frame::Object
                } else {
                    Frame::Array
                };
                stack.push((frame, pending_key.take()));
                expect_key = frame == Frame::Object;
            }
            b'}' | b']' => {
                stack.pop();
                pending_key = None;
                expect_key = false;
            }
            b',' => {
                pending_key = None;
                expect_key = matches!(stack.last(), Some((Frame::Object, _)));
            }
            _ => {}
        }
        i += 1;
    }
    let mut path: Vec<String> = stack.iter().filter_map(|(_, k)| k.clone()).collect();
    if let Some(k) = pending_key {
        path.push(k);
    }
    Context {
        path,
        string_start: None,
        is_key: expect_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(marked: &str) -> Context {
        let offset = marked.find('|').unwrap_or(0);
        let text = marked.replacen('|', "", 1);
        at(&text, offset)
    }

    #[test]
    fn value_inside_acl_dst() {
        let c = ctx(r#"{"acls": [{"action": "accept", "src": ["group:a"], "dst": ["ta|"#);
        assert_eq!(c.path, vec!["acls".to_owned(), "dst".to_owned()]);
        assert!(!c.is_key);
        assert_eq!(c.string_start, Some(60));
    }

    #[test]
    fn key_of_a_grant_with_comments_and_braces_in_strings() {
        let c = ctx("{\n// {[\n\"grants\": [{\"src\": [\"a{\"], \"|\"}]}");
        assert_eq!(c.path, vec!["grants".to_owned()]);
        assert!(c.is_key);
    }

    #[test]
    fn top_level_key_and_outside_strings() {
        assert_eq!(
            ctx("{\"|"),
            Context {
                path: vec![],
                string_start: Some(2),
                is_key: true
            }
        );
        let c = ctx("{\"ssh\": [{\"users\": [|]}]}");
        assert_eq!(c.path, vec!["ssh".to_owned(), "users".to_owned()]);
        assert_eq!(c.string_start, None);
        assert_eq!(c.section().as_deref(), Some("ssh"));
    }
}
