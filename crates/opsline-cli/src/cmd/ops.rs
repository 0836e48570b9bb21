//! `opsline incidents`, `opsline alerts`, `opsline tickets`: the console's JSON API in the
//! terminal. The console and a token are found in the run file of a running `opsline up`
//! (see [`super::run_file`]); `--json` prints one JSON array; `--follow` keeps looking every
//! `--interval-secs` and prints what appeared or changed.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::run_file::{Found, console_target};
use crate::cli::{AlertsArgs, IncidentsArgs, TicketsArgs};
use crate::cli_ops::ConsoleTarget;

/// Largest page the console serves.
const PAGE: usize = 500;

/// One list: its path, its filters, how a row prints, and what identifies an item.
struct Listing {
    path: &'static str,
    filters: Vec<(&'static str, String)>,
    header: &'static str,
    row: fn(&Value) -> String,
    id: fn(&Value) -> String,
}

/// `opsline incidents`.
pub async fn incidents(args: IncidentsArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let filters = [
        ("service", args.service),
        ("severity", args.severity),
        ("status", args.status),
    ];
    let listing = Listing {
        path: "/v1/incidents",
        filters: keep(filters),
        header: "ID        LEVEL STATUS       SERVICE      OPENED (LOG TIME)     AGE        TITLE",
        row: incident_row,
        id: |v| v["id"].as_str().unwrap_or_default().to_owned(),
    };
    run(listing, args.target, config_file).await
}

/// `opsline alerts`.
pub async fn alerts(args: AlertsArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let filters = [
        ("service", args.service),
        ("severity", args.severity),
        ("kind", args.kind),
    ];
    let listing = Listing {
        path: "/v1/alerts",
        filters: keep(filters),
        header: "WINDOW END            SERVICE      KIND          SEVERITY  LINES  TEMPLATE",
        row: alert_row,
        id: |v| v["alert_id"].as_str().unwrap_or_default().to_owned(),
    };
    run(listing, args.target, config_file).await
}

/// `opsline tickets`.
pub async fn tickets(args: TicketsArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let filters = [
        ("queue", args.queue),
        ("priority", args.priority),
        ("incident", args.incident),
    ];
    let listing = Listing {
        path: "/v1/tickets",
        filters: keep(filters),
        header: "TICKET          QUEUE                  PRI  CONF  REV  INCIDENT  SUMMARY",
        row: ticket_row,
        id: |v| v["ticket_id"].as_str().unwrap_or_default().to_owned(),
    };
    run(listing, args.target, config_file).await
}

fn keep<const N: usize>(filters: [(&'static str, Option<String>); N]) -> Vec<(&'static str, String)> {
    filters.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
}

fn text(value: &Value, field: &str) -> String {
    match &value[field] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn cut(text: &str, width: usize) -> String {
    let mut out: String = text.chars().take(width).collect();
    if text.chars().count() > width {
        out.pop();
        out.push('…');
    }
    out
}

/// `2005-12-13 09:52:35Z` (to the second).
fn short_time(value: &Value, field: &str) -> String {
    let t = text(value, field).replace('T', " ");
    match t.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => t,
    }
}

fn incident_row(v: &Value) -> String {
    let mut status = text(v, "status");
    if status == "open" && !v["acknowledged_by"].is_null() {
        status = "acked".into();
    }
    // Age since Opsline opened it (processing time), not since the log's own time.
    let age = v["detected_at"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| jiff::Timestamp::now().as_second().saturating_sub(t.as_second()))
        .map_or_else(|| "-".to_owned(), age);
    let level = v["sev"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| text(v, "severity"));
    let mut line = format!(
        "{:<9} {:<5} {:<12} {:<12} {:<21} {:<10} {}",
        text(v, "id").chars().take(8).collect::<String>(),
        level,
        status,
        cut(&text(v, "service"), 12),
        short_time(v, "opened_at"),
        age,
        cut(&text(v, "title"), 80)
    );
    let why = text(v, "why");
    if !why.is_empty() {
        line.push_str(&format!("\n          {}", cut(&why, 140)));
    }
    line
}

fn age(seconds: i64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{}s", s.max(0)),
    }
}

fn alert_row(v: &Value) -> String {
    format!(
        "{:<21} {:<12} {:<13} {:<9} {:>5}  {}",
        short_time(v, "window_end"),
        cut(&text(v, "service"), 12),
        text(v, "kind"),
        text(v, "severity"),
        text(v, "count"),
        cut(&text(v, "template"), 90)
    )
}

fn ticket_row(v: &Value) -> String {
    let confidence = v["confidence"].as_f64().map(|c| format!("{c:.2}")).unwrap_or_default();
    let incident: String = text(v, "incident_id").chars().take(8).collect();
    format!(
        "{:<15} {:<22} {:<4} {:<5} {:<4} {:<9} {}",
        cut(&text(v, "ticket_id"), 15),
        cut(&text(v, "queue"), 22),
        text(v, "priority").to_uppercase(),
        confidence,
        text(v, "revision"),
        if incident.is_empty() { "-".to_owned() } else { incident },
        cut(&text(v, "summary"), 80)
    )
}

async fn run(listing: Listing, target: ConsoleTarget, config_file: Option<&Path>) -> anyhow::Result<()> {
    let (console, token) = console_target(
        target.console.clone(),
        target.token.clone(),
        config_file,
        &target.run.data_dir,
    )?;
    let Some(token) = token else {
        anyhow::bail!(
            "no API token: pass --token (or set OPSLINE_TOKEN); a local `opsline up` writes one to {}",
            super::run_file::path(&target.run.data_dir).display()
        );
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let mut filters = listing.filters.clone();
    filters.extend(target.since.clone().map(|s| ("since", s)));
    filters.extend(target.until.clone().map(|s| ("until", s)));
    let items = fetch(&client, &console, &token, &listing, &filters, target.limit).await?;
    if target.json && !target.follow {
        return super::print_json(&items);
    }
    if !target.json {
        println!("{}", listing.header);
    }
    let mut seen: HashMap<String, Value> = HashMap::new();
    // Oldest first on screen when following, so new lines come last.
    let print_all = |items: &[Value], seen: &mut HashMap<String, Value>| -> anyhow::Result<()> {
        let ordered: Vec<&Value> = if target.follow {
            items.iter().rev().collect()
        } else {
            items.iter().collect()
        };
        for item in ordered {
            let id = (listing.id)(item);
            if seen.get(&id) == Some(item) {
                continue;
            }
            if target.json {
                println!("{}", serde_json::to_string(item)?);
            } else {
                println!("{}", (listing.row)(item));
            }
            seen.insert(id, item.clone());
        }
        Ok(())
    };
    print_all(&items, &mut seen)?;
    if !target.follow {
        if items.is_empty() {
            println!("(none)");
        }
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(target.interval_secs.max(1))) => {}
        }
        let items = fetch(&client, &console, &token, &listing, &filters, target.limit).await?;
        print_all(&items, &mut seen)?;
    }
}

/// Every item (up to `limit`) of the list, page by page.
async fn fetch(
    client: &reqwest::Client,
    console: &Found,
    token: &str,
    listing: &Listing,
    filters: &[(&str, String)],
    limit: usize,
) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut offset = 0usize;
    loop {
        let want = PAGE.min(limit.saturating_sub(items.len())).max(1);
        let mut query: Vec<(&str, String)> = filters.to_vec();
        query.push(("limit", want.to_string()));
        query.push(("offset", offset.to_string()));
        let url = format!("{}{}", console.value.trim_end_matches('/'), listing.path);
        let response = client
            .get(&url)
            .bearer_auth(token)
            .query(&query)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot reach the console at {} (from {}): {}; is `opsline up` running? pass --console URL or \
--data-dir DIR of a running `opsline up`",
                    console.value,
                    console.from,
                    root_cause(&e)
                )
            })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let reason = body["reason"].as_str().unwrap_or("no reason given");
            anyhow::bail!(
                "the console at {} answered {status}: {reason}{}",
                console.value,
                if status == 401 {
                    " (pass --token, or create one with `opsline token create`)"
                } else {
                    ""
                }
            );
        }
        let page = body["items"].as_array().cloned().unwrap_or_default();
        items.extend(page);
        match body["next_offset"].as_u64() {
            Some(next) if items.len() < limit => offset = usize::try_from(next)?,
            _ => break,
        }
    }
    items.truncate(limit);
    Ok(items)
}

/// The innermost cause of `error` (the one a person can act on).
pub(super) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_print_what_matters() {
        let incident = serde_json::json!({
            "id": "0193abcd-0000-7000-8000-000000000001", "sev": "sev2", "severity": "critical",
            "status": "open", "acknowledged_by": "sam", "service": "hdfs",
            "opened_at": "2026-12-06T05:00:00Z", "title": "Error surge in hdfs", "why": "opened because: x"
        });
        let row = incident_row(&incident);
        assert!(row.starts_with("0193abcd  sev2  acked"), "{row}");
        assert!(row.contains("Error surge in hdfs") && row.contains("opened because: x"));
        assert!(
            row.contains("2026-12-06 05:00:00Z  -  "),
            "no detected_at: no age, {row}"
        );
        // A 2005 log replayed now: the age counts from when Opsline opened it.
        let detected = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(7_200);
        let replayed = serde_json::json!({
            "id": "0193abcd-0000-7000-8000-000000000002", "sev": "sev3", "severity": "warning",
            "status": "open", "service": "bgl", "opened_at": "2005-06-03T15:42:50Z",
            "detected_at": detected.to_string(), "title": "t", "why": ""
        });
        let row = incident_row(&replayed);
        assert!(row.contains("2005-06-03 15:42:50Z  2h "), "{row}");
        let ticket = serde_json::json!({"ticket_id": "T-1", "queue": "Hardware", "priority": "p2", "confidence": 0.912, "revision": 3});
        let row = ticket_row(&ticket);
        assert!(
            row.contains("P2") && row.contains("0.91") && row.contains(" - "),
            "{row}"
        );
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(age(90_000), "1d");
    }
}
