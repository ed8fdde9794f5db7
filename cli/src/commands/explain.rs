//! `tailpolicy explain CODE` and `tailpolicy explain --list`: the rule documentation.

use crate::exit::Exit;
use tailpolicy_policy::Rule;
use tailpolicy_policy::did_you_mean;
use tailpolicy_policy::rules::{ALL_RULES, find_rule, render_rule_markdown};

/// Arguments of `tailpolicy explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The code (e.g. `TP0601`) or rule name to explain.
    #[arg(required_unless_present = "list", conflicts_with = "list")]
    pub code: Option<String>,
    /// List every code with its default severity, name and summary.
    #[arg(long)]
    pub list: bool,
}

/// Runs `tailpolicy explain`.
pub fn run(args: &ExplainArgs) -> Exit {
    if args.list {
        let _ = crate::stdout::print_out(&list(ALL_RULES));
        return Exit::Clean;
    }
    let code = args.code.as_deref().unwrap_or_default();
    match find_rule(code) {
        Some(rule) => {
            let _ = crate::stdout::print_out(&explanation(rule));
            Exit::Clean
        }
        None => {
            let hint = match did_you_mean(code, ALL_RULES.iter().map(|r| r.code)) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "run `tailpolicy explain --list` to see every code".to_owned(),
            };
            eprintln!("error: unknown code `{code}`; {hint}");
            Exit::Failure
        }
    }
}

/// One rule's documentation: `CODE` heading line, then [`render_rule_markdown`].
pub fn explanation(rule: &Rule) -> String {
    format!("# {}\n\n{}", rule.code, render_rule_markdown(rule, 2))
}

/// `CODE  severity  name  summary`, one rule per line, columns aligned.
pub fn list(rules: &[&Rule]) -> String {
    let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for rule in rules {
        out.push_str(&format!(
            "{}  {:<7}  {:<name_width$}  {}\n",
            rule.code,
            rule.severity.as_str(),
            rule.name,
            rule.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{NOTE, UNDEFINED, UNUSED};

    #[test]
    fn list_is_aligned() {
        insta::assert_snapshot!(list(&[&UNDEFINED, &UNUSED, &NOTE]), @r"
        TP0298  error    test-undefined-tag  test rule: a tag is used but not defined
        TP1998  warning  test-unused-group   test rule: a group | is never used
        TP1999  info     test-note           test rule: something worth knowing
        ");
    }

    #[test]
    fn explanation_has_the_code_and_the_markdown() {
        insta::assert_snapshot!(explanation(&UNUSED), @r"
        # TP1998

        **test-unused-group** · suspicious · default severity: warning

        test rule: a group | is never used

        Test rule.
        ");
    }
}
