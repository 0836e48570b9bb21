//! `opsline import postmortems` and `opsline search`: the local postmortem index.

use indicatif::{ProgressBar, ProgressStyle};
use opsline_search::{DocStatus, ImportOptions, Page, Role, SearchIndex, Viewer, import_path_with};
use serde::Serialize;

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

/// One search hit as printed by `--json`.
#[derive(Debug, Serialize)]
struct JsonHit {
    id: String,
    title: String,
    score: f32,
    snippet: String,
    url: Option<String>,
    source_path: Option<String>,
}

/// Answers a query from the local index as an SRE.
pub fn search(args: SearchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.index.exists(),
        "no index at {}; run `opsline import postmortems PATH` first",
        args.index.display()
    );
    let index = SearchIndex::open_or_create(&args.index)?;
    let viewer = Viewer::new(Role::Sre, Vec::<String>::new());
    let results = index.search(
        &viewer,
        &args.query,
        Page {
            offset: 0,
            limit: args.limit,
        },
    )?;
    if args.json {
        let hits: Vec<JsonHit> = results
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
            .collect();
        return super::print_json(&hits);
    }
    println!("{} matching documents", results.total);
    for (rank, hit) in results.hits.iter().enumerate() {
        println!("{:>2}. {} (score {:.2})", rank + 1, hit.title, hit.score);
        if let Some(location) = hit.url.as_ref().or(hit.source_path.as_ref()) {
            println!("    {location}");
        }
        println!("    {}", hit.snippet_text.replace('\n', " "));
    }
    Ok(())
}
