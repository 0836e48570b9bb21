//! Hardening issue, item 5: identity includes the platform. Slack `U0ALICE` and webhook
//! `U0ALICE` are two people to the self-service service, even where the directory maps both
//! ids to the same entry: a one-time code sent for Slack `U0ALICE` cannot be answered from the
//! webhook, and the audit names the platform. Real broker, gateway, self-service and slapd.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::ldap::{spawn_ldap, user_dn};
use opsline_e2e::selfservice::{Platform, now, signed_post, slash_command, spawn_recorder, spawn_selfservice};
use opsline_e2e::{read_n, spawn_broker};
use opsline_events::ops::SelfServiceAction;
use opsline_events::{Envelope, topics};
use secrecy::SecretString;
use serde_json::json;

const SLACK_SECRET: &str = "identity-slack-secret";
const WEBHOOK_SECRET: &str = "identity-webhook-secret";
const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identity_includes_the_platform_a_webhook_user_cannot_answer_a_slack_users_code() {
    let broker = spawn_broker().await;
    let ldap = spawn_ldap();
    let recorder = spawn_recorder().await;
    let gateway = spawn_gateway(broker.config(), "ssident", |c| {
        c.chat.slack_signing_secret = Some(SecretString::from(SLACK_SECRET));
        c.chat.webhook_secret = Some(SecretString::from(WEBHOOK_SECRET));
    })
    .await;
    let webhook_replies = format!("{}/webhook/replies", recorder.url);
    let (_service, notifier) =
        spawn_selfservice(broker.config(), &gateway.names, &ldap, &webhook_replies, |_| {}).await;
    let slack = format!("{}/v1/chat/slack", gateway.url);
    let webhook = format!("{}/v1/chat/webhook", gateway.url);
    let slack_replies = format!("{}/slack/response/1", recorder.url);
    let alice = user_dn("alice");

    // Slack U0ALICE asks for a reset: a code goes to alice's registered e-mail.
    let body = slash_command("U0ALICE", "I forgot my password, please reset it", &slack_replies);
    let (status, answer) = signed_post(&slack, Platform::Slack, SLACK_SECRET, now(), FORM, &body).await;
    assert_eq!(status, 200, "{answer}");
    let texts = recorder.wait_texts(0, Duration::from_secs(60)).await;
    assert!(texts[0].contains("one-time code"), "{texts:?}");
    let code = notifier.last_code_for("alice@example.org").expect("code sent");

    // The same id on the webhook sends that code: not an answer to Slack U0ALICE's challenge.
    let body = serde_json::to_vec(&json!({"user_id": "U0ALICE", "channel_id": "C1", "text": code})).unwrap();
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
    let texts = recorder.wait_texts(1, Duration::from_secs(60)).await;
    assert!(
        texts.iter().all(|t| !t.contains("Temporary password")),
        "the webhook user got a password: {texts:?}"
    );
    assert!(ldap.binds(&alice, "alice-old-Pass1"), "the directory did not change");

    // Slack U0ALICE's own code still works: the webhook message did not consume it.
    let before = recorder.texts().len();
    let body = slash_command("U0ALICE", &code, &slack_replies);
    let (status, _) = signed_post(&slack, Platform::Slack, SLACK_SECRET, now(), FORM, &body).await;
    assert_eq!(status, 200);
    let texts = recorder.wait_texts(before + 1, Duration::from_secs(60)).await;
    assert!(
        texts.iter().any(|t| t.contains("Temporary password")),
        "Slack U0ALICE's code was refused: {texts:?}"
    );
    assert!(!ldap.binds(&alice, "alice-old-Pass1"), "the password was reset");

    // The audit trail names the platform of every actor: the challenge and the reset are
    // Slack U0ALICE's; what was audited for the webhook message (its digits read as a ticket
    // status request) is webhook U0ALICE's, and no reset of theirs.
    let audit_topic = gateway.names.name(&topics::SELFSERVICE_AUDIT);
    let mut audits: Vec<SelfServiceAction> = Vec::new();
    for wanted in 2..=4 {
        let records = read_n(&broker.config(), &audit_topic, wanted, Duration::from_secs(20)).await;
        audits = records
            .iter()
            .map(|r| {
                Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                    .unwrap()
                    .data
            })
            .collect();
        if audits
            .iter()
            .any(|a| a.action == "password_reset" && a.outcome == "succeeded")
        {
            break;
        }
    }
    let slack: Vec<&str> = audits
        .iter()
        .filter(|a| a.user_id == "slack:U0ALICE" && a.action == "password_reset")
        .map(|a| a.outcome.as_str())
        .collect();
    assert_eq!(slack, ["challenged", "succeeded"], "{audits:#?}");
    assert!(
        audits
            .iter()
            .filter(|a| a.user_id != "slack:U0ALICE")
            .all(|a| a.user_id == "webhook:U0ALICE" && a.action != "password_reset"),
        "{audits:#?}"
    );
}
