//! SSH access as the compiled SSH policy grants it (policy-spec §5.11): the rules a
//! destination node receives, tried with check rules first, each matching on principal
//! and on the mapping of the requested login.

use super::select::{Dst, Identity, Matcher, Src};
use tailpolicy_policy::model::{Origin, SshAction, SshRule, SshUser};

/// What SSH does with a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SshVerdict {
    /// Accepted by this rule.
    Accept(Origin),
    /// Held for a check (re-authentication) by this rule.
    Check(Origin),
    /// No rule matches: rejected.
    Deny,
}

/// Whether rule `users` map the requested `login` for a source with `identity`
/// (exact names, `root`, `autogroup:nonroot` for anyone but root,
/// `localpart:*@domain` for the source user's own local part).
pub fn maps_login(
    users: &[tailpolicy_policy::Spanned<SshUser>],
    login: &str,
    identity: &Identity,
) -> bool {
    if login.is_empty() {
        return false;
    }
    users.iter().any(|u| match &u.value {
        SshUser::Root => login == "root",
        SshUser::NonRoot => login != "root",
        SshUser::Named(n) => n == login,
        SshUser::LocalpartOf(domain) => match identity {
            Identity::User(user) => user.rsplit_once('@').is_some_and(|(local, dom)| {
                local == login && login != "root" && dom.eq_ignore_ascii_case(domain)
            }),
            _ => false,
        },
    })
}

/// The SSH verdict for `src` connecting to node `dst` as `login`.
pub fn ssh_verdict(
    matcher: &Matcher<'_>,
    rules: &[SshRule],
    src: &Src,
    dst: &Dst,
    login: &str,
) -> SshVerdict {
    let applies = |r: &&SshRule| {
        r.dst.iter().any(|d| matcher.dst_matches(d, dst, src))
            && r.src.iter().any(|s| matcher.src_matches(s, src))
            && super::posture::admits(matcher.policy, matcher.tailnet, &r.src_posture, src)
            && maps_login(&r.users, login, &src.identity)
    };
    // A node's rule list has every check rule before every accept rule; the first
    // rule that matches wins.
    if let Some(r) = rules
        .iter()
        .filter(|r| r.action.value == SshAction::Check)
        .find(applies)
    {
        return SshVerdict::Check(r.origin);
    }
    rules
        .iter()
        .filter(|r| r.action.value == SshAction::Accept)
        .find(applies)
        .map_or(SshVerdict::Deny, |r| SshVerdict::Accept(r.origin))
}
