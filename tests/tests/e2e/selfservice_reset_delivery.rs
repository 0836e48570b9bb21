//! Issue 16 item 3, reset only when the user can receive it, end to end (gateway, broker,
//! self-service over StartTLS to a slapd with a test CA, a stand-in chat platform):
//! - the private reply channel is down when the code is confirmed: the directory is not
//!   changed (the old password still binds, no must-change flag), the audit says why;
//! - the channel accepts the check but fails for the temporary password: nobody knows that
//!   password, so the account is locked pending the helpdesk (ppolicy's administrative lock),
//!   and a helpdesk ticket and a `failed` audit event say why; self-service then refuses to
//!   reset or unlock that account until the helpdesk has cleared the lock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::ldap::{TestLdap, spawn_ldap_tls, user_dn};
use opsline_e2e::selfservice::{
    Platform, Recorder, now, signed_post, slash_command, spawn_recorder, spawn_selfservice,
};
use opsline_e2e::spawn::Spawned;
use opsline_e2e::{TestBroker, gateway::spawn_gateway, read_n, spawn_broker};
use opsline_events::ops::SelfServiceAction;
use opsline_events::tickets::RawTicket;
use opsline_events::{Envelope, TopicNames, topics};
use opsline_gateway::Gateway;
use opsline_kafka::KafkaConfig;
use opsline_selfservice::SelfService;
use secrecy::SecretString;

const SLACK_SECRET: &str = "delivery-slack-secret";
const FORM: &str = "application/x-www-form-urlencoded";

struct Setup {
    slack: String,
    response_url: String,
    recorder: Recorder,
    notifier: opsline_selfservice::RecordingNotifier,
}

async fn post(setup: &Setup, user: &str, text: &str) {
    let body = slash_command(user, text, &setup.response_url);
    let (status, answer) = signed_post(&setup.slack, Platform::Slack, SLACK_SECRET, now(), FORM, &body).await;
    assert_eq!(status, 200, "{answer}");
}

/// Asks for a reset as `user` and returns the one-time code mailed to `mail`.
async fn challenge(setup: &Setup, user: &str, mail: &str) -> String {
    let before = setup.recorder.texts().len();
    post(setup, user, "I forgot my password, please reset it").await;
    let texts = setup.recorder.wait_texts(before, Duration::from_secs(60)).await;
    assert!(texts.iter().any(|t| t.contains("one-time code")), "{texts:?}");
    setup.notifier.last_code_for(mail).expect("code sent")
}

async fn audits(kafka: &KafkaConfig, names: &TopicNames, count: usize) -> Vec<SelfServiceAction> {
    let topic = names.name(&topics::SELFSERVICE_AUDIT);
    read_n(kafka, &topic, count, Duration::from_secs(60))
        .await
        .iter()
        .map(|r| {
            Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                .unwrap()
                .data
        })
        .collect()
}

/// What must stay alive while a test runs: the gateway and the self-service service.
type Running = (Spawned<Gateway>, Spawned<SelfService>);

async fn start(prefix: &str, ldap: &TestLdap) -> (TestBroker, Setup, TopicNames, Running) {
    let broker = spawn_broker().await;
    let recorder = spawn_recorder().await;
    let gateway = spawn_gateway(broker.config(), prefix, |c| {
        c.chat.slack_signing_secret = Some(SecretString::from(SLACK_SECRET));
    })
    .await;
    let (service, notifier) = spawn_selfservice(broker.config(), &gateway.names, ldap, "", |c| {
        c.reply.attempts = 2;
    })
    .await;
    let setup = Setup {
        slack: format!("{}/v1/chat/slack", gateway.url),
        response_url: format!("{}/slack/response/1", recorder.url),
        recorder,
        notifier,
    };
    let names = gateway.names.clone();
    (broker, setup, names, (gateway, service))
}

/// Stops the services before the broker goes (a consumer committing to a stopped broker
/// would block the runtime's shutdown).
async fn stop((gateway, service): Running) {
    service.stop().await.expect("selfservice stops");
    gateway.stop().await.expect("gateway stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_only_when_the_user_can_receive_it_channel_down_leaves_directory_unchanged() {
    let ldap = spawn_ldap_tls();
    let (broker, setup, names, running) = start("ssdeliv1", &ldap).await;
    let alice = user_dn("alice");

    let code = challenge(&setup, "U0ALICE", "alice@example.org").await;
    setup.recorder.set_failing(true);
    post(&setup, "U0ALICE", &code).await;

    let actions = audits(&broker.config(), &names, 2).await;
    let outcomes: Vec<&str> = actions.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["challenged", "failed"], "{actions:#?}");
    let reason = actions[1].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("reply channel unavailable before the change"),
        "{reason}"
    );
    assert_eq!(actions[1].cost_saved, 0.0);

    // The directory was not touched.
    assert!(ldap.binds(&alice, "alice-old-Pass1"), "old password still binds");
    let entry = ldap.read_entry(&alice);
    assert!(!entry.contains("pwdReset"), "{entry}");
    assert!(!entry.contains("pwdAccountLockedTime"), "{entry}");
    assert!(
        !entry.contains("pwdChangedTime: 2"),
        "password unchanged since seeding\n{entry}"
    );
    assert!(setup.recorder.texts().iter().all(|t| !t.contains("Temporary password")));
    stop(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_only_when_the_user_can_receive_it_reply_failing_after_the_change_locks_the_account() {
    let ldap = spawn_ldap_tls();
    let (broker, setup, names, running) = start("ssdeliv2", &ldap).await;
    let bob = user_dn("bob");

    let code = challenge(&setup, "U0BOB", "bob@example.org").await;
    // The check notice gets through; the temporary password does not.
    setup.recorder.fail_after(1);
    post(&setup, "U0BOB", &code).await;

    let actions = audits(&broker.config(), &names, 2).await;
    let outcomes: Vec<&str> = actions.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["challenged", "failed"], "{actions:#?}");
    let reason = actions[1].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("reply undeliverable after the change")
            && reason.contains("account locked pending the helpdesk"),
        "{reason}"
    );
    assert_eq!(actions[1].target.as_deref(), Some(bob.as_str()));

    // The helpdesk ticket says why.
    let tickets = read_n(
        &broker.config(),
        &names.name(&topics::RAW_TICKETS),
        1,
        Duration::from_secs(60),
    )
    .await;
    let ticket = Envelope::<RawTicket>::from_json(tickets[0].payload_bytes())
        .unwrap()
        .data;
    assert!(reason.contains(&ticket.ticket_id), "{reason} / {}", ticket.ticket_id);
    assert_eq!(
        ticket.attributes.get("account_lock").map(String::as_str),
        Some("locked")
    );
    assert_eq!(ticket.attributes.get("handoff").map(String::as_str), Some("true"));
    assert_eq!(ticket.attributes.get("directory_dn"), Some(&bob));
    assert!(
        ticket.description.contains("could not deliver it privately"),
        "{}",
        ticket.description
    );

    // The account is locked until the helpdesk acts: no password binds.
    let entry = ldap.read_entry(&bob);
    assert!(entry.contains("pwdAccountLockedTime: 000001010000Z"), "{entry}");
    assert!(!ldap.binds(&bob, "bob-old-Pass1"), "old password replaced");
    let texts = setup.recorder.texts();
    assert!(
        texts.iter().any(|t| t.contains("setting a temporary password now")),
        "{texts:?}"
    );
    assert!(texts.iter().all(|t| !t.contains("Temporary password")), "{texts:?}");

    // Until the helpdesk clears the lock, self-service neither resets nor unlocks the account.
    setup.recorder.fail_after(1000);
    let before = setup.recorder.texts().len();
    post(&setup, "U0BOB", "my account is locked, please unlock it").await;
    let texts = setup.recorder.wait_texts(before, Duration::from_secs(60)).await;
    assert!(
        texts.iter().any(|t| t.contains("locked until the service desk")),
        "{texts:?}"
    );
    let actions = audits(&broker.config(), &names, 3).await;
    assert_eq!(actions[2].outcome, "refused", "{actions:#?}");
    assert_eq!(actions[2].reason.as_deref(), Some("locked_pending_helpdesk"));
    assert!(ldap.read_entry(&bob).contains("pwdAccountLockedTime: 000001010000Z"));
    stop(running).await;
}
