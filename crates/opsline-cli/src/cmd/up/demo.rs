//! The demo behind `opsline up --demo`: sample data in, a report of what the pipeline did out.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use opsline_events::logs::{Alert, Incident, IncidentStatus, TemplateEvent};
use opsline_events::ops::Postmortem;
use opsline_events::{TopicNames, topics};
use opsline_kafka::{InRecord, KafkaConfig};
use serde_json::Value;

use super::services::Endpoints;

async fn read_all(kafka: &KafkaConfig, topic: &str) -> anyhow::Result<Vec<InRecord>> {
    Ok(opsline_kafka::reader::read_until_idle(kafka, topic, Duration::from_secs(2), Duration::from_secs(120)).await?)
}

fn loghub_files(data: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let loghub = data.join("loghub");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&loghub)
        .with_context(|| format!("reference data not found at {}", loghub.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|dir| {
            let name = dir.file_name()?.to_string_lossy().into_owned();
            let file = dir.join(format!("{name}_2k.log"));
            file.is_file().then_some(file)
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Waits until the log service has read `lines` lines.
async fn wait_for_logintel(client: &reqwest::Client, logintel: &str, lines: usize) -> anyhow::Result<u64> {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let stats: Value = client.get(format!("{logintel}/v1/stats")).send().await?.json().await?;
        let seen = stats["lines_in"].as_u64().unwrap_or(0);
        if seen as usize >= lines || Instant::now() > deadline {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Replays the samples and reports; returns when the replay ended (the LLM report times
/// the first summary from then).
pub async fn run(
    endpoints: &Endpoints,
    data: &Path,
    tickets: usize,
    kafka: &KafkaConfig,
    names: &TopicNames,
) -> anyhow::Result<Instant> {
    let started = Instant::now();
    let client = reqwest::Client::new();
    let files = loghub_files(data)?;
    let gateway = crate::cmd::run_file::GatewayTarget {
        url: endpoints.gateway.clone(),
        key: Some(endpoints.ingest_key.clone()),
    };
    println!(
        "\n== demo: replaying {} LogHub files and {tickets} tickets through the gateway",
        files.len()
    );
    let logs = crate::cmd::replay::replay_log_files(&gateway, &files, None, 1000).await?;
    let ticket_file = data.join("tickets/topic-train.csv");
    let tickets = crate::cmd::replay::replay_ticket_file(&gateway, &ticket_file, &[], Some(tickets), 100).await?;
    println!(
        "sent        {} log lines ({} accepted, {} rejected)",
        logs.sent, logs.accepted, logs.rejected
    );
    println!(
        "sent        {} tickets ({} accepted, {} rejected)",
        tickets.sent, tickets.accepted, tickets.rejected
    );
    let replay_ended = Instant::now();

    let seen = wait_for_logintel(&client, &endpoints.logintel, logs.accepted).await?;
    client
        .post(format!("{}/v1/admin/flush", endpoints.logintel))
        .bearer_auth(&endpoints.logintel_token)
        .send()
        .await?
        .error_for_status()?;
    println!("logintel    read {seen} lines; windows flushed");

    // Resolve what is still open, as the on-call engineer would at the end of the day.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut incidents: BTreeMap<uuid::Uuid, Incident> = BTreeMap::new();
    for record in read_all(kafka, &names.name(&topics::INCIDENTS)).await? {
        if let Ok(envelope) = record.envelope::<Incident>() {
            incidents.insert(envelope.data.incident_id, envelope.data);
        }
    }
    let open: Vec<uuid::Uuid> = incidents
        .values()
        .filter(|i| i.status == IncidentStatus::Open)
        .map(|i| i.incident_id)
        .collect();
    for id in &open {
        client
            .post(format!("{}/v1/incidents/{id}/resolve", endpoints.logintel))
            .bearer_auth(&endpoints.logintel_token)
            .header("content-type", "application/json")
            .body(r#"{"by":"opsline-demo"}"#)
            .send()
            .await?;
    }
    println!(
        "incidents   {} opened, {} resolved now by the demo operator",
        incidents.len(),
        open.len()
    );

    // Wait for the drafts the postmortem policy asked for.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let incidents = latest_incidents(kafka, names).await?;
    let wanted = incidents
        .iter()
        .filter(|i| i.status == IncidentStatus::Resolved && i.wants_postmortem())
        .count();
    let postmortem_topic = names.name(&topics::POSTMORTEMS);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut postmortems = Vec::new();
    while Instant::now() < deadline {
        postmortems = read_all(kafka, &postmortem_topic).await?;
        if distinct_postmortems(&postmortems) >= wanted {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    report(kafka, names, logs.accepted, &postmortems).await?;
    attention_report(logs.accepted, &incidents, distinct_postmortems(&postmortems));
    triage_report(kafka, names, tickets.accepted).await?;
    println!(
        "\nsearch page: {}/  (API: {}/v1/search?q=...)",
        endpoints.postmortem, endpoints.postmortem
    );
    println!("demo finished in {:.1}s", started.elapsed().as_secs_f64());
    Ok(replay_ended)
}

/// The latest state of every incident on the bus.
async fn latest_incidents(kafka: &KafkaConfig, names: &TopicNames) -> anyhow::Result<Vec<Incident>> {
    let mut latest: BTreeMap<uuid::Uuid, Incident> = BTreeMap::new();
    for record in read_all(kafka, &names.name(&topics::INCIDENTS)).await? {
        if let Ok(envelope) = record.envelope::<Incident>() {
            latest.insert(envelope.data.incident_id, envelope.data);
        }
    }
    Ok(latest.into_values().collect())
}

fn distinct_postmortems(records: &[InRecord]) -> usize {
    let ids: std::collections::BTreeSet<uuid::Uuid> = records
        .iter()
        .filter_map(|r| r.envelope::<Postmortem>().ok())
        .map(|e| e.data.postmortem_id)
        .collect();
    ids.len()
}

/// The reduction from lines to the incidents a person should see, and why each was opened.
fn attention_report(lines: usize, incidents: &[Incident], postmortems: usize) {
    let alerts: u64 = incidents
        .iter()
        .map(|i| i.attention.as_ref().map_or(i.alert_ids.len() as u64, |a| a.alert_count))
        .sum();
    println!("\n== attention: what a person is asked to look at");
    println!(
        "{lines} lines -> {} incidents ({alerts} alerts in them) -> {postmortems} postmortems ({:.0} lines per incident)",
        incidents.len(),
        lines as f64 / incidents.len().max(1) as f64
    );
    let mut ranked: Vec<&Incident> = incidents.iter().collect();
    ranked.sort_by(|a, b| {
        let score = |i: &Incident| i.attention.as_ref().map_or(0.0, |a| a.score);
        score(b).total_cmp(&score(a))
    });
    for incident in ranked.iter().take(8) {
        let (sev, why) = incident
            .attention
            .as_ref()
            .map_or(("-".to_owned(), String::new()), |a| {
                (format!("{:?}", a.sev).to_lowercase(), a.why.clone())
            });
        let policy = incident.postmortem.as_ref().map_or(String::new(), |d| {
            format!(" [postmortem: {:?}, {}]", d.decision, d.reason).to_lowercase()
        });
        println!(
            "  {sev} {}: {}",
            incident.service,
            incident.title.chars().take(70).collect::<String>()
        );
        println!("       {why}{policy}");
    }
}

async fn report(kafka: &KafkaConfig, names: &TopicNames, lines: usize, postmortems: &[InRecord]) -> anyhow::Result<()> {
    println!("\n== what is on the bus");
    println!("{:<44} {:>9}", "topic", "records");
    let mut alerts = Vec::new();
    let mut templates = 0usize;
    for spec in [
        topics::RAW_LOGS,
        topics::RAW_TICKETS,
        topics::INGEST_REJECTED,
        topics::TEMPLATES,
        topics::ALERTS,
        topics::INCIDENTS,
        topics::POSTMORTEMS,
    ] {
        let topic = names.name(&spec);
        let records = read_all(kafka, &topic).await?;
        println!("{topic:<44} {:>9}", records.len());
        if spec == topics::ALERTS {
            alerts = records
                .iter()
                .filter_map(|r| r.envelope::<Alert>().ok())
                .map(|e| e.data)
                .collect();
        }
        if spec == topics::TEMPLATES {
            templates = records
                .iter()
                .filter_map(|r| r.envelope::<TemplateEvent>().ok())
                .count();
        }
    }
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for alert in &alerts {
        *by_kind.entry(alert.kind.as_str()).or_default() += 1;
    }
    println!("\n== log intelligence");
    println!(
        "lines in {lines}, template events {templates}, alerts out {} ({:.1} lines per alert)",
        alerts.len(),
        lines as f64 / alerts.len().max(1) as f64
    );
    println!("alerts by kind: {by_kind:?}");
    for alert in alerts
        .iter()
        .filter(|a| a.severity == opsline_events::logs::Severity::Critical)
        .take(5)
    {
        println!(
            "  [{}] {} {}: {}",
            alert.severity.as_str(),
            alert.service,
            alert.kind.as_str(),
            alert.template.chars().take(90).collect::<String>()
        );
    }
    println!("\n== postmortem drafts ({})", postmortems.len());
    for record in postmortems.iter().take(5) {
        if let Ok(envelope) = record.envelope::<Postmortem>() {
            println!(
                "  {:?}  {}  ({})",
                envelope.data.status, envelope.data.title, envelope.data.postmortem_id
            );
        }
    }
    if let Some(first) = postmortems.first().and_then(|r| r.envelope::<Postmortem>().ok()) {
        println!("\n--- first draft (first 30 lines) ---");
        for line in first.data.markdown.lines().take(30) {
            println!("{line}");
        }
        println!("---");
    }
    Ok(())
}

/// Waits for the triage of the replayed tickets, then prints routed counts per disposition and queue.
async fn triage_report(kafka: &KafkaConfig, names: &TopicNames, tickets: usize) -> anyhow::Result<()> {
    use opsline_events::tickets::{RoutedTicket, TriagedTicket};
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut triaged: Vec<TriagedTicket> = Vec::new();
    while Instant::now() < deadline {
        triaged = read_all(kafka, &names.name(&topics::TICKETS_TRIAGED))
            .await?
            .iter()
            .filter_map(|r| r.envelope::<TriagedTicket>().ok())
            .map(|e| e.data)
            .collect();
        if triaged.len() >= tickets {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let routed: Vec<RoutedTicket> = read_all(kafka, &names.name(&topics::TICKETS_ROUTED))
        .await?
        .iter()
        .filter_map(|r| r.envelope::<RoutedTicket>().ok())
        .map(|e| e.data)
        .filter(|r| r.revision == 1)
        .collect();
    let mut by_disposition: BTreeMap<String, usize> = BTreeMap::new();
    for ticket in &triaged {
        let name = serde_json::to_value(ticket.disposition)?
            .as_str()
            .unwrap_or("?")
            .to_owned();
        *by_disposition.entry(name).or_default() += 1;
    }
    let mut by_queue: BTreeMap<&str, usize> = BTreeMap::new();
    for ticket in &routed {
        *by_queue.entry(ticket.queue.as_str()).or_default() += 1;
    }
    let linked = routed.iter().filter(|r| r.incident_id.is_some()).count();
    println!(
        "\n== ticket triage ({} of {tickets} tickets triaged, {linked} linked to an incident)",
        triaged.len()
    );
    println!("by disposition: {by_disposition:?}");
    println!("{:<28} {:>7}", "queue", "routed");
    for (queue, count) in &by_queue {
        println!("{queue:<28} {count:>7}");
    }
    Ok(())
}
