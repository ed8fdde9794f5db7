//! Snapshot tests of every format on hand-built diagnostics.

#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use super::fixtures::{awkward, borrow, many, policy};
use super::*;

fn options(style: FullStyle, summary: bool) -> RenderOptions {
    RenderOptions {
        full_style: style,
        tool_version: "0.0.0-test".to_owned(),
        base_dir: Some(PathBuf::from("/repo")),
        step_summary: summary.then(|| PathBuf::from("/summary.md")),
    }
}

fn two_files() -> Vec<(SourceFile, Vec<Diagnostic>)> {
    // Given in reverse name order: output must still be ordered by file.
    vec![policy(), awkward()]
}

#[test]
fn full_ascii() {
    let fixtures = two_files();
    let out = render(
        Format::Full,
        &borrow(&fixtures),
        &options(FullStyle::Ascii, false),
    );
    assert_eq!(out.step_summary, None);
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn full_unicode_without_colour() {
    let fixtures = vec![policy()];
    let out = render(
        Format::Full,
        &borrow(&fixtures),
        &options(FullStyle::Unicode, false),
    );
    assert!(
        !out.stdout.contains('\u{1b}'),
        "no escape sequences without colour"
    );
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn full_colour_links_codes_to_the_rules_page() {
    let fixtures = vec![policy()];
    let out = render(
        Format::Full,
        &borrow(&fixtures),
        &options(FullStyle::Colour, false),
    );
    assert!(out.stdout.contains(
        "\u{1b}]8;;https://github.com/tailpolicy/tailpolicy/blob/main/docs/rules.md#tp0298\u{1b}\\"
    ));
    assert!(out.stdout.contains("\u{1b}["), "colour escapes expected");
}

#[test]
fn full_style_detection() {
    assert_eq!(FullStyle::detect(true, false), FullStyle::Colour);
    assert_eq!(FullStyle::detect(true, true), FullStyle::Unicode);
    assert_eq!(FullStyle::detect(false, false), FullStyle::Ascii);
    assert_eq!(FullStyle::detect(false, true), FullStyle::Ascii);
}

#[test]
fn full_survives_spans_off_char_boundaries_and_past_the_end() {
    let file = SourceFile::new("x.hujson", "\"é\"");
    let diagnostics = vec![
        Diagnostic::new(
            tailpolicy_policy::Code(&super::fixtures::NOTE),
            tailpolicy_policy::Span::new(2, 3),
            "mid-char",
        ),
        Diagnostic::new(
            tailpolicy_policy::Code(&super::fixtures::NOTE),
            tailpolicy_policy::Span::new(3, 99),
            "past end",
        ),
    ];
    let files = [FileDiagnostics {
        file: &file,
        diagnostics: &diagnostics,
    }];
    let out = render(Format::Full, &files, &options(FullStyle::Ascii, false));
    assert!(out.stdout.contains("mid-char") && out.stdout.contains("past end"));
}

#[test]
fn concise() {
    let fixtures = two_files();
    insta::assert_snapshot!(
        render(
            Format::Concise,
            &borrow(&fixtures),
            &options(FullStyle::Ascii, false)
        )
        .stdout
    );
}

#[test]
fn json() {
    let fixtures = two_files();
    let out = render(
        Format::Json,
        &borrow(&fixtures),
        &options(FullStyle::Ascii, false),
    )
    .stdout;
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files: Vec<&str> = value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "dir/a,b:c%.hujson",
            "policy.hujson",
            "policy.hujson",
            "policy.hujson"
        ]
    );
    insta::assert_snapshot!(out);
}

#[test]
fn json_of_nothing() {
    insta::assert_snapshot!(render(Format::Json, &[], &options(FullStyle::Ascii, false)).stdout, @r#"
    {
      "diagnostics": []
    }
    "#);
}

#[test]
fn github_escapes_properties_and_messages() {
    let fixtures = two_files();
    let out = render(
        Format::Github,
        &borrow(&fixtures),
        &options(FullStyle::Ascii, true),
    );
    assert_eq!(out.step_summary, None, "no overflow, no summary");
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn github_overflow_goes_to_the_step_summary() {
    let fixtures = vec![many()];
    let out = render(
        Format::Github,
        &borrow(&fixtures),
        &options(FullStyle::Ascii, true),
    );
    assert_eq!(out.stdout.matches("::error ").count(), 10);
    assert_eq!(out.stdout.matches("::warning ").count(), 10);
    assert_eq!(out.stdout.matches("::notice ").count(), 1);
    let summary = out.step_summary.clone().unwrap();
    assert_eq!(
        summary.matches("| `many.hujson:").count(),
        3,
        "2 errors + 1 warning overflow"
    );
    insta::assert_snapshot!("github_overflow_stdout", out.stdout);
    insta::assert_snapshot!("github_overflow_summary", summary);
}

#[test]
fn github_overflow_without_a_summary_goes_to_the_log() {
    let fixtures = vec![many()];
    let out = render(
        Format::Github,
        &borrow(&fixtures),
        &options(FullStyle::Ascii, false),
    );
    assert_eq!(out.step_summary, None);
    let tail: Vec<&str> = out.stdout.lines().skip(21).collect();
    insta::assert_snapshot!(tail.join("\n"), @r"
    tailpolicy: 3 more findings than GitHub shows as annotations (at most 10 of each type per step):
    many.hujson:12:2: error[TP0298] finding 10 (error) | piped
    many.hujson:13:2: error[TP0298] finding 11 (error) | piped
    many.hujson:24:2: warning[TP1998] finding 22 (warning) | piped
    ");
}

#[test]
fn sarif() {
    let fixtures = vec![
        policy(),
        (SourceFile::new("/repo/sub/dir/b.hujson", "{}"), awkward().1),
    ];
    let out = render(
        Format::Sarif,
        &borrow(&fixtures),
        &options(FullStyle::Ascii, false),
    )
    .stdout;
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["version"], "2.1.0");
    let rule_ids: Vec<&str> = value["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rule_ids, ["TP0298", "TP1998", "TP1999"]);
    for result in value["runs"][0]["results"].as_array().unwrap() {
        let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rule_ids[index], result["ruleId"]);
    }
    insta::assert_snapshot!(out);
}

#[test]
fn summary_lines() {
    let fixtures = two_files();
    assert_eq!(
        summary_line(&borrow(&fixtures)),
        "found 1 error, 2 warnings and 1 info in 2 files"
    );
    let clean = vec![(SourceFile::new("a", ""), Vec::new())];
    assert_eq!(summary_line(&borrow(&clean)), "no problems found in 1 file");
}
