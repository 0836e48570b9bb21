//! `opsline replay logs|tickets`: stream files into the pipeline through the gateway.
//!
//! Requests are retried (with a pause) on 503; per-record rejections are
//! counted and the first few printed. A progress bar shows lines sent.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::run_file::GatewayTarget;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::cli::{ReplayLogsArgs, ReplayTicketsArgs};

/// What a replay did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct ReplayStats {
    /// Records sent.
    pub sent: usize,
    /// Records accepted (acknowledged by Kafka).
    pub accepted: usize,
    /// Records rejected with a reason.
    pub rejected: usize,
}

impl std::ops::AddAssign for ReplayStats {
    fn add_assign(&mut self, other: Self) {
        self.sent += other.sent;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
    }
}

fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} ({{per_sec}}, eta {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// The service name of a log file: `HDFS_2k.log` -> `hdfs`.
pub fn service_of(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem: String = name.split(['_', '.']).next().unwrap_or("unknown").to_ascii_lowercase();
    if stem.is_empty() { "unknown".to_owned() } else { stem }
}

/// Posts one request with the ingest key, retrying on 429, 503 and connection errors (after
/// the gateway's `Retry-After` when it gives one); returns the gateway's JSON answer.
async fn post(
    client: &reqwest::Client,
    key: Option<&str>,
    url: &str,
    query: &[(&str, String)],
    media: &str,
    body: Vec<u8>,
) -> anyhow::Result<Value> {
    let mut delay = Duration::from_millis(200);
    for attempt in 0..8 {
        let mut request = client.post(url);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let sent = request
            .query(query)
            .header("content-type", media)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if matches!(response.status().as_u16(), 429 | 503) && attempt < 7 => {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok());
                if let Some(seconds) = retry_after {
                    delay = delay.max(Duration::from_secs(seconds.min(30)));
                }
            }
            Ok(response) => {
                let status = response.status();
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                if status.is_success() || status.as_u16() == 400 {
                    return Ok(answer);
                }
                if status.as_u16() == 401 {
                    anyhow::bail!(
                        "gateway answered {status}: {answer}; pass --ingest-key (or OPSLINE_INGEST_KEY), or run \
against a running `opsline up`, which writes its key to run.json"
                    );
                }
                anyhow::bail!("gateway answered {status}: {answer}");
            }
            Err(error) if attempt == 7 => return Err(error).context(format!("cannot reach {url}")),
            Err(_) => {}
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    anyhow::bail!("gateway stayed unavailable")
}

fn count(answer: &Value, stats: &mut ReplayStats, shown: &mut usize) {
    stats.accepted += answer["accepted"].as_u64().unwrap_or(0) as usize;
    if let Some(rejected) = answer["rejected"].as_array() {
        stats.rejected += rejected.len();
        for entry in rejected.iter().take(3usize.saturating_sub(*shown)) {
            eprintln!("rejected: {entry}");
            *shown += 1;
        }
    }
}

/// Replays raw log files through `gateway`.
pub async fn replay_log_files(
    gateway: &GatewayTarget,
    files: &[PathBuf],
    service: Option<&str>,
    batch: usize,
) -> anyhow::Result<ReplayStats> {
    let client = reqwest::Client::new();
    let mut total = ReplayStats::default();
    for file in files {
        let service = service.map(str::to_owned).unwrap_or_else(|| service_of(file));
        let content = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let lines: Vec<&[u8]> = content.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
        let bar = progress(lines.len() as u64, &service);
        let url = format!("{}/v1/logs", gateway.url);
        let query = [("service", service.clone()), ("source", file.display().to_string())];
        let mut stats = ReplayStats::default();
        let mut shown = 0;
        for chunk in lines.chunks(batch.max(1)) {
            let body = chunk.join(&b'\n');
            let answer = post(&client, gateway.key.as_deref(), &url, &query, "text/plain", body).await?;
            stats.sent += chunk.len();
            count(&answer, &mut stats, &mut shown);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        eprintln!(
            "{}: {} lines sent, {} accepted, {} rejected",
            file.display(),
            stats.sent,
            stats.accepted,
            stats.rejected
        );
        total += stats;
    }
    Ok(total)
}

/// Reads tickets from CSV (one per row) or JSON Lines.
pub fn read_tickets(file: &Path, text_cols: &[String], limit: Option<usize>) -> anyhow::Result<Vec<Value>> {
    let limit = limit.unwrap_or(usize::MAX);
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_jsonl = matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson" | "json")
    );
    let mut tickets = Vec::new();
    if is_jsonl {
        let reader = std::io::BufReader::new(std::fs::File::open(file)?);
        for line in reader.lines().take(limit) {
            let line = line?;
            if !line.trim().is_empty() {
                tickets
                    .push(serde_json::from_str(&line).with_context(|| format!("bad JSON line in {}", file.display()))?);
            }
        }
        return Ok(tickets);
    }
    let mut reader = csv::Reader::from_path(file).with_context(|| format!("cannot read {}", file.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let label_index = headers.len().saturating_sub(1);
    let text_indexes: Vec<usize> = if text_cols.is_empty() {
        (0..label_index).collect()
    } else {
        text_cols
            .iter()
            .filter_map(|c| headers.iter().position(|h| h == c))
            .collect()
    };
    anyhow::ensure!(
        !text_indexes.is_empty(),
        "none of the text columns {text_cols:?} is in {headers:?}"
    );
    for (row, record) in reader.records().take(limit).enumerate() {
        let record = record?;
        let texts: Vec<&str> = text_indexes
            .iter()
            .filter_map(|i| record.get(*i))
            .map(str::trim)
            .collect();
        let (subject, description) = if texts.len() == 1 {
            // One text column: its first words are the subject, the rest the description (a
            // description repeating the subject only costs the model prompt tokens).
            split_subject(texts[0])
        } else {
            let first = texts.first().copied().unwrap_or_default();
            (first.chars().take(120).collect(), texts.join("\n"))
        };
        tickets.push(json!({
            "ticket_id": format!("{stem}-{row}"),
            "requester": format!("user{}@example.com", row % 50),
            "subject": if subject.is_empty() { "(no subject)".to_owned() } else { subject },
            "description": description,
            "channel": "replay",
            "attributes": { "source_label": record.get(label_index).unwrap_or_default() },
        }));
    }
    Ok(tickets)
}

/// Words of a one-column ticket taken as its subject.
const SUBJECT_WORDS: usize = 8;

/// `text`'s first [`SUBJECT_WORDS`] words (at most 120 characters) and the rest; a text with
/// nothing after its subject is its own description.
fn split_subject(text: &str) -> (String, String) {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut subject = String::new();
    let mut used = 0;
    for word in words.iter().take(SUBJECT_WORDS) {
        if !subject.is_empty() && subject.chars().count() + 1 + word.chars().count() > 120 {
            break;
        }
        if !subject.is_empty() {
            subject.push(' ');
        }
        subject.extend(word.chars().take(120));
        used += 1;
    }
    let rest = words[used..].join(" ");
    let description = if rest.is_empty() { text.to_owned() } else { rest };
    (subject, description)
}

/// Replays tickets through `gateway`.
pub async fn replay_ticket_file(
    gateway: &GatewayTarget,
    file: &Path,
    text_cols: &[String],
    limit: Option<usize>,
    batch: usize,
) -> anyhow::Result<ReplayStats> {
    let tickets = read_tickets(file, text_cols, limit)?;
    let client = reqwest::Client::new();
    let bar = progress(tickets.len() as u64, "tickets");
    let url = format!("{}/v1/tickets", gateway.url);
    let mut stats = ReplayStats::default();
    let mut shown = 0;
    for chunk in tickets.chunks(batch.max(1)) {
        let body = serde_json::to_vec(chunk)?;
        let answer = post(&client, gateway.key.as_deref(), &url, &[], "application/json", body).await?;
        stats.sent += chunk.len();
        count(&answer, &mut stats, &mut shown);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    eprintln!(
        "{}: {} tickets sent, {} accepted, {} rejected",
        file.display(),
        stats.sent,
        stats.accepted,
        stats.rejected
    );
    Ok(stats)
}

/// `opsline replay logs`.
pub async fn logs(args: ReplayLogsArgs) -> anyhow::Result<()> {
    let gateway = super::run_file::gateway_target(args.gateway, args.ingest_key, &args.run.data_dir)?;
    let stats = replay_log_files(&gateway, &args.files, args.service.as_deref(), args.batch).await?;
    println!("{}", serde_json::to_string(&stats)?);
    Ok(())
}

/// `opsline replay tickets`.
pub async fn tickets(args: ReplayTicketsArgs) -> anyhow::Result<()> {
    let gateway = super::run_file::gateway_target(args.gateway, args.ingest_key, &args.run.data_dir)?;
    let stats = replay_ticket_file(&gateway, &args.file, &args.text_cols, args.limit, args.batch).await?;
    println!("{}", serde_json::to_string(&stats)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_subject;

    #[test]
    fn a_one_column_ticket_is_split_into_subject_and_description() {
        let (subject, description) = split_subject("vpn drops every hour since monday at home please help thanks");
        assert_eq!(subject, "vpn drops every hour since monday at home");
        assert_eq!(description, "please help thanks");
        let (subject, description) = split_subject("printer jammed");
        assert_eq!(
            (subject.as_str(), description.as_str()),
            ("printer jammed", "printer jammed")
        );
        let long = "x".repeat(300);
        let (subject, description) = split_subject(&format!("{long} tail"));
        assert_eq!(subject.chars().count(), 120);
        assert_eq!(description, "tail");
    }
}
