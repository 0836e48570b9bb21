//! Ingest keys end to end (hardening issue, item 4): a gateway without keys refuses ingest;
//! a key's services are checked per record; ticket ids are scoped to the key, so one source
//! cannot overwrite another's ticket while a retry stays one ticket; forged chat signatures
//! are counted, and only a sample of them is audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use opsline_e2e::gateway::{INGEST_KEY_NAME, ingest_client, spawn_gateway};
use opsline_e2e::selfservice::{Platform, now, signed_post};
use opsline_events::ops::SelfServiceAction;
use opsline_events::tickets::RawTicket;
use opsline_events::{Envelope, topics};
use opsline_gateway::{IngestKeyConfig, hash_key};
use secrecy::SecretString;
use serde_json::{Value, json};

async fn post(client: &reqwest::Client, url: &str, media: &str, body: String) -> (u16, Value) {
    let response = client
        .post(url)
        .header("content-type", media)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn keyed(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {key}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_keys_a_gateway_without_keys_refuses_every_ingest_request() {
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "nokeys", |c| c.keys.clear()).await;
    let client = ingest_client();
    let line = json!({"service": "svc", "line": "hello"}).to_string();
    let ticket = json!({"requester": "a@example.com", "subject": "s"}).to_string();
    for (path, media, body) in [
        ("/v1/logs", "application/x-ndjson", line.clone()),
        ("/v1/tickets", "application/json", ticket),
        (
            "/v1/alerts/alertmanager",
            "application/json",
            json!({"version": "4", "alerts": []}).to_string(),
        ),
    ] {
        let (status, answer) = post(&client, &format!("{}{path}", gateway.url), media, body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (401, Some("no_ingest_keys")),
            "{path}"
        );
    }
    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(
        metrics.contains("opsline_gateway_ingest_refused_total{endpoint=\"logs\",reason=\"no_ingest_keys\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_keys_scope_services_and_ticket_ids_to_the_key() {
    let broker = opsline_e2e::spawn_broker().await;
    let mut shipper = IngestKeyConfig::new("apache-shipper", hash_key("k-apache"));
    shipper.services = vec!["apache".into()];
    let mut helpdesk = IngestKeyConfig::new("helpdesk", hash_key("k-helpdesk"));
    helpdesk.endpoints = vec![opsline_gateway::IngestEndpoint::Tickets];
    let gateway = spawn_gateway(broker.config(), "keyscope", |c| {
        c.keys.push(shipper);
        c.keys.push(helpdesk);
    })
    .await;
    let logs = format!("{}/v1/logs", gateway.url);
    let tickets = format!("{}/v1/tickets", gateway.url);

    // Services: each record is checked; the others in the request are accepted.
    let body = format!(
        "{}\n{}\n",
        json!({"service": "apache", "line": "GET / 200"}),
        json!({"service": "payroll", "line": "pretending to be payroll"})
    );
    let (status, answer) = post(&keyed("k-apache"), &logs, "application/x-ndjson", body).await;
    assert_eq!((status, answer["accepted"].as_u64()), (202, Some(1)), "{answer}");
    assert_eq!(answer["rejected"][0]["code"], "service_not_allowed", "{answer}");
    let (status, _) = post(
        &keyed("k-helpdesk"),
        &logs,
        "application/x-ndjson",
        json!({"service": "apache", "line": "x"}).to_string(),
    )
    .await;
    assert_eq!(status, 403, "the helpdesk key may post only tickets");

    // Ticket ids: the same client id from two keys is two tickets; the same request twice is one.
    let ticket = |subject: &str| json!({"ticket_id": "T-1", "requester": "a@example.com", "subject": subject});
    for (client, subject) in [
        (keyed("k-helpdesk"), "printer on fire"),
        (ingest_client(), "attacker overwrites T-1"),
        (keyed("k-helpdesk"), "printer on fire"),
    ] {
        let (status, answer) = post(&client, &tickets, "application/json", ticket(subject).to_string()).await;
        assert_eq!(status, 202, "{answer}");
    }
    let retried = json!({"id": "0190b3c2-1111-7000-8000-000000000001", "requester": "b@example.com", "subject": "vpn"});
    for _ in 0..2 {
        let (status, answer) = post(&ingest_client(), &tickets, "application/json", retried.to_string()).await;
        assert_eq!(status, 202, "{answer}");
    }
    let records = opsline_e2e::read_n(
        &broker.config(),
        &gateway.names.name(&topics::RAW_TICKETS),
        5,
        Duration::from_secs(60),
    )
    .await;
    let ids: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            let ticket: RawTicket = r.envelope::<RawTicket>().unwrap().data;
            (ticket.ticket_id, ticket.subject)
        })
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    let of = |subject: &str| -> std::collections::BTreeSet<String> {
        ids.iter()
            .filter(|(_, s)| s == subject)
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(
        of("printer on fire"),
        ["helpdesk:T-1".to_owned()].into(),
        "one ticket, twice"
    );
    assert_eq!(
        of("attacker overwrites T-1"),
        [format!("{INGEST_KEY_NAME}:T-1")].into(),
        "another key's T-1 is another ticket"
    );
    let event_id: uuid::Uuid = retried["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        of("vpn"),
        [format!("T-{}", event_id.simple())].into(),
        "a retry with the same event id is the same assigned ticket"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_keys_failed_signature_checks_are_counted_and_sampled() {
    const SECRET: &str = "webhook-secret-1";
    const FORGED: usize = 200;
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "chatsample", |c| {
        c.chat.webhook_secret = Some(SecretString::from(SECRET));
        c.chat.refusal_audit_burst = 5;
        c.chat.refusal_audits_per_minute = 0.0;
    })
    .await;
    let url = format!("{}/v1/chat/webhook", gateway.url);
    let body = json!({"user_id": "U1", "channel_id": "C1", "text": "reset my password"}).to_string();
    for _ in 0..FORGED {
        let (status, answer) = signed_post(
            &url,
            Platform::Webhook,
            "wrong-secret",
            now(),
            "application/json",
            body.as_bytes(),
        )
        .await;
        assert_eq!((status, answer["error"].as_str()), (401, Some("bad_signature")));
    }
    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(
        metrics.contains(&format!(
            "opsline_gateway_chat_refused_total{{platform=\"webhook\",code=\"bad_signature\"}} {FORGED}"
        )),
        "{metrics}"
    );
    let audit = opsline_kafka::reader::read_until_idle(
        &broker.config(),
        &gateway.names.name(&topics::SELFSERVICE_AUDIT),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let refused: Vec<SelfServiceAction> = audit
        .iter()
        .map(|r| {
            Envelope::<SelfServiceAction>::from_json(r.payload_bytes())
                .unwrap()
                .data
        })
        .filter(|a| a.action == "chat_request")
        .collect();
    assert_eq!(refused.len(), 5, "the burst is audited, the rest only counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_keys_a_stalled_body_is_answered_408_and_frees_its_budget() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let broker = opsline_e2e::spawn_broker().await;
    let gateway = spawn_gateway(broker.config(), "stalled", |c| c.request_timeout_ms = 1_000).await;
    let address = gateway.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /v1/logs HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {}\r\n\
content-type: application/x-ndjson\r\ncontent-length: 100000\r\n\r\n{{\"service\":\"svc\",",
        opsline_e2e::gateway::INGEST_KEY
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes: the gateway answers once its timeout passed.
    let mut answer = vec![0u8; 1024];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let metrics = opsline_e2e::scrape_metrics(&gateway.url).await;
    assert!(metrics.contains("opsline_gateway_in_flight_body_bytes 0"), "{metrics}");
}
