//! #16 item 6, "Console and API": the page sign-in of the console and of the postmortem pages.
//! One test per point, each named after it:
//! - `csrf_tokens_on_every_form`: every `POST` form of a signed-in page carries the session's
//!   CSRF token, and a form post from a session without it, or with another, is refused (403);
//!   the sign-in form carries a token bound to a cookie, and a sign-in without it is refused;
//! - `session_cookie_is_a_secure_host_cookie_holding_a_session_id`: sign-in sets
//!   `__Host-...; Secure; HttpOnly; SameSite=Strict; Path=/` holding a random id, not the
//!   token; a cookie holding the raw token signs nobody in; sign-out deletes the session;
//! - `no_token_in_urls`: `?token=` signs nobody in (on every page) and the sign-in is a
//!   `POST` form.
//!
//! Each failed on the code before the change (the cookie was `token=<token>`, pages had no
//! CSRF field and `?token=` signed a visitor in).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::console::{ConsolePipeline, HELPDESK, SRE, VIEWER, start_with, tokens};
use opsline_e2e::postmortem::spawn_postmortem_on;
use opsline_e2e::session::{client, form_body, sign_in, sign_in_form};
use opsline_e2e::spawn::reserve_loopback;
use opsline_e2e::spawn_broker;
use opsline_events::logs::IncidentStatus;

async fn get(url: &str, cookie: Option<&str>) -> (u16, String, Option<String>) {
    let mut request = client().get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), response.text().await.unwrap(), set_cookie)
}

async fn post_form(url: &str, cookie: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = client()
        .post(url)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(fields))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Every `<form method="post"` of `html` followed by the CSRF field holding `csrf`.
fn every_post_form_has(html: &str, csrf: &str) -> (usize, usize) {
    let field = format!("<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">");
    let forms = html
        .match_indices("<form method=\"post\"")
        .map(|(i, _)| i)
        .collect::<Vec<_>>();
    let with = forms
        .iter()
        .filter(|&&i| {
            let end = html[i..].find('>').unwrap() + i + 1;
            html[end..].starts_with(&field)
        })
        .count();
    (forms.len(), with)
}

struct Both {
    pipeline: ConsolePipeline,
    console: String,
    postmortem: String,
    _postmortem: opsline_e2e::spawn::Spawned<opsline_postmortem::PostmortemService>,
    _broker: opsline_e2e::TestBroker,
}

async fn start(test: &str) -> Both {
    let broker = spawn_broker().await;
    let pm_listen = reserve_loopback();
    let pm_url = format!("http://{pm_listen}");
    let pipeline = start_with(broker.config(), test, &pm_url).await;
    let console = pipeline.console.url.clone();
    let running = spawn_postmortem_on(pipeline.kafka.clone(), &pipeline.names, tokens(), &pm_listen, |c| {
        c.console_url = console.clone();
    })
    .await;
    running.wait_ready(Duration::from_secs(60)).await;
    Both {
        pipeline,
        console,
        postmortem: pm_url,
        _postmortem: running,
        _broker: broker,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_tokens_on_every_form() {
    let both = &start("csrfforms").await;
    let base = &both.console;
    let open = both
        .pipeline
        .incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open)
        .map(|i| i.incident_id)
        .collect::<Vec<_>>();
    // The sign-in form too: a sign-in without the form's token (another site posting it) is
    // refused; with the token of another visitor's form, too.
    for pages in [base, &both.postmortem] {
        let (status, body) = post_form(&format!("{pages}/login"), "", &[("token", SRE)]).await;
        assert_eq!(status, 403, "{pages}: {body}");
        let (cookie, csrf) = sign_in_form(pages).await;
        assert!(cookie.contains("_login=") && !csrf.is_empty(), "{cookie} {csrf}");
        let (_, other) = sign_in_form(pages).await;
        let (status, _) = post_form(&format!("{pages}/login"), &cookie, &[("token", SRE), ("csrf", &other)]).await;
        assert_eq!(status, 403, "{pages}");
    }
    let sre = sign_in(base, SRE).await;
    // Every POST form of every console page carries this session's token.
    for path in ["/".to_owned(), "/queue".to_owned(), format!("/incidents/{}", open[0])] {
        let (status, html, _) = get(&format!("{base}{path}"), Some(&sre.cookie)).await;
        assert_eq!(status, 200, "{path}");
        let (forms, with) = every_post_form_has(&html, &sre.csrf);
        assert!(
            forms >= 1 && forms == with,
            "{path}: {with} of {forms} forms carry the token"
        );
    }
    // A form post without the token, or with another session's, is refused; with it, done.
    let action = format!("{base}/incidents/{}/assign", open[0]);
    let (status, body) = post_form(&action, &sre.cookie, &[("assignee", "mallory")]).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("CSRF"), "{body}");
    let other = sign_in(base, SRE).await;
    assert_ne!(other.csrf, sre.csrf, "one token per session");
    let (status, _) = post_form(&action, &sre.cookie, &[("assignee", "mallory"), ("csrf", &other.csrf)]).await;
    assert_eq!(status, 403);
    let (status, _) = post_form(&format!("{base}/logout"), &sre.cookie, &[]).await;
    assert_eq!(status, 403, "sign-out is a form too");
    let helpdesk = sign_in(base, HELPDESK).await;
    let (status, _) = post_form(
        &format!("{base}/tickets/T-1/reroute"),
        &helpdesk.cookie,
        &[("queue", "Network")],
    )
    .await;
    assert_eq!(status, 403, "re-route without the token");
    let (status, _) = post_form(&action, &sre.cookie, &[("assignee", "bob"), ("csrf", &sre.csrf)]).await;
    assert_eq!(status, 303, "with the token the form works");

    // The postmortem pages: same rule.
    let pm = sign_in(&both.postmortem, SRE).await;
    let (status, html, _) = get(&format!("{}/", both.postmortem), Some(&pm.cookie)).await;
    assert_eq!(status, 200);
    let (forms, with) = every_post_form_has(&html, &pm.csrf);
    assert!(forms >= 1 && forms == with, "postmortem home: {with} of {forms}");
    let (status, body) = post_form(
        &format!(
            "{}/postmortems/00000000-0000-0000-0000-000000000000/comments",
            both.postmortem
        ),
        &pm.cookie,
        &[("text", "hi")],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("CSRF"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookie_is_a_secure_host_cookie_holding_a_session_id() {
    let both = &start("csrfcookie").await;
    for (base, name) in [
        (&both.console, "__Host-opsline_session="),
        (&both.postmortem, "__Host-opsline_postmortem_session="),
    ] {
        let session = sign_in(base, VIEWER).await;
        let set = &session.set_cookie;
        assert!(set.starts_with(name), "{set}");
        for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.split(';').any(|p| p.trim() == part), "{part} missing: {set}");
        }
        assert!(!set.contains("Domain"), "{set}");
        let id = session.cookie.split_once('=').unwrap().1;
        assert!(!id.contains(VIEWER) && id.len() >= 32, "{set}");
        // The raw token in a cookie signs nobody in; the session id does, until sign-out.
        for cookie in [format!("token={VIEWER}"), format!("{name}{VIEWER}")] {
            assert_eq!(get(&format!("{base}/"), Some(&cookie)).await.0, 401, "{cookie}");
        }
        let (status, html, _) = get(&format!("{base}/"), Some(&session.cookie)).await;
        assert_eq!(status, 200);
        assert!(!html.contains(VIEWER), "the token is not in the page");
        let response = client()
            .post(format!("{base}/logout"))
            .header("cookie", &session.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(&[("csrf", session.csrf.as_str())]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let cleared = response.headers()["set-cookie"].to_str().unwrap();
        assert!(cleared.starts_with(name) && cleared.contains("Max-Age=0"), "{cleared}");
        assert_eq!(
            get(&format!("{base}/"), Some(&session.cookie)).await.0,
            401,
            "sign-out deletes the session on the server"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_in_urls() {
    let both = &start("csrfurls").await;
    let open = both.pipeline.incidents.keys().next().copied().unwrap();
    let console = &both.console;
    for url in [
        format!("{console}/?token={SRE}"),
        format!("{console}/queue?token={SRE}"),
        format!("{console}/insights?token={SRE}"),
        format!("{console}/incidents/{open}?token={SRE}"),
        format!("{}/?token={SRE}", both.postmortem),
        format!("{}/?q=disk&token={SRE}", both.postmortem),
    ] {
        let (status, html, set_cookie) = get(&url, None).await;
        // Refused: the sign-in page (401), or 400 where `token` is an unknown parameter.
        assert!(status == 401 || status == 400, "{url} signed a visitor in ({status})");
        // At most the sign-in form's own token cookie, never a session.
        assert!(
            set_cookie.as_deref().is_none_or(|c| c.contains("_login=")),
            "{url}: {set_cookie:?}"
        );
        assert!(
            status == 400 || html.contains("<form method=\"post\" action=\"/login\""),
            "{url}: {html}"
        );
    }
}
