//! Why an endpoint could not answer: an HTTP status and one line of text.

use std::sync::Arc;
use tailpolicy_compiler::eval::Tailnet;
use tailpolicy_policy::Policy;
use tailpolicy_workspace::{Unavailable, Workspace};

/// An endpoint's failure: `{"message": ...}` with this status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// HTTP status code.
    pub status: u16,
    /// What went wrong, one line, lower case.
    pub message: String,
}

impl Problem {
    /// A 400: the request itself is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
        }
    }

    /// A 409: the accepted policy cannot answer this (it does not parse).
    pub fn unavailable(why: &Unavailable) -> Self {
        let message = match why {
            Unavailable::NoPolicy => "the policy does not parse",
            Unavailable::Errors => "the policy has errors",
            Unavailable::NoInventory => "there is no node inventory",
        };
        Self {
            status: 409,
            message: message.to_owned(),
        }
    }
}

/// The merged policy (even with diagnostics) and the evaluator's tailnet.
pub fn evaluable(ws: &Workspace) -> Result<(Arc<Policy>, Arc<Tailnet>), Problem> {
    let policy = ws
        .policy()
        .ok_or_else(|| Problem::unavailable(&Unavailable::NoPolicy))?;
    let tailnet = ws.tailnet().map_err(|e| Problem::unavailable(&e))?;
    Ok((policy, tailnet))
}
