//! Tailscale's error shape: `{"message": "...", "data": [{"user", "errors", "warnings"}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One entry of an error's `data`: the problems found for one test source (or, with an
/// empty `user`, for the policy itself).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserData {
    /// The test source (`user1@example.com`, `tag:ci`), or empty.
    pub user: String,
    /// The errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// An API error: a status and Tailscale's JSON error body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// `message`.
    pub message: String,
    /// `data`, when there are per-source details.
    pub data: Vec<UserData>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "<[UserData]>::is_empty")]
    data: &'a [UserData],
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            data: Vec::new(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// 401, as Tailscale answers a missing or wrong key.
    pub fn unauthorized() -> Self {
        Self::new(401, "API token invalid")
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// 412, as Tailscale answers an `If-Match` that does not match.
    pub fn precondition_failed() -> Self {
        Self::new(412, "precondition failed, invalid old hash")
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// With `data`.
    pub fn with_data(mut self, data: Vec<UserData>) -> Self {
        self.data = data;
        self
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::to_string(&Body {
            message: &self.message,
            data: &self.data,
        })
        .unwrap_or_else(|_| String::from("{\"message\":\"internal error\"}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response()
    }
}
