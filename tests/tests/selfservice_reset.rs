//! A user resets their own password through a signed Slack slash command, with the
//! one-time-code second factor, against a real slapd and a real broker; afterwards the
//! new password binds and the old one fails. Then every log line of the run (captured),
//! every record of every topic, and every recorded LLM prompt (none: the service uses no
//! model) is searched for the temporary password, which must appear nowhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsline_e2e::ldap::{spawn_ldap, user_dn};
use opsline_e2e::selfservice::{Platform, now, signed_post, slash_command, spawn_recorder, spawn_selfservice};
use opsline_e2e::{gateway::spawn_gateway, read_n, spawn_broker};
use opsline_events::ops::SelfServiceAction;
use opsline_events::{Envelope, topics};
use secrecy::SecretString;

const SLACK_SECRET: &str = "test-slack-signing-secret";

/// Captures every log line of this test binary (all levels) in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn user_resets_own_password_with_one_time_code_and_no_secret_leaks() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "trace,h2=info,hyper=info,tower=info",
        ))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("capture subscriber first");

    let broker = spawn_broker().await;
    let ldap = spawn_ldap();
    let recorder = spawn_recorder().await;
    let gateway = spawn_gateway(broker.config(), "ssreset", |c| {
        c.chat.slack_signing_secret = Some(SecretString::from(SLACK_SECRET));
    })
    .await;
    let (mut service, notifier) = spawn_selfservice(broker.config(), &gateway.names, &ldap, "", |_| {}).await;
    let slack = format!("{}/v1/chat/slack", gateway.url);
    let response_url = format!("{}/slack/response/1", recorder.url);
    let alice = user_dn("alice");
    assert!(ldap.binds(&alice, "alice-old-Pass1"));

    // 1. "reset my password" -> a code goes to alice's registered e-mail.
    let body = slash_command("U0ALICE", "I forgot my password, please reset it", &response_url);
    let (status, answer) = signed_post(
        &slack,
        Platform::Slack,
        SLACK_SECRET,
        now(),
        "application/x-www-form-urlencoded",
        &body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response_type"], "ephemeral");
    let texts = recorder.wait_texts(0, Duration::from_secs(60)).await;
    assert!(
        texts[0].contains("one-time code") && texts[0].contains("a•••@example.org"),
        "{texts:?}"
    );
    let code = notifier.last_code_for("alice@example.org").expect("code sent");
    assert!(ldap.binds(&alice, "alice-old-Pass1"), "nothing changes before the code");

    // 2. a wrong code is refused, then the right one resets.
    let body = slash_command("U0ALICE", "000000", &response_url);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = if code == "000000" {
        slash_command("U0ALICE", wrong, &response_url)
    } else {
        body
    };
    signed_post(
        &slack,
        Platform::Slack,
        SLACK_SECRET,
        now(),
        "application/x-www-form-urlencoded",
        &body,
    )
    .await;
    let texts = recorder.wait_texts(1, Duration::from_secs(30)).await;
    assert!(texts[0].contains("not right"), "{texts:?}");
    let body = slash_command("U0ALICE", &code, &response_url);
    let (status, _) = signed_post(
        &slack,
        Platform::Slack,
        SLACK_SECRET,
        now(),
        "application/x-www-form-urlencoded",
        &body,
    )
    .await;
    assert_eq!(status, 200);
    // The reply channel is checked with a notice before the directory changes, then the password.
    let texts = recorder.wait_texts(3, Duration::from_secs(30)).await;
    let notice = &recorder.texts()[2];
    assert!(notice.contains("setting a temporary password now"), "{notice}");
    let reply = texts.first().expect("reset reply");
    let password = reply
        .split("Temporary password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("temporary password in the private reply")
        .to_owned();
    assert!(password.len() >= 16);
    let bodies = recorder.bodies();
    assert_eq!(
        bodies.last().unwrap()["response_type"],
        "ephemeral",
        "private Slack reply"
    );

    // 3. the directory: new password binds, old fails, must-change flagged by ppolicy.
    assert!(ldap.binds(&alice, &password), "new password binds");
    assert!(!ldap.binds(&alice, "alice-old-Pass1"), "old password fails");
    let entry = ldap.read_entry(&alice);
    assert!(entry.contains("pwdReset: TRUE"), "{entry}");
    assert!(!entry.contains(&password), "stored hashed");

    // 4. the audit trail: challenged, refused (wrong code), succeeded with the deflection credit.
    let audit_topic = gateway.names.name(&topics::SELFSERVICE_AUDIT);
    let records = read_n(&broker.config(), &audit_topic, 3, Duration::from_secs(60)).await;
    let actions: Vec<SelfServiceAction> = records
        .iter()
        .map(|r| {
            Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                .unwrap()
                .data
        })
        .collect();
    let outcomes: Vec<&str> = actions.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["challenged", "refused", "succeeded"], "{actions:#?}");
    let done = &actions[2];
    assert_eq!(done.action, "password_reset");
    assert_eq!(done.user_id, "slack:U0ALICE");
    assert_eq!(done.target.as_deref(), Some(alice.as_str()));
    assert!(done.cost_saved > 0.0);

    // 5. the password is nowhere but in the private reply.
    service.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(30), &mut service.task).await;
    let mut all_records = 0;
    for (topic, _) in gateway.names.all_to_create() {
        let records = opsline_kafka::reader::read_until_idle(
            &broker.config(),
            &topic,
            Duration::from_millis(1500),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        for record in &records {
            all_records += 1;
            let payload = String::from_utf8_lossy(record.payload_bytes());
            assert!(!payload.contains(&password), "password in topic {topic}");
            for (_, value) in &record.headers {
                assert!(
                    !String::from_utf8_lossy(value).contains(&password),
                    "password in a header of {topic}"
                );
            }
        }
    }
    assert!(all_records >= 6, "topics were read ({all_records} records)");
    let captured = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(captured.len() > 1000, "logs were captured");
    assert!(!captured.contains(&password), "password in the logs");
    // No language model is called by self-service: there are no prompts to leak into.
    assert!(!captured.contains("chat-reply@"), "no LLM prompt rendered");
}
