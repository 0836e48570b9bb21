//! One sign-in for every Opsline page and API meant for people (the postmortem service, the
//! console): API tokens configured as SHA-256 hashes with a role and teams ([`tokens`]), and
//! how a request presents one, as a bearer token ([`request`]); page sessions in a `__Host-` cookie holding a random id
//! ([`sessions`]) and the CSRF check of every page form ([`csrf`]).
//!
//! Roles and team restrictions are those of the search index ([`Role`], [`Viewer`]): an SRE
//! may act (acknowledge, resolve, review), a helpdesk agent reads and re-routes tickets but
//! not incidents restricted to a team they are not in, a viewer only reads.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod csrf;
pub mod request;
pub mod sessions;
pub mod tokens;

pub use opsline_search::{Role, Viewer};
pub use request::{bearer, cookie_safe};
pub use sessions::{
    CONSOLE_SESSION_COOKIE, DEFAULT_SESSION_CAPACITY, DEFAULT_SESSION_TTL, POSTMORTEM_SESSION_COOKIE, Session,
    SessionStore,
};
pub use tokens::{Principal, TokenConfig, TokenConfigError, TokenStore, generate_token, hash_token, role_name};
