//! The postmortem review and its evidence links, end to end: gateway -> logintel -> console
//! with Apache_2k.log replayed, and the postmortem service linked to the console both ways.
//! An SRE declares a postmortem on a real incident and resolves it (console API); the record
//! view answers its cited raw-log offsets (redacted, only to those who may see the incident).
//! Then headless Chromium, on pages without script: edit a section, add a comment and an
//! action item, "Mark reviewed" refused with the open prompts named, prompts answered and
//! waived, "Mark reviewed" accepted; follow a citation to its timeline entry, a raw-log
//! offset to the console's record view, and a runbook path to the runbook rendered as
//! Markdown; the console's incident page lists similar postmortems and runbooks. Screenshots
//! go to `docs/screenshots/` with `OPSLINE_UPDATE_SCREENSHOTS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::chromium::{Browser, chromium, screenshot_dir};
use opsline_e2e::console::{HELPDESK, SRE, VIEWER, start_with, tokens};
use opsline_e2e::postmortem::{spawn_postmortem_on, wait_for_postmortem};
use opsline_e2e::session::{browser_sign_in, sign_in};
use opsline_e2e::spawn::reserve_loopback;
use opsline_e2e::spawn_broker;
use opsline_events::logs::IncidentStatus;
use opsline_events::logs::RawLog;
use opsline_events::topics;
use serde_json::Value;

async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Sets the value of the first element matching `selector`.
async fn fill(browser: &mut Browser, selector: &str, value: &str) {
    let set = browser
        .eval(&format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; e.value = {}; return true; }})()",
            serde_json::to_string(selector).unwrap(),
            serde_json::to_string(value).unwrap()
        ))
        .await;
    assert_eq!(set, Value::Bool(true), "nothing matches {selector}");
}

async fn open_prompts(browser: &mut Browser) -> u64 {
    browser
        .eval("document.querySelectorAll('#prompts .prompt').length")
        .await
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_in_chromium_and_evidence_links() {
    let broker = spawn_broker().await;
    let pm_listen = reserve_loopback();
    let pm_url = format!("http://{pm_listen}");
    let pipeline = start_with(broker.config(), "pmreviewpage", &pm_url).await;
    let console = pipeline.console.url.clone();
    let postmortem = spawn_postmortem_on(pipeline.kafka.clone(), &pipeline.names, tokens(), &pm_listen, |c| {
        c.console_url = console.clone();
        c.alert_wait_ms = 2_000;
    })
    .await;
    postmortem.wait_ready(Duration::from_secs(60)).await;
    let raw_topic = pipeline.names.name(&topics::RAW_LOGS);

    // A real incident with cited offsets: declared, then resolved, by an SRE through the console.
    let incident = pipeline
        .incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open && i.evidence.iter().any(|e| e.topic == raw_topic))
        .max_by_key(|i| i.alert_ids.len())
        .expect("an open incident citing raw-log offsets")
        .clone();
    let id = incident.incident_id;
    assert_eq!(post(&format!("{console}/v1/incidents/{id}/postmortem"), SRE).await, 200);
    assert_eq!(post(&format!("{console}/v1/incidents/{id}/resolve"), SRE).await, 200);
    let pm_id = opsline_postmortem::postmortem_id(id).to_string();
    wait_for_postmortem(&pm_url, SRE, &pm_id, Duration::from_secs(90)).await;

    // The record view: the cited record read back from the raw topic, redacted.
    let cited = incident.evidence.iter().find(|e| e.topic == raw_topic).unwrap().clone();
    let records = opsline_kafka::reader::read_until_idle(
        &pipeline.kafka,
        &raw_topic,
        Duration::from_secs(2),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let original = records
        .iter()
        .find(|r| r.partition == cited.partition && r.offset == cited.offset)
        .expect("the cited record exists")
        .envelope::<RawLog>()
        .unwrap()
        .data;
    let record_url = format!("{console}/v1/records/{}/{}", cited.partition, cited.offset);
    let (status, record) = get(&record_url, Some(SRE)).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(
        record["line"],
        opsline_privacy::Redactor::default().redact(&original.line)
    );
    assert_eq!(record["service"], original.service);
    assert!(
        record["incidents"]
            .as_array()
            .unwrap()
            .contains(&Value::String(id.to_string())),
        "{record}"
    );
    assert_eq!(
        get(&record_url, Some(VIEWER)).await.0,
        200,
        "a viewer reads cited evidence"
    );
    assert_eq!(get(&record_url, None).await.0, 401);
    let uncited = format!("{console}/v1/records/{}/{}", cited.partition, cited.offset + 1_000_000);
    assert_eq!(get(&uncited, Some(SRE)).await.0, 404, "only cited records are read");

    // The postmortem page links its evidence.
    let page = reqwest::Client::new()
        .get(format!("{pm_url}/postmortems/{pm_id}"))
        .header("cookie", sign_in(&pm_url, SRE).await.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("class=\"cite\" href=\"#T1\"") && page.contains("<li id=\"T1\">"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "href=\"{console}/records/{}/{}\"",
            cited.partition, cited.offset
        )),
        "offsets link to the record view: {page}"
    );
    assert!(
        page.contains(&format!("href=\"{console}/incidents/{id}#alert-")),
        "alert ids link: {page}"
    );
    assert!(page.contains("class=\"runbook\" href=\"/runbooks/alert-"), "{page}");
    // A helpdesk token gets no review tools on a postmortem it cannot see yet (a draft).
    let status = reqwest::Client::new()
        .get(format!("{pm_url}/postmortems/{pm_id}"))
        .header("cookie", sign_in(&pm_url, HELPDESK).await.cookie)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);

    let Some(bin) = chromium() else { return };
    let temp = tempfile::tempdir().unwrap();
    let shots = screenshot_dir(temp.path());
    let mut browser = Browser::start(&bin, &temp.path().join("profile")).await;
    let reading = format!("{pm_url}/postmortems/{pm_id}");
    // Each service keeps its own sessions: sign in on both (two `__Host-` cookies, one host).
    browser_sign_in(&mut browser, &console, SRE).await;
    browser_sign_in(&mut browser, &pm_url, SRE).await;
    browser.navigate(&reading).await;
    browser
        .wait_for("document.querySelector('#prompts')", Duration::from_secs(30))
        .await;
    let prompts = open_prompts(&mut browser).await;
    assert!(prompts >= 2, "the draft asks the reviewer");

    // Edit the summary.
    browser.click("#s-summary details.edit summary").await;
    fill(
        &mut browser,
        "#s-summary textarea[name=markdown]",
        "Apache kept failing to find its worker processes [T1]. Edited in the browser.",
    )
    .await;
    browser.click("#s-summary details.edit button").await;
    browser
        .wait_for(
            "document.querySelector('#history') && document.querySelector('#history').innerText.includes('edited Summary')",
            Duration::from_secs(30),
        )
        .await;
    assert!(browser.html().await.contains("Edited in the browser."));
    let size = browser.screenshot(&shots.join("postmortem-edit.png")).await;
    assert!(size > 10_000, "edit screenshot too small ({size} bytes)");

    // A comment and an action item.
    fill(
        &mut browser,
        "#add-comment textarea",
        "The worker count matches the alert [T1].",
    )
    .await;
    browser.click("#add-comment button").await;
    browser
        .wait_for("document.querySelector('#C1')", Duration::from_secs(30))
        .await;
    fill(
        &mut browser,
        "#add-action input[name=title]",
        "Alert on missing Apache workers",
    )
    .await;
    fill(&mut browser, "#add-action input[name=owner]", "bob").await;
    fill(&mut browser, "#add-action select[name=priority]", "P2").await;
    fill(&mut browser, "#add-action input[name=due]", "2027-01-31").await;
    browser.click("#add-action button").await;
    browser
        .wait_for("document.querySelector('tr#A1')", Duration::from_secs(30))
        .await;
    let row = browser.eval("document.querySelector('tr#A1').innerText").await;
    let row = row.as_str().unwrap_or_default().to_owned();
    assert!(
        row.contains("bob") && row.contains("P2") && row.contains("2027-01-31"),
        "{row}"
    );
    let size = browser.screenshot(&shots.join("postmortem-comment-action.png")).await;
    assert!(size > 10_000, "comment screenshot too small ({size} bytes)");

    // "Mark reviewed" with prompts open: refused, naming them.
    browser.click("button#review").await;
    browser
        .wait_for("document.querySelector('ul.open-prompts')", Duration::from_secs(30))
        .await;
    let refused = browser.html().await;
    assert!(refused.contains("422") && refused.contains("Impact"), "{refused}");
    let size = browser.screenshot(&shots.join("postmortem-review-refused.png")).await;
    assert!(size > 10_000, "refusal screenshot too small ({size} bytes)");

    // Answer the first prompt, waive the others, then review.
    browser.navigate(&reading).await;
    browser
        .wait_for("document.querySelector('#prompts')", Duration::from_secs(30))
        .await;
    fill(
        &mut browser,
        "#prompts .prompt textarea[name=answer]",
        "No user request failed.",
    )
    .await;
    browser.click("#prompts .prompt details button").await;
    let mut left = prompts;
    while left > 0 {
        browser
            .wait_for(
                &format!("document.querySelectorAll('#prompts .prompt').length < {left}"),
                Duration::from_secs(30),
            )
            .await;
        left = open_prompts(&mut browser).await;
        if left > 0 {
            fill(
                &mut browser,
                "#prompts .prompt input[name=reason]",
                "not knowable from the logs",
            )
            .await;
            browser.click("#prompts .prompt details:nth-of-type(2) button").await;
        }
    }
    browser.click("button#review").await;
    browser
        .wait_for(
            "document.querySelector('strong.status') && document.querySelector('strong.status').innerText === 'reviewed'",
            Duration::from_secs(30),
        )
        .await;
    let html = browser.html().await;
    assert!(
        html.contains("marked reviewed") && html.contains("Waived by sam"),
        "{html}"
    );
    assert!(html.contains("Sign out"), "a sign-out button");
    let size = browser.screenshot(&shots.join("postmortem-reviewed.png")).await;
    assert!(size > 10_000, "reviewed screenshot too small ({size} bytes)");

    // Follow a citation to its timeline entry.
    browser.click("#s-summary a.cite").await;
    browser
        .wait_for(
            "location.hash === '#T1' && document.querySelector(':target') && document.querySelector(':target').id === 'T1'",
            Duration::from_secs(10),
        )
        .await;
    // Follow a raw-log offset to the console's record view (signed in on the console above).
    browser.click("a.offset").await;
    browser
        .wait_for("document.querySelector('pre.record')", Duration::from_secs(30))
        .await;
    let html = browser.html().await;
    assert!(html.contains("Read back from") && html.contains("Cited by"), "{html}");
    let size = browser.screenshot(&shots.join("console-record.png")).await;
    assert!(size > 10_000, "record screenshot too small ({size} bytes)");

    // The console's incident page: offsets link to the record view; similar documents listed.
    browser.navigate(&format!("{console}/incidents/{id}")).await;
    browser
        .wait_for("document.querySelector('table.timeline')", Duration::from_secs(30))
        .await;
    let html = browser.html().await;
    assert!(html.contains("class=\"offset\" href=\"/records/"), "{html}");
    assert!(
        html.contains("<ul class=\"similar\">") && html.contains(&format!("{pm_url}/postmortems/")),
        "{html}"
    );
    let size = browser.screenshot(&shots.join("console-incident-similar.png")).await;
    assert!(size > 10_000, "incident screenshot too small ({size} bytes)");

    // Follow a runbook path from the postmortem: rendered as Markdown.
    browser.navigate(&reading).await;
    browser
        .wait_for("document.querySelector('a.runbook')", Duration::from_secs(30))
        .await;
    browser.click("a.runbook").await;
    browser
        .wait_for(
            "document.querySelector('article.runbook pre code')",
            Duration::from_secs(30),
        )
        .await;
    let html = browser.html().await;
    assert!(html.contains("<h2>") && html.contains("&lt;*&gt;"), "{html}");
    let size = browser.screenshot(&shots.join("postmortem-runbook.png")).await;
    assert!(size > 10_000, "runbook screenshot too small ({size} bytes)");
    eprintln!("screenshots in {}", shots.display());

    postmortem.stop().await.expect("postmortem service ran without error");
    pipeline.console.stop().await.expect("console stops cleanly");
}
