//! Who may change incidents through the API: every `POST` of [`crate::api`] (resolve,
//! acknowledge, assign, declare a postmortem, flush) takes `Authorization: Bearer <token>`
//! with a token of role `sre` from `[logintel] tokens` (the console's and the postmortem
//! service's format: `{name, role, teams, sha256}`); `401` without a known token, `403` for
//! another role. With no token configured every such request is refused (`401`), and the
//! service says so at start-up. Reads (`GET`) stay open.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use opsline_auth::TokenStore;

/// Refuses a request without an SRE token.
pub(crate) async fn require_sre(State(tokens): State<Arc<TokenStore>>, request: Request, next: Next) -> Response {
    let principal = opsline_auth::bearer(request.headers()).and_then(|token| tokens.authenticate(token));
    let Some(principal) = principal else {
        let reason = if tokens.is_empty() {
            "no API token is configured ([logintel] tokens); incidents cannot be changed through the API"
        } else {
            "send `Authorization: Bearer <token>` with an SRE token of [logintel] tokens"
        };
        return opsline_runtime::http::json_error(StatusCode::UNAUTHORIZED, "unauthorized", reason);
    };
    if !principal.may_act_on_incidents() {
        return opsline_runtime::http::json_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("role {} may not change incidents (SREs only)", principal.role_name()),
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use axum::Router;
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use axum::routing::post;
    use opsline_auth::{Role, TokenConfig, hash_token};
    use tower::ServiceExt;

    use super::*;

    fn router(tokens: &[TokenConfig]) -> Router {
        let tokens = Arc::new(TokenStore::new(tokens).unwrap());
        Router::new()
            .route("/v1/incidents/{id}/resolve", post(|| async { "resolved" }))
            .route("/v1/admin/flush", post(|| async { "flushed" }))
            .route_layer(axum::middleware::from_fn_with_state(tokens, require_sre))
    }

    async fn status(router: &Router, path: &str, token: Option<&str>) -> u16 {
        let mut request = HttpRequest::post(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.status().as_u16()
    }

    fn token(name: &str, role: Role, token: &str) -> TokenConfig {
        TokenConfig {
            name: name.into(),
            role,
            teams: Vec::new(),
            sha256: hash_token(token),
        }
    }

    #[tokio::test]
    async fn logintel_resolve_and_flush_require_an_sre_token() {
        let resolve = "/v1/incidents/0190b3c2-0000-7000-8000-000000000001/resolve";
        let none = router(&[]);
        assert_eq!(
            status(&none, resolve, Some("anything")).await,
            401,
            "no token configured"
        );
        let configured = router(&[token("sre", Role::Sre, "t-sre"), token("hd", Role::Helpdesk, "t-hd")]);
        for path in [resolve, "/v1/admin/flush"] {
            assert_eq!(status(&configured, path, None).await, 401, "{path}");
            assert_eq!(status(&configured, path, Some("wrong")).await, 401, "{path}");
            assert_eq!(status(&configured, path, Some("t-hd")).await, 403, "{path}");
            assert_eq!(status(&configured, path, Some("t-sre")).await, 200, "{path}");
        }
    }
}
