//! Issue 16, point 1: Kafka over TLS and SASL. Against a Tansu that serves only
//! SCRAM-SHA-512-authenticated clients over TLS (see `opsline_e2e::kafka_tls` for how), a
//! gateway configured from a TOML file (CA file, mechanism, user, password file) takes log
//! lines in, and a consumer with its own user reads them out; a wrong password stops the
//! gateway at start-up with one error naming the broker, the mechanism and the user (not a
//! retry loop, and not the password); a client that does not trust the broker's CA is refused.
//! Always on Tansu (the TLS + SCRAM broker), whatever `OPSLINE_TEST_BROKER` says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use opsline_e2e::gateway::post_lines;
use opsline_e2e::kafka_tls::{Password, spawn_secure_tansu};
use opsline_e2e::spawn::spawn;
use opsline_events::logs::RawLog;
use opsline_events::{TopicNames, topics};
use opsline_gateway::{Gateway, GatewayConfig};
use opsline_kafka::KafkaConfig;
use opsline_kafka::security::SaslMechanism;
use opsline_runtime::Application;
use opsline_runtime::metrics::Metrics;
use uuid::Uuid;

const GATEWAY_PASSWORD: &str = "gw-Secret-7731";
const READER_PASSWORD: &str = "reader-Secret-2209";
const WRONG_PASSWORD: &str = "not-the-gateway-password";
const LINES: usize = 200;

/// A gateway configuration file as an operator writes it (the password in its own file).
fn gateway_toml(kafka: &KafkaConfig, prefix: &str) -> String {
    let sasl = &kafka.sasl;
    format!(
        "topic_prefix = {prefix:?}\n\
         [kafka]\n\
         bootstrap_servers = {bootstrap:?}\n\
         client_id = \"opsline-gateway\"\n\
         security_protocol = \"sasl_ssl\"\n\
         [kafka.tls]\n\
         ca_file = {ca:?}\n\
         [kafka.sasl]\n\
         mechanism = \"SCRAM-SHA-512\"\n\
         username = {user:?}\n\
         password_file = {file:?}\n\
         [[keys]]\n\
         name = \"e2e\"\n\
         sha256 = {key:?}\n",
        key = opsline_gateway::hash_key(opsline_e2e::gateway::INGEST_KEY),
        bootstrap = kafka.bootstrap_servers,
        ca = kafka.tls.ca_file.as_ref().unwrap().display().to_string(),
        user = sasl.username,
        file = sasl.password_file.as_ref().unwrap().display().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_in_and_consumer_out_over_tls_with_scram() {
    let broker = spawn_secure_tansu(&[("gateway", GATEWAY_PASSWORD), ("reader", READER_PASSWORD)]).await;
    let names = TopicNames::with_prefix(opsline_e2e::unique_prefix("tlsscram"));
    let file = broker.dir.path().join("gateway.toml");
    let gateway_kafka = KafkaConfig {
        client_id: "opsline-gateway".to_owned(),
        ..broker.client("gateway", Password::File(GATEWAY_PASSWORD))
    };
    std::fs::write(&file, gateway_toml(&gateway_kafka, &names.prefix)).unwrap();
    let config: GatewayConfig =
        opsline_runtime::config::load(Some(&file)).expect("the gateway's TLS + SCRAM settings load");
    assert_eq!(config.kafka, gateway_kafka, "the file says what the test meant");

    let gateway = spawn::<Gateway>(config, ()).await;
    gateway.wait_ready(Duration::from_secs(60)).await;
    let lines: Vec<String> = (0..LINES)
        .map(|i| format!("2026-12-06T11:00:{:02}Z ERROR payment: card declined order={i}", i % 60))
        .collect();
    let posted: HashSet<Uuid> = post_lines(&gateway.url, "checkout", &lines).await.into_iter().collect();
    assert_eq!(posted.len(), LINES);

    let reader = broker.client("reader", Password::Value(READER_PASSWORD));
    let raw = names.name(&topics::RAW_LOGS);
    let records = opsline_e2e::read_n(&reader, &raw, LINES, Duration::from_secs(120)).await;
    let read: HashSet<Uuid> = records
        .iter()
        .map(|r| r.envelope::<RawLog>().expect("raw log envelope").id)
        .collect();
    assert_eq!(
        read, posted,
        "every line the gateway accepted is read back over TLS + SCRAM"
    );
    gateway.stop().await.expect("the gateway stops cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_the_gateway_at_start_with_one_clear_error() {
    let broker = spawn_secure_tansu(&[("gateway", GATEWAY_PASSWORD)]).await;
    // The right password works (so what follows is about the password, not the broker).
    let right = broker.client("gateway", Password::Value(GATEWAY_PASSWORD));
    opsline_kafka::admin::wait_for_broker(&right, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("the right password is taken: {e}\n{}", broker.log()));
    let mut sha256 = broker.client("gateway", Password::Value(GATEWAY_PASSWORD));
    sha256.sasl.mechanism = Some(SaslMechanism::ScramSha256);
    opsline_kafka::admin::wait_for_broker(&sha256, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("SCRAM-SHA-256 works too: {e}"));

    let config = GatewayConfig {
        topic_prefix: opsline_e2e::unique_prefix("tlsscramwrong"),
        listen: "127.0.0.1:0".to_owned(),
        kafka: broker.client("gateway", Password::File(WRONG_PASSWORD)),
        ..GatewayConfig::default()
    };
    let error = match Application::<Gateway>::build(config, (), Metrics::new()).await {
        Ok(_) => panic!("a gateway with a wrong Kafka password must not start"),
        Err(error) => opsline_runtime::error::chain(&error),
    };
    eprintln!("refused as expected: {error}");
    for expected in [
        broker.bootstrap.as_str(),
        "SCRAM-SHA-512",
        "\"gateway\"",
        "refused",
        "authentication",
    ] {
        assert!(error.contains(expected), "the error names {expected:?}: {error}");
    }
    assert!(!error.contains(WRONG_PASSWORD), "the password is never shown: {error}");
    assert!(
        !error.contains("not reachable"),
        "a refusal is said as such, not as an unreachable broker after a retry loop: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_brokers_ca_is_refused() {
    let broker = spawn_secure_tansu(&[("gateway", GATEWAY_PASSWORD)]).await;
    let mut untrusting = broker.client("gateway", Password::Value(GATEWAY_PASSWORD));
    untrusting.tls.ca_file = None; // the system's roots only: the test CA is not among them
    let error = opsline_kafka::admin::wait_for_broker(&untrusting, Duration::from_secs(60))
        .await
        .expect_err("a broker certificate from an unknown CA is refused");
    let error = error.to_string();
    eprintln!("refused as expected: {error}");
    assert!(error.contains("certificate verify failed"), "{error}");
    assert!(error.contains(&broker.bootstrap), "{error}");
}
