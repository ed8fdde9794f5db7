//! The policy explorer (`tailpolicy-explorer`) on the accepted policy: the store is its
//! [`tailpolicy_explorer::Source`].

use crate::Store;
use axum::Router;
use tailpolicy_workspace::Workspace;

impl tailpolicy_explorer::Source for Store {
    fn with_host<R>(&self, f: impl FnOnce(&Workspace, &str) -> R) -> R {
        self.read(f)
    }
}

/// The explorer's page (`/`) and endpoints (`/explorer/…`) over `store`: merge them into
/// [`crate::router`] before [`crate::service`].
pub fn explorer(store: Store) -> Router {
    tailpolicy_explorer::router(store)
}
