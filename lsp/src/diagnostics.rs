//! Diagnostics of the host → protocol diagnostics: ranges in UTF-16, codes linking to
//! their documentation, labels and other fragments as related locations, tags.

use crate::line_index::LineIndex;
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Url,
};
use tailpolicy_policy::{Diagnostic, Related, Severity};

/// Where a code's documentation lives (`docs/rules.md`, one heading per code).
pub const RULES_URL: &str = "https://github.com/tailpolicy/tailpolicy/blob/main/docs/rules.md";

/// The documentation link of `code` (`TP0201` → `…/rules.md#tp0201`).
pub fn code_url(code: &str) -> Option<Url> {
    Url::parse(&format!("{RULES_URL}#{}", code.to_ascii_lowercase())).ok()
}

/// Tags of a code: unused definitions are unnecessary, legacy spellings deprecated.
pub fn tags(code: &str) -> Option<Vec<DiagnosticTag>> {
    match code {
        "TP1001" | "TP1002" | "TP1003" | "TP1004" => Some(vec![DiagnosticTag::UNNECESSARY]),
        "TP1010" | "TP1011" => Some(vec![DiagnosticTag::DEPRECATED]),
        _ => None,
    }
}

/// Converts one diagnostic of the file `uri` (spans local to it, indexed by `index`).
/// `related` turns a location in another file into a protocol location.
pub fn to_lsp(
    d: &Diagnostic,
    uri: &Url,
    index: &LineIndex<'_>,
    related: &dyn Fn(&Related) -> Option<Location>,
) -> lsp_types::Diagnostic {
    let code = d.code.as_str();
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut info: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), index.range(l.span)),
            message: l.message.clone(),
        })
        .collect();
    info.extend(d.related.iter().filter_map(|r| {
        Some(DiagnosticRelatedInformation {
            location: related(r)?,
            message: r.message.clone(),
        })
    }));
    lsp_types::Diagnostic {
        range: index.range(d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(code.to_owned())),
        code_description: code_url(code).map(|href| CodeDescription { href }),
        source: Some("tailpolicy".to_owned()),
        message,
        related_information: (!info.is_empty()).then_some(info),
        tags: tags(code),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailpolicy_policy::Span;
    use tailpolicy_policy::codes::lint::UNUSED_GROUP;

    #[test]
    fn unused_group_is_unnecessary_with_its_documentation() {
        let text = "{\"groups\": {\"group:é\": []}}";
        let index = LineIndex::new(text);
        let uri = Url::parse("file:///p.hujson").ok();
        let d = Diagnostic::new(UNUSED_GROUP.as_code(), Span::new(13, 21), "unused")
            .with_label(Span::new(1, 9), "here")
            .with_help("remove it");
        let Some(uri) = uri else { return };
        let out = to_lsp(&d, &uri, &index, &|_| None);
        assert_eq!(out.range.start, lsp_types::Position::new(0, 13));
        // `é` is one UTF-16 unit for two bytes.
        assert_eq!(out.range.end, lsp_types::Position::new(0, 20));
        assert_eq!(out.code, Some(NumberOrString::String("TP1001".into())));
        assert_eq!(
            out.code_description.map(|c| c.href.to_string()),
            Some(format!("{RULES_URL}#tp1001"))
        );
        assert_eq!(out.tags, Some(vec![DiagnosticTag::UNNECESSARY]));
        assert_eq!(out.message, "unused\nhelp: remove it");
        assert_eq!(out.related_information.map(|r| r.len()), Some(1),);
    }
}
