//! Every service starts, becomes ready, and stops the same way, through
//! `opsline_runtime::Application` (the call `opsline up` and the binaries use), on a
//! real broker: `/readyz` answers 200 once the broker answers and its followers caught
//! up, the service is not ready from the moment shutdown begins, and it stops cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_classify::{TrainConfig, read_labeled_csv, train};
use opsline_e2e::gateway::spawn_gateway;
use opsline_e2e::spawn::{Spawned, spawn};
use opsline_e2e::{shared_data, spawn_broker};
use opsline_helpdesk::{Helpdesk, HelpdeskConfig};
use opsline_logintel::{Logintel, LogintelConfig};
use opsline_runtime::Service;
use opsline_runtime::readiness::ReadyState;
use opsline_selfservice::{SelfService, SelfServiceConfig};
use opsline_triage::{Triage, TriageConfig};

async fn ready_then_stopped<S: Service>(service: Spawned<S>) {
    service.wait_ready(Duration::from_secs(60)).await;
    let response = reqwest::get(format!("{}/readyz", service.url))
        .await
        .expect("GET /readyz");
    assert_eq!(response.status(), 200, "{} ready", S::NAME);
    let readiness = service.readiness.clone();
    service.shutdown.cancel();
    assert_eq!(
        readiness.state(),
        ReadyState::Stopping,
        "{} not ready once shutdown begins",
        S::NAME
    );
    service
        .stop()
        .await
        .unwrap_or_else(|e| panic!("{} stops cleanly: {e}", S::NAME));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_becomes_ready_and_stops_the_same_way() {
    let broker = spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "lifecycle", |_| {}).await;
    let (kafka, prefix) = (gateway.kafka.clone(), gateway.names.prefix.clone());

    let logintel = LogintelConfig {
        topic_prefix: prefix.clone(),
        group_id: format!("{prefix}logintel"),
        kafka: kafka.clone(),
        ..LogintelConfig::default()
    };
    let triage = TriageConfig {
        topic_prefix: prefix.clone(),
        group_id: format!("{prefix}triage"),
        kafka: kafka.clone(),
        ..TriageConfig::default()
    };
    let data = read_labeled_csv(shared_data().join("tickets/topic-train.csv"), &[], "").expect("training csv");
    let model = train(&data.texts[..500], &data.labels[..500], &TrainConfig::default()).expect("train");
    let mut selfservice = SelfServiceConfig {
        topic_prefix: prefix.clone(),
        group_id: format!("{prefix}selfservice"),
        kafka: kafka.clone(),
        ..SelfServiceConfig::default()
    };
    // No directory is started here: the default loopback URL, plain LDAP allowed there only.
    selfservice.directory.allow_insecure = true;

    // A helpdesk connector (Zendesk here: it calls out only for routed tickets, none are sent).
    let mut helpdesk = HelpdeskConfig {
        topic_prefix: prefix.clone(),
        group_id: format!("{prefix}helpdesk"),
        kafka: kafka.clone(),
        ..HelpdeskConfig::default()
    };
    helpdesk.zendesk.url = "http://127.0.0.1:9".into();
    helpdesk.zendesk.user = "bot@example.org".into();
    helpdesk.zendesk.password = Some(secrecy::SecretString::from("zd-token"));

    // The notify service with one webhook target (it calls out only for incidents, none open).
    let mut notify = opsline_notify::NotifyConfig {
        topic_prefix: prefix.clone(),
        group_id: format!("{prefix}notify"),
        kafka: kafka.clone(),
        ..opsline_notify::NotifyConfig::default()
    };
    notify.targets.insert(
        "hook".into(),
        opsline_notify::TargetConfig {
            kind: opsline_notify::TargetKind::Webhook,
            base_url: None,
            channel: None,
            url: Some("http://127.0.0.1:9/hook".into()),
            secret: None,
            secret_file: None,
            incident_url: None,
            queue_capacity: None,
        },
    );

    let logintel = spawn::<Logintel>(logintel, ()).await;
    let notify = spawn::<opsline_notify::Notify>(notify, ()).await;
    let helpdesk = spawn::<Helpdesk>(helpdesk, ()).await;
    let triage = spawn::<Triage>(triage, Some(model)).await;
    let selfservice = spawn::<SelfService>(selfservice, None).await;
    let postmortem = opsline_e2e::postmortem::spawn_postmortem(kafka, &gateway.names, Vec::new(), |_| {}).await;
    ready_then_stopped(logintel).await;
    ready_then_stopped(triage).await;
    ready_then_stopped(selfservice).await;
    ready_then_stopped(postmortem).await;
    ready_then_stopped(helpdesk).await;
    ready_then_stopped(notify).await;
    ready_then_stopped(gateway).await;
}
