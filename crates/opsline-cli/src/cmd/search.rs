//! `opsline import postmortems` and `opsline search`. Search asks the postmortem service of a
//! running `opsline up` (found through its run.json, or `--postmortem URL`), which holds the
//! live index open (tantivy allows one writer, so opening it beside the service fails with
//! `LockBusy`); only when nothing runs, or with `--index DIR`, it reads an index folder itself.

use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use opsline_search::{DocStatus, ImportOptions, Page, Role, SearchIndex, Viewer, import_path_with};
use serde::{Deserialize, Serialize};

use crate::cli::{ImportPostmortemsArgs, ImportStatus, SearchArgs};

/// Indexes a folder or file of postmortems with a progress bar.
pub fn import(args: ImportPostmortemsArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.index)?;
    let index = SearchIndex::open_or_create(&args.index)?;
    let default_status = match args.status {
        ImportStatus::Draft => DocStatus::Draft,
        ImportStatus::Published => DocStatus::Published,
    };
    let options = ImportOptions {
        default_status,
        ..ImportOptions::default()
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} importing [{bar:30}] {pos}/{len} files, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = import_path_with(&index, &args.path, &options, &|p| {
        bar.set_length(p.files_total as u64);
        bar.set_position(p.files_done as u64);
        bar.set_message(format!("{} documents, {} problems", p.documents_indexed, p.problems));
    })?;
    bar.finish_and_clear();
    println!(
        "imported {} documents from {} files ({} skipped) into {}; index holds {} documents",
        summary.documents_indexed,
        summary.files_read,
        summary.files_skipped,
        args.index.display(),
        index.num_docs()
    );
    for problem in summary.problems.iter().take(10) {
        eprintln!("problem: {problem:?}");
    }
    Ok(())
}

/// One search hit, as printed by `--json` and read from the service's `GET /v1/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct JsonHit {
    id: String,
    title: String,
    score: f32,
    #[serde(alias = "snippet_text")]
    snippet: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    source_path: Option<String>,
}

/// A page of hits and how many documents matched.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Hits {
    total: usize,
    hits: Vec<JsonHit>,
}

/// Where `opsline search` looks.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A postmortem service (`url`, from `from`) with a token.
    Service {
        url: String,
        from: String,
        token: Option<String>,
    },
    /// An index folder read directly.
    Folder(PathBuf),
}

/// `--index` wins, then `--postmortem`, then the postmortem service of a running `opsline up`,
/// then `.opsline/index`.
fn source(args: &SearchArgs) -> anyhow::Result<Source> {
    if let Some(index) = &args.index {
        return Ok(Source::Folder(index.clone()));
    }
    let run = super::run_file::read(&args.run.data_dir)?;
    let token = args
        .token
        .clone()
        .or_else(|| run.as_ref().and_then(|r| r.console_token.clone()));
    if let Some(url) = &args.postmortem {
        return Ok(Source::Service {
            url: url.clone(),
            from: "--postmortem".into(),
            token,
        });
    }
    match run.and_then(|r| r.services.get("postmortem").cloned()) {
        Some(url) => Ok(Source::Service {
            url,
            from: super::run_file::path(&args.run.data_dir).display().to_string(),
            token,
        }),
        None => Ok(Source::Folder(PathBuf::from(".opsline/index"))),
    }
}

/// Answers a query from the postmortem service of a running `opsline up`, else from an index
/// folder as an SRE.
pub async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let results = match source(&args)? {
        Source::Service { url, from, token } => ask_service(&url, &from, token.as_deref(), &args).await?,
        Source::Folder(index) => read_folder(&index, &args)?,
    };
    if args.json {
        return super::print_json(&results.hits);
    }
    println!("{} matching documents", results.total);
    for (rank, hit) in results.hits.iter().enumerate() {
        println!("{:>2}. {} (score {:.2})", rank + 1, hit.title, hit.score);
        if let Some(location) = hit.url.as_ref().or(hit.source_path.as_ref()) {
            println!("    {location}");
        }
        println!("    {}", hit.snippet.replace('\n', " "));
    }
    Ok(())
}

/// `GET <url>/v1/search` with the token.
async fn ask_service(url: &str, from: &str, token: Option<&str>, args: &SearchArgs) -> anyhow::Result<Hits> {
    let Some(token) = token else {
        anyhow::bail!(
            "no API token for the postmortem service at {url} (from {from}): pass --token (or set OPSLINE_TOKEN)"
        );
    };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let response = client
        .get(format!("{}/v1/search", url.trim_end_matches('/')))
        .bearer_auth(token)
        .query(&[("q", args.query.as_str()), ("limit", &args.limit.to_string())])
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the postmortem service at {url} (from {from}): {}; is `opsline up` running? \
pass --postmortem URL, --data-dir DIR of a running `opsline up`, or --index DIR",
                super::ops::root_cause(&e)
            )
        })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let reason = body["reason"]
            .as_str()
            .or(body["error"].as_str())
            .unwrap_or("no reason given");
        anyhow::bail!("the postmortem service at {url} answered {status}: {reason}");
    }
    serde_json::from_value(body).map_err(|e| anyhow::anyhow!("the postmortem service at {url} answered no hits: {e}"))
}

/// The query on an index folder, as an SRE.
fn read_folder(index: &std::path::Path, args: &SearchArgs) -> anyhow::Result<Hits> {
    anyhow::ensure!(
        index.exists(),
        "no index at {} and no running `opsline up` found (no {}); run `opsline import postmortems PATH` first",
        index.display(),
        super::run_file::path(&args.run.data_dir).display()
    );
    let index = SearchIndex::open_or_create(index).map_err(|error| {
        let text = error.to_string();
        if text.contains("LockBusy") || text.contains("lock") {
            anyhow::anyhow!(
                "the index at {} is held by a running service (the postmortem service of `opsline up`): \
drop --index to ask that service, or pass --postmortem URL",
                index.display()
            )
        } else {
            anyhow::anyhow!("cannot open the index at {}: {text}", index.display())
        }
    })?;
    let viewer = Viewer::new(Role::Sre, Vec::<String>::new());
    let results = index.search(
        &viewer,
        &args.query,
        Page {
            offset: 0,
            limit: args.limit,
        },
    )?;
    Ok(Hits {
        total: results.total,
        hits: results
            .hits
            .into_iter()
            .map(|h| JsonHit {
                id: h.id,
                title: h.title,
                score: h.score,
                snippet: h.snippet_text,
                url: h.url,
                source_path: h.source_path,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::cli::RunLocation;

    fn args(dir: &std::path::Path) -> SearchArgs {
        SearchArgs {
            query: "lag".into(),
            index: None,
            postmortem: None,
            token: None,
            run: RunLocation {
                data_dir: dir.to_path_buf(),
            },
            limit: 5,
            json: true,
        }
    }

    #[test]
    fn a_running_up_is_asked_else_the_folder_is_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            source(&args(dir.path())).unwrap(),
            Source::Folder(".opsline/index".into())
        );
        let run = super::super::run_file::RunFile {
            pid: std::process::id(),
            services: [("postmortem".to_owned(), "http://127.0.0.1:1234".to_owned())].into(),
            console_token: Some("local".into()),
            ..Default::default()
        };
        super::super::run_file::write(dir.path(), &run).unwrap();
        match source(&args(dir.path())).unwrap() {
            Source::Service { url, token, .. } => {
                assert_eq!(
                    (url.as_str(), token.as_deref()),
                    ("http://127.0.0.1:1234", Some("local"))
                );
            }
            other => panic!("{other:?}"),
        }
        let explicit = SearchArgs {
            index: Some("/tmp/ix".into()),
            ..args(dir.path())
        };
        assert_eq!(source(&explicit).unwrap(), Source::Folder("/tmp/ix".into()));
    }

    #[test]
    fn an_index_held_by_a_service_says_so_once() {
        let dir = tempfile::tempdir().unwrap();
        let _held = SearchIndex::open_or_create(dir.path()).unwrap();
        let error = read_folder(dir.path(), &args(dir.path())).err().unwrap();
        let text = format!("{error:#}");
        assert!(
            text.contains("held by a running service") && text.contains("--postmortem"),
            "{text}"
        );
        assert!(!text.contains("LockBusy"), "{text}");
    }

    #[test]
    fn the_service_answer_reads_as_hits() {
        let body = serde_json::json!({
            "total": 1,
            "offset": 0,
            "hits": [{"id": "a", "score": 1.5, "kind": "runbook", "status": "published", "title": "Lag",
                      "snippet_html": "<b>lag</b>", "snippet_text": "lag", "service": null, "severity": null,
                      "created": null, "tags": [], "url": null, "source_path": "runbooks/alert-consumer-lag.md"}]
        });
        let hits: Hits = serde_json::from_value(body).unwrap();
        assert_eq!(hits.total, 1);
        assert_eq!(hits.hits[0].snippet, "lag");
        assert_eq!(
            hits.hits[0].source_path.as_deref(),
            Some("runbooks/alert-consumer-lag.md")
        );
    }
}
