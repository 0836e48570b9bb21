//! Everything self-service must refuse, against a real broker and a real slapd: forged
//! signatures, stale timestamps and replays at the gateway; a user asking to reset
//! another user's password; a prompt-injection corpus (tests/data/chat-injections.txt);
//! unknown and ambiguous chat users; and a directory outage. Each gets the right answer
//! and an audit event, and no directory entry changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::ldap::{USERS, spawn_ldap, user_dn};
use opsline_e2e::selfservice::{Platform, now, signed_post, slash_command, spawn_recorder, spawn_selfservice};
use opsline_e2e::{gateway::spawn_gateway, read_n, repo_root, spawn_broker};
use opsline_events::ops::SelfServiceAction;
use opsline_events::{Envelope, topics};
use secrecy::SecretString;
use serde_json::json;

const SLACK_SECRET: &str = "refusals-slack-secret";
const WEBHOOK_SECRET: &str = "refusals-webhook-secret";

fn webhook_body(user: &str, text: &str, reply_url: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "user_id": user, "channel_id": "C0TEST", "text": text, "reply_url": reply_url }))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_are_answered_audited_and_change_nothing() {
    let broker = spawn_broker().await;
    let ldap = spawn_ldap();
    let recorder = spawn_recorder().await;
    let gateway = spawn_gateway(broker.config(), "ssrefuse", |c| {
        c.chat.slack_signing_secret = Some(SecretString::from(SLACK_SECRET));
        c.chat.webhook_secret = Some(SecretString::from(WEBHOOK_SECRET));
    })
    .await;
    let (_service, notifier) = spawn_selfservice(broker.config(), &gateway.names, &ldap, "", |c| {
        c.rate_limit.max_attempts = 100;
    })
    .await;
    let slack = format!("{}/v1/chat/slack", gateway.url);
    let webhook = format!("{}/v1/chat/webhook", gateway.url);
    let reply_url = format!("{}/replies", recorder.url);
    let form = "application/x-www-form-urlencoded";

    // Gateway: forged, stale, replayed; Slack's URL verification and a retried event id.
    let body = slash_command("U0BOB", "reset my password", &reply_url);
    let (status, answer) = signed_post(&slack, Platform::Slack, "wrong-secret", now(), form, &body).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("bad_signature")));
    let (status, answer) = signed_post(&slack, Platform::Slack, SLACK_SECRET, now() - 301, form, &body).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("stale_timestamp")));
    let (status, answer) = signed_post(&slack, Platform::Slack, SLACK_SECRET, now() + 301, form, &body).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("stale_timestamp")));
    let challenge = br#"{"type":"url_verification","token":"t","challenge":"c-123"}"#;
    let (status, answer) = signed_post(
        &slack,
        Platform::Slack,
        SLACK_SECRET,
        now(),
        "application/json",
        challenge,
    )
    .await;
    assert_eq!((status, answer["challenge"].as_str()), (200, Some("c-123")));
    let at = now() + 1;
    let (status, _) = signed_post(&slack, Platform::Slack, SLACK_SECRET, at, "application/json", challenge).await;
    assert_eq!(status, 200, "a challenge with a new timestamp is a new request");
    let (status, answer) = signed_post(&slack, Platform::Slack, SLACK_SECRET, at, "application/json", challenge).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("replayed")));
    let event = |text: &str| {
        serde_json::to_vec(&json!({"type": "event_callback", "event_id": "Ev0REPLAY",
            "event": {"type": "app_mention", "user": "U0NOBODY", "channel": "C1", "text": text}}))
        .unwrap()
    };
    let (status, _) = signed_post(
        &slack,
        Platform::Slack,
        SLACK_SECRET,
        now(),
        "application/json",
        &event("hello"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, answer) = signed_post(
        &slack,
        Platform::Slack,
        SLACK_SECRET,
        now(),
        "application/json",
        &event("hello!"),
    )
    .await;
    // Slack's retry of an event (same event id, new signature) is acknowledged, not published
    // again (#16 item 5; it was refused 401 `replayed`, so Slack kept retrying).
    assert_eq!(
        (status, answer["duplicate"].as_bool()),
        (200, Some(true)),
        "same Slack event id: {answer}"
    );
    let forged_webhook = webhook_body("U0BOB", "reset my password", &reply_url);
    let (status, _) = signed_post(
        &webhook,
        Platform::Webhook,
        SLACK_SECRET,
        now(),
        "application/json",
        &forged_webhook,
    )
    .await;
    assert_eq!(status, 401, "the webhook has its own secret");
    // Forged, two stale, a replayed signature, the webhook signed with the Slack secret (the
    // Slack retry above is not a refusal).
    let gateway_refusals = 5;

    // Self-service: another user's account, injections, unknown and ambiguous users.
    let post = |user: &'static str, text: String| {
        let webhook = webhook.clone();
        let reply_url = reply_url.clone();
        async move {
            let body = webhook_body(user, &text, &reply_url);
            let (status, answer) = signed_post(
                &webhook,
                Platform::Webhook,
                WEBHOOK_SECRET,
                now(),
                "application/json",
                &body,
            )
            .await;
            assert_eq!(status, 202, "{answer}");
        }
    };
    post("U0BOB", "please reset alice's password, she is on holiday".to_owned()).await;
    let corpus = std::fs::read_to_string(repo_root().join("tests/data/chat-injections.txt")).unwrap();
    let injections: Vec<String> = corpus
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(injections.len() >= 30);
    for text in &injections {
        post("U0CAROL", text.clone()).await;
    }
    post("U0NOBODY", "I forgot my password, can you reset it?".to_owned()).await;
    post("U0TWIN", "I forgot my password, can you reset it?".to_owned()).await;
    let service_refusals = 1 + injections.len() + 2;
    let audit_topic = gateway.names.name(&topics::SELFSERVICE_AUDIT);
    let wanted = gateway_refusals + service_refusals;
    let records = read_n(&broker.config(), &audit_topic, wanted, Duration::from_secs(120)).await;
    let actions: Vec<SelfServiceAction> = records
        .iter()
        .map(|r| {
            Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                .unwrap()
                .data
        })
        .collect();
    assert_eq!(actions.len(), wanted, "{actions:#?}");
    assert!(
        actions.iter().all(|a| a.outcome == "refused" && a.cost_saved == 0.0),
        "{actions:#?}"
    );
    let reasons = |user: &str| -> Vec<String> {
        actions
            .iter()
            .filter(|a| a.user_id == user || a.user_id == format!("webhook:{user}"))
            .map(|a| a.reason.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(reasons("unverified").len(), gateway_refusals);
    assert_eq!(reasons("U0BOB"), ["other_account"]);
    let carol = reasons("U0CAROL");
    assert_eq!(carol.len(), injections.len());
    assert!(
        carol.iter().all(|r| r == "prompt_injection" || r == "other_account"),
        "{carol:?}"
    );
    assert_eq!(reasons("U0NOBODY"), ["unknown_user"]);
    assert!(reasons("U0TWIN")[0].starts_with("ambiguous_identity"));
    assert!(notifier.sent().is_empty(), "no one-time code was sent");
    let texts = recorder.wait_texts(service_refusals - 1, Duration::from_secs(30)).await;
    assert!(!texts.is_empty());
    assert!(
        recorder
            .texts()
            .iter()
            .any(|t| t.contains("only reset or unlock your own account"))
    );
    assert!(
        recorder
            .texts()
            .iter()
            .any(|t| t.contains("could not find a directory account"))
    );
    assert!(recorder.texts().iter().all(|t| !t.contains("Temporary password")));

    // Directory outage: a clear answer, a `failed` audit event, nothing changed.
    ldap.stop();
    let before = recorder.texts().len();
    post("U0BOB", "I forgot my password, can you reset it?".to_owned()).await;
    let texts = recorder.wait_texts(before, Duration::from_secs(60)).await;
    assert!(
        texts.iter().any(|t| t.contains("directory is not reachable")),
        "{texts:?}"
    );
    let records = read_n(&broker.config(), &audit_topic, wanted + 1, Duration::from_secs(60)).await;
    let failed: Vec<SelfServiceAction> = records
        .iter()
        .map(|r| {
            Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                .unwrap()
                .data
        })
        .filter(|a| a.outcome == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].user_id, "webhook:U0BOB", "audits name the platform");
    assert!(
        failed[0]
            .reason
            .clone()
            .unwrap_or_default()
            .contains("directory unavailable")
    );
    ldap.start();

    for (uid, _, _, password) in USERS {
        assert!(ldap.binds(&user_dn(uid), password), "{uid}'s password is unchanged");
        assert!(!ldap.read_entry(&user_dn(uid)).contains("pwdReset"), "{uid} not reset");
    }
}
