//! The postmortem review API on a real broker: every action (section edit, prompt answer and
//! waiver, comment, action item add/edit/close, review, publish) and its access control
//! (a viewer changes nothing, a helpdesk token neither edits nor reviews nor sees drafts or
//! restricted postmortems, an SRE outside the team sees no restricted one), "reviewed" refused
//! while prompts are open, stale base revisions refused, a repeated publish a 409; the styled
//! pages of the same refusals; and the revision history kept on the postmortems topic: a
//! service started afresh (empty in-memory index) shows it again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::postmortem::{publish_incident, spawn_postmortem, wait_for_postmortem};
use opsline_e2e::{spawn_broker, unique_prefix};
use opsline_events::logs::{Alert, Incident, IncidentStatus};
use opsline_events::{Event, TopicNames};
use opsline_postmortem::{Role, TokenConfig, hash_token, postmortem_id};
use serde_json::{Value, json};
use uuid::Uuid;

const SRE: &str = "review-sre-token-1";
const HELPDESK: &str = "review-helpdesk-token-2";
const VIEWER: &str = "review-viewer-token-3";
const FINANCE_SRE: &str = "review-finance-sre-token-4";

fn tokens() -> Vec<TokenConfig> {
    let token = |name: &str, role, teams: &[&str], secret: &str| TokenConfig {
        name: name.into(),
        role,
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        sha256: hash_token(secret),
    };
    vec![
        token("sam", Role::Sre, &[], SRE),
        token("hal", Role::Helpdesk, &[], HELPDESK),
        token("val", Role::Viewer, &[], VIEWER),
        token("fin", Role::Sre, &["finance"], FINANCE_SRE),
    ]
}

fn incident(team: Option<&str>) -> (Incident, Alert) {
    let mut alert = Alert::sample();
    alert.alert_id = Uuid::now_v7();
    let mut incident = Incident::sample();
    incident.incident_id = Uuid::now_v7();
    incident.status = IncidentStatus::Resolved;
    incident.alert_ids = vec![alert.alert_id];
    incident.restricted_team = team.map(str::to_owned);
    (incident, alert)
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn form(&self, path: &str, token: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let session = opsline_e2e::session::sign_in(&self.base, token).await;
        let mut fields = fields.to_vec();
        fields.push(("csrf", &session.csrf));
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &session.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&fields).unwrap())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

fn whats(outline: &Value) -> Vec<String> {
    outline["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["what"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_actions_roles_and_durable_history() {
    let broker = spawn_broker().await;
    let kafka = broker.config();
    let names = TopicNames::with_prefix(unique_prefix("pmreview"));
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create())
        .await
        .expect("create topics");
    let service = spawn_postmortem(kafka.clone(), &names, tokens(), |_| {}).await;
    let (open, open_alert) = incident(None);
    let (secret, secret_alert) = incident(Some("finance"));
    publish_incident(&kafka, &names, &open, &open_alert).await;
    publish_incident(&kafka, &names, &secret, &secret_alert).await;
    let id = postmortem_id(open.incident_id).to_string();
    let secret_id = postmortem_id(secret.incident_id).to_string();
    wait_for_postmortem(&service.url, SRE, &id, Duration::from_secs(30)).await;
    wait_for_postmortem(&service.url, FINANCE_SRE, &secret_id, Duration::from_secs(30)).await;
    let api = Api {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: service.url.clone(),
    };
    let pm = format!("/v1/postmortems/{id}");

    // The outline of a fresh draft: sections, open prompts, nothing else yet.
    let (status, outline) = api.call("GET", &format!("{pm}/outline"), Some(SRE), None).await;
    assert_eq!(status, 200, "{outline}");
    assert_eq!(outline["status"], "draft");
    let revision = outline["revision"].as_u64().unwrap();
    let prompts = outline["open_prompts"].as_array().unwrap().clone();
    assert!(
        prompts.len() >= 3,
        "the deterministic draft asks the reviewer: {outline}"
    );
    assert!(
        outline["sections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["section"] == "root-causes")
    );
    assert_eq!(api.call("GET", &format!("{pm}/outline"), None, None).await.0, 401);

    // "Reviewed" is refused while prompts are open, naming them.
    let (status, refused) = api.call("POST", &format!("{pm}/review"), Some(SRE), None).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "open_prompts");
    assert_eq!(refused["open_prompts"].as_array().unwrap().len(), prompts.len());
    assert!(refused["reason"].as_str().unwrap().contains("Impact"), "{refused}");

    // Who may do what.
    let edit = json!({"markdown": "It broke [T1]. Edited by a person."});
    let section = format!("{pm}/sections/summary");
    assert_eq!(api.call("PUT", &section, Some(VIEWER), Some(edit.clone())).await.0, 403);
    assert_eq!(
        api.call("PUT", &section, Some(HELPDESK), Some(edit.clone())).await.0,
        403
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("{pm}/comments"),
            Some(VIEWER),
            Some(json!({"text": "x"}))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        api.call("POST", &format!("{pm}/review"), Some(HELPDESK), None).await.0,
        403
    );
    assert_eq!(
        api.call("PUT", &format!("{pm}/sections/timeline"), Some(SRE), Some(edit.clone()))
            .await
            .0,
        404,
        "the timeline is not editable"
    );

    // An SRE edits a section: the next revision, with who and what in the history.
    let (status, after) = api.call("PUT", &section, Some(SRE), Some(edit.clone())).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["revision"].as_u64().unwrap(), revision + 1);
    assert_eq!(whats(&after), ["edited Summary"]);
    assert_eq!(after["history"][0]["by"], "sam");
    let summary = after["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == "summary")
        .unwrap()
        .clone();
    assert_eq!(summary["markdown"], "It broke [T1]. Edited by a person.");
    // A change made from an older revision is refused.
    let stale = json!({"markdown": "stale", "base_revision": revision});
    assert_eq!(api.call("PUT", &section, Some(SRE), Some(stale)).await.0, 409);
    let (status, markdown) = api.call("GET", &format!("{pm}?format=md"), Some(SRE), None).await;
    assert_eq!(status, 200);
    assert!(markdown.as_str().unwrap().contains("Edited by a person."));

    // Answer the first prompt, waive the others (a waiver needs a reason).
    let first = prompts[0]["id"].as_str().unwrap();
    let (status, answered) = api
        .call(
            "POST",
            &format!("{pm}/prompts/{first}/answer"),
            Some(SRE),
            Some(json!({"answer": "No user noticed."})),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(
        api.call(
            "POST",
            &format!("{pm}/prompts/{first}/answer"),
            Some(SRE),
            Some(json!({"answer": "again"}))
        )
        .await
        .0,
        404
    );
    let second = prompts[1]["id"].as_str().unwrap();
    assert_eq!(
        api.call(
            "POST",
            &format!("{pm}/prompts/{second}/waive"),
            Some(SRE),
            Some(json!({"reason": " "}))
        )
        .await
        .0,
        400
    );
    for prompt in &prompts[1..] {
        let (status, body) = api
            .call(
                "POST",
                &format!("{pm}/prompts/{}/waive", prompt["id"].as_str().unwrap()),
                Some(SRE),
                Some(json!({"reason": "not knowable from the logs"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    // Comments and action items.
    let (status, commented) = api
        .call(
            "POST",
            &format!("{pm}/comments"),
            Some(SRE),
            Some(json!({"text": "Checked <b>twice</b>."})),
        )
        .await;
    assert_eq!(status, 201, "{commented}");
    assert_eq!(commented["comments"][0]["text"], "Checked <b>twice</b>.");
    let item = json!({"title": "Alert on receiveBlock errors", "owner": "bob", "priority": "P2", "due": "2027-01-31"});
    let (status, added) = api.call("POST", &format!("{pm}/actions"), Some(SRE), Some(item)).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["action_items"][0]["owner"], "bob");
    assert_eq!(added["action_items"][0]["due"], "2027-01-31");
    let bad = json!({"title": "x", "owner": "y", "priority": "P9"});
    assert_eq!(
        api.call("POST", &format!("{pm}/actions"), Some(SRE), Some(bad)).await.0,
        400
    );
    let (status, edited) = api
        .call(
            "PATCH",
            &format!("{pm}/actions/1"),
            Some(SRE),
            Some(json!({"owner": "carol", "priority": "P1"})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["action_items"][0]["owner"], "carol");
    let (status, closed) = api
        .call(
            "PATCH",
            &format!("{pm}/actions/A1"),
            Some(SRE),
            Some(json!({"status": "closed"})),
        )
        .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["action_items"][0]["closed"], true);
    assert_eq!(
        api.call(
            "PATCH",
            &format!("{pm}/actions/9"),
            Some(SRE),
            Some(json!({"status": "closed"}))
        )
        .await
        .0,
        404
    );

    // Now "reviewed" passes; sections freeze; publish; a repeated publish is a 409.
    let (status, reviewed) = api.call("POST", &format!("{pm}/review"), Some(SRE), None).await;
    assert_eq!(status, 200, "{reviewed}");
    assert_eq!(reviewed["status"], "reviewed");
    assert_eq!(
        api.call("PUT", &section, Some(SRE), Some(edit)).await.0,
        409,
        "a reviewed postmortem is frozen"
    );
    assert_eq!(api.call("POST", &format!("{pm}/publish"), Some(SRE), None).await.0, 200);
    let (status, again) = api.call("POST", &format!("{pm}/publish"), Some(SRE), None).await;
    assert_eq!(status, 409, "{again}");
    assert!(
        again["reason"].as_str().unwrap().contains("already published"),
        "{again}"
    );
    // The page answers the same refusal as a styled page.
    let (status, page) = api.form(&format!("/postmortems/{id}/publish"), SRE, &[]).await;
    assert_eq!(status, 409);
    assert!(
        page.contains("<style>") && page.contains("already published") && page.contains("Sign out"),
        "{page}"
    );

    // Published: the helpdesk reads and comments, but changes no action item; a viewer only reads.
    assert_eq!(
        api.call(
            "POST",
            &format!("{pm}/comments"),
            Some(HELPDESK),
            Some(json!({"text": "Told the users."}))
        )
        .await
        .0,
        201
    );
    assert_eq!(
        api.call(
            "PATCH",
            &format!("{pm}/actions/1"),
            Some(HELPDESK),
            Some(json!({"status": "open"}))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        api.call("GET", &format!("{pm}/outline"), Some(VIEWER), None).await.0,
        200
    );
    assert_eq!(
        api.call(
            "POST",
            &format!("{pm}/comments"),
            Some(VIEWER),
            Some(json!({"text": "x"}))
        )
        .await
        .0,
        403
    );

    // A restricted postmortem: invisible (404) outside its team, whatever the role.
    let secret_pm = format!("/v1/postmortems/{secret_id}");
    for token in [SRE, HELPDESK, VIEWER] {
        assert_eq!(
            api.call("GET", &format!("{secret_pm}/outline"), Some(token), None)
                .await
                .0,
            404
        );
        assert_eq!(
            api.call(
                "POST",
                &format!("{secret_pm}/comments"),
                Some(token),
                Some(json!({"text": "x"}))
            )
            .await
            .0,
            if token == VIEWER { 403 } else { 404 }
        );
    }
    assert_eq!(
        api.call("POST", &format!("{secret_pm}/review"), Some(SRE), None)
            .await
            .0,
        404
    );
    // Its team's SRE is refused "reviewed" as a styled page naming the open prompts.
    let (status, page) = api
        .form(&format!("/postmortems/{secret_id}/review"), FINANCE_SRE, &[])
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("class=\"open-prompts\"") && page.contains("Impact"),
        "{page}"
    );

    // The compact similar search the console uses: bounded, and the same access rule.
    let (status, similar) = api
        .call(
            "POST",
            "/v1/similar",
            Some(FINANCE_SRE),
            Some(json!({"q": "receiveBlock hdfs"})),
        )
        .await;
    assert_eq!(status, 200, "{similar}");
    let hits = similar["hits"].as_array().unwrap();
    assert!(!hits.is_empty() && hits.len() <= 5, "{similar}");
    assert!(similar.to_string().len() <= 1_000);
    assert!(
        hits.iter().any(|h| h["id"] == secret_id.as_str()),
        "the team sees its own: {similar}"
    );
    let (_, outside) = api
        .call(
            "POST",
            "/v1/similar",
            Some(SRE),
            Some(json!({"q": "receiveBlock hdfs"})),
        )
        .await;
    assert!(!outside.to_string().contains(&secret_id), "{outside}");
    assert_eq!(
        api.call("POST", "/v1/similar", None, Some(json!({"q": "x"}))).await.0,
        401
    );
    assert_eq!(
        api.call("POST", "/v1/similar", Some(SRE), Some(json!({"q": "x", "id": "y"})))
            .await
            .0,
        400
    );

    let (_, final_outline) = api.call("GET", &format!("{pm}/outline"), Some(SRE), None).await;
    let history = whats(&final_outline);
    assert_eq!(history.first().map(String::as_str), Some("edited Summary"));
    assert!(history.contains(&"marked reviewed".to_owned()) && history.contains(&"published".to_owned()));
    assert!(history.contains(&"closed action item A1".to_owned()), "{history:?}");
    service.stop().await.expect("postmortem service ran without error");

    // The history is on the topic: a fresh service (in-memory index, rebuilt from Kafka) shows it.
    let restarted = spawn_postmortem(kafka.clone(), &names, tokens(), |c| {
        c.group_id = format!("{}postmortem-2", names.prefix);
        c.index_group_id = format!("{}postmortem-index-2", names.prefix);
    })
    .await;
    let api = Api {
        client: api.client.clone(),
        base: restarted.url.clone(),
    };
    // Rebuilt at start, or by the indexer's new group reading the topic from its start (the
    // highest revision wins, whatever else it reads first).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let rebuilt = loop {
        let (status, rebuilt) = api.call("GET", &format!("{pm}/outline"), Some(SRE), None).await;
        if status == 200 && rebuilt["status"] == "published" {
            break rebuilt;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not rebuilt in 30 s: {status} {rebuilt}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(whats(&rebuilt), history, "the same history after a restart");
    assert_eq!(rebuilt["comments"].as_array().unwrap().len(), 2);
    restarted.stop().await.expect("restarted service ran without error");
}
