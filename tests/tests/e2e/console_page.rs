//! The console's pages: access control per page over plain HTTP (cookies as a browser sends
//! them, each visitor signed in through `POST /login`), then a real headless Chromium: an SRE
//! signs in through the sign-in form (its `Secure` session cookie kept on `http://127.0.0.1`), sees the incidents
//! home, clicks "Acknowledge" on an incident (a plain form post, no script on the page) and
//! sees it acknowledged, declares a postmortem and resolves from the incident page, and
//! re-routes a ticket from the helpdesk queue; screenshots of each page are written by the
//! test (to `docs/screenshots/` with `OPSLINE_UPDATE_SCREENSHOTS=1`, else to a temporary folder).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::chromium::{Browser, chromium, screenshot_dir};
use opsline_e2e::console::{FINANCE, HELPDESK, SRE, VIEWER, start};
use opsline_e2e::session::{browser_sign_in, sign_in};
use opsline_e2e::spawn_broker;
use opsline_events::logs::IncidentStatus;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(url: &str, token: Option<&str>) -> (u16, String) {
    let mut request = client().get(url);
    if let Some(token) = token {
        request = request.header("cookie", sign_in(url, token).await.cookie);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn form(url: &str, token: &str, fields: &[(&str, &str)]) -> (u16, String, Option<String>) {
    let session = sign_in(url, token).await;
    let mut fields = fields.to_vec();
    fields.push(("csrf", &session.csrf));
    let response = client()
        .post(url)
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&fields).unwrap())
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), response.text().await.unwrap(), location)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_enforce_roles_and_an_acknowledge_click_works_in_chromium() {
    let broker = spawn_broker().await;
    let pipeline = start(broker.config(), "consolepage").await;
    let seeded = pipeline.seed().await;
    let base = pipeline.console.url.clone();
    let open = pipeline
        .incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open)
        .map(|i| i.incident_id)
        .collect::<Vec<_>>();
    assert!(open.len() >= 2, "the replay leaves at least two open incidents");
    let secret = seeded.secret.incident_id;

    // Not signed in: the sign-in form, 401, on every page.
    for path in ["/", "/queue", &format!("/incidents/{}", open[0])] {
        let (status, body) = page(&format!("{base}{path}"), None).await;
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("action=\"/login\""), "{path}: {body}");
    }
    // A token in a URL signs nobody in; the sign-in form sets a session cookie.
    let response = client()
        .get(format!("{base}/queue?queue=Hardware&token={VIEWER}"))
        .send()
        .await
        .unwrap();
    // 400: `token` is not a parameter of the page.
    assert_eq!(response.status(), 400);
    assert!(
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("__Host-opsline_session=")),
        "no session from a URL"
    );
    let session = sign_in(&base, VIEWER).await;
    assert!(
        session.set_cookie.starts_with("__Host-opsline_session=") && session.set_cookie.contains("Secure"),
        "{}",
        session.set_cookie
    );

    // A viewer reads every page but gets no action and cannot post one.
    let (status, home) = page(&format!("{base}/"), Some(VIEWER)).await;
    assert_eq!(status, 200);
    assert!(home.contains(&open[0].to_string()), "{home}");
    assert!(
        !home.contains("Acknowledge</button>"),
        "a viewer gets no action buttons"
    );
    assert!(
        !home.contains(&secret.to_string()),
        "restricted incident shown to a viewer outside the team"
    );
    let (status, queue) = page(&format!("{base}/queue"), Some(VIEWER)).await;
    assert_eq!(status, 200);
    assert!(
        queue.contains("Summary of T-1") && !queue.contains("Re-route</button>"),
        "{queue}"
    );
    let (status, denied, _) = form(&format!("{base}/incidents/{}/acknowledge", open[0]), VIEWER, &[]).await;
    assert_eq!(status, 403);
    assert!(
        denied.contains("class=\"error\"") && denied.contains("may not act"),
        "{denied}"
    );
    let (status, _, _) = form(&format!("{base}/tickets/T-1/reroute"), VIEWER, &[("queue", "Network")]).await;
    assert_eq!(status, 403);

    // Helpdesk: no incident actions, no restricted incident, but re-routes tickets.
    let (status, home) = page(&format!("{base}/"), Some(HELPDESK)).await;
    assert_eq!(status, 200);
    assert!(!home.contains("Acknowledge</button>") && !home.contains(&secret.to_string()));
    assert_eq!(page(&format!("{base}/incidents/{secret}"), Some(HELPDESK)).await.0, 404);
    let (status, queue) = page(&format!("{base}/queue"), Some(HELPDESK)).await;
    assert_eq!(status, 200);
    assert!(queue.contains("Re-route</button>"));
    let (status, _, location) = form(
        &format!("{base}/tickets/T-3/reroute"),
        HELPDESK,
        &[
            ("queue", "Network"),
            ("note", "network issue"),
            ("back", "/queue?queue=Network"),
        ],
    )
    .await;
    assert_eq!((status, location.as_deref()), (303, Some("/queue?queue=Network")));
    let (_, network) = page(&format!("{base}/queue?queue=Network"), Some(HELPDESK)).await;
    assert!(
        network.contains("data-id=\"T-3\"") && network.contains("re-routed by hal"),
        "{network}"
    );
    let (status, _, _) = form(&format!("{base}/incidents/{}/resolve", open[0]), HELPDESK, &[]).await;
    assert_eq!(status, 403);

    // The finance team sees its restricted incident and the alert's sample line.
    let (status, secret_page) = page(&format!("{base}/incidents/{secret}"), Some(FINANCE)).await;
    assert_eq!(status, 200);
    assert!(
        secret_page.contains("Restricted to") && secret_page.contains("class=\"alert\""),
        "{secret_page}"
    );

    // An SRE: the incident page has the timeline, the actions and the postmortem line.
    let (status, incident_page) = page(&format!("{base}/incidents/{}", seeded.linked), Some(SRE)).await;
    assert_eq!(status, 200);
    assert!(
        incident_page.contains("class=\"alert\"") && incident_page.contains("<pre>"),
        "{incident_page}"
    );
    assert!(incident_page.contains("Summary of T-1") || incident_page.contains("T-1"));
    // Each alert row links the runbook of its kind on the postmortem pages.
    let rows = incident_page.matches("class=\"alert\"").count();
    let runbooks = incident_page.matches("class=\"runbook\" href=\"").count();
    assert_eq!(runbooks, rows, "one runbook link per (built-in) alert row");
    assert!(incident_page.contains("/runbooks/alert-"), "{incident_page}");
    // Assign through the form (no JavaScript): back to the page it came from.
    let back = format!("/incidents/{}", open[1]);
    let (status, _, location) = form(
        &format!("{base}/incidents/{}/assign", open[1]),
        SRE,
        &[("assignee", "bob"), ("back", &back)],
    )
    .await;
    assert_eq!((status, location.as_deref()), (303, Some(back.as_str())));
    let (_, assigned) = page(&format!("{base}{back}"), Some(SRE)).await;
    assert!(assigned.contains("assigned to bob"), "{assigned}");

    // Headless Chromium: sign in, click Acknowledge on the first open incident's row.
    let Some(bin) = chromium() else { return };
    let temp = tempfile::tempdir().unwrap();
    let shots = screenshot_dir(temp.path());
    let mut browser = Browser::start(&bin, &temp.path().join("profile")).await;
    browser_sign_in(&mut browser, &base, SRE).await;
    browser.navigate(&format!("{base}/")).await;
    browser
        .wait_for("document.querySelector('table.incidents')", Duration::from_secs(30))
        .await;
    let row = format!("tr.incident[data-id=\"{}\"]", open[0]);
    let html = browser.html().await;
    assert!(html.contains("signed in as sam"), "{html}");
    assert!(!html.contains(SRE), "the token stays out of the page");
    assert!(html.contains("name=\"csrf\""), "the forms carry the CSRF token");
    let clicked = browser
        .eval(&format!(
            "(() => {{ const b = document.querySelector('{row} button[value=acknowledge]'); if (!b) return false; b.click(); return true; }})()"
        ))
        .await;
    assert_eq!(clicked, serde_json::Value::Bool(true), "no Acknowledge button in {row}");
    browser
        .wait_for(
            &format!(
                "document.querySelector('{row}') && document.querySelector('{row}').innerText.includes('acked by sam')"
            ),
            Duration::from_secs(30),
        )
        .await;
    let size = browser.screenshot(&shots.join("console-incidents.png")).await;
    assert!(size > 10_000, "home screenshot too small ({size} bytes)");
    // The acknowledgement went through logintel: its own state has it.
    let state = reqwest::get(format!("{}/v1/incidents/{}", pipeline.logintel.url, open[0]))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(state["response"]["acknowledged_by"], "sam");

    browser.navigate(&format!("{base}/incidents/{}", seeded.linked)).await;
    browser
        .wait_for("document.querySelector('table.timeline')", Duration::from_secs(30))
        .await;
    let size = browser.screenshot(&shots.join("console-incident.png")).await;
    assert!(size > 10_000, "incident screenshot too small ({size} bytes)");
    // Declare a postmortem, then resolve, from the incident page (clicks, no script on the page).
    let target = open[2 % open.len()];
    browser.navigate(&format!("{base}/incidents/{target}")).await;
    browser
        .wait_for("document.querySelector('table.timeline')", Duration::from_secs(30))
        .await;
    browser.click("button[value=postmortem]").await;
    browser
        .wait_for(
            "document.body.innerText.includes('declared by sam')",
            Duration::from_secs(30),
        )
        .await;
    browser.click("button[value=resolve]").await;
    browser
        .wait_for(
            "document.querySelector('.status-resolved') && document.body.innerText.includes('by sam')",
            Duration::from_secs(30),
        )
        .await;
    let html = browser.html().await;
    assert!(
        html.contains("class=\"postmortem\""),
        "a link to the postmortem: {html}"
    );
    let size = browser.screenshot(&shots.join("console-incident-resolved.png")).await;
    assert!(size > 10_000, "resolved incident screenshot too small ({size} bytes)");

    // Re-route T-2 from the helpdesk queue.
    browser.navigate(&format!("{base}/queue")).await;
    browser
        .wait_for("document.querySelector('table.tickets')", Duration::from_secs(30))
        .await;
    let chosen = browser
        .eval(
            "(() => { const row = document.querySelector('tr.ticket[data-id=\"T-2\"]'); \
             row.querySelector('select[name=queue]').value = 'Hardware'; \
             row.querySelector('input[name=note]').value = 'a laptop, not the network'; \
             row.querySelector('form button').click(); return true; })()",
        )
        .await;
    assert_eq!(chosen, serde_json::Value::Bool(true));
    browser
        .wait_for(
            "(() => { const row = document.querySelector('tr.ticket[data-id=\"T-2\"]'); \
             return row && row.innerText.includes('re-routed by sam from Network'); })()",
            Duration::from_secs(30),
        )
        .await;
    let size = browser.screenshot(&shots.join("console-queue.png")).await;
    assert!(size > 10_000, "queue screenshot too small ({size} bytes)");
    // What the automation did and cost (LLM calls, triage decisions, self-service), so the
    // insights screenshot shows those charts with data.
    pipeline.publish_automation().await;
    browser.navigate(&format!("{base}/insights")).await;
    browser
        .wait_for(
            "document.querySelectorAll('figure.chart svg rect').length > 0",
            Duration::from_secs(30),
        )
        .await;
    let html = browser.html().await;
    assert!(
        html.contains("Mean time to acknowledge") && html.contains("apache (1)"),
        "{html}"
    );
    for expected in [
        "Log lines received per hour (event time), by service",
        "LLM calls per use case",
        "ticket_enrichment p95",
        "postmortem p50",
        "Triaged tickets by disposition (5 triaged)",
        "4 tickets deflected",
    ] {
        assert!(html.contains(expected), "the insights page lacks {expected:?}: {html}");
    }
    assert!(!html.contains("Not available"), "every chart has its data: {html}");
    let size = browser.screenshot(&shots.join("console-insights.png")).await;
    assert!(size > 10_000, "insights screenshot too small ({size} bytes)");
    eprintln!("screenshots in {}", shots.display());

    pipeline.console.stop().await.expect("console stops cleanly");
}
