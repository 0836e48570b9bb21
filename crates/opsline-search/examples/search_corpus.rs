//! Imports a folder into an in-memory index and runs queries given on the command line.
//!
//! `cargo run -p opsline-search --example search_corpus -- ../shared/data/postmortems "bgp route leak"`

use std::path::PathBuf;

use opsline_search::{DocStatus, ImportOptions, Page, Role, SearchIndex, Viewer, import_path_with};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let corpus = PathBuf::from(args.next().ok_or("usage: search_corpus <path> <query>...")?);
    let index = SearchIndex::in_memory()?;
    let options = ImportOptions {
        default_status: DocStatus::Published,
        ..ImportOptions::default()
    };
    let summary = import_path_with(&index, &corpus, &options, &|_| {})?;
    println!(
        "imported {} documents from {} files ({} problems)",
        summary.documents_indexed,
        summary.files_read,
        summary.problems.len()
    );
    let viewer = Viewer::new(Role::Sre, Vec::<String>::new());
    for query in args {
        let results = index.search(&viewer, &query, Page::first(5))?;
        println!("\n== {query} ({} hits)", results.total);
        for hit in results.hits {
            println!(
                "{:6.2}  {}  <{}>\n        {}",
                hit.score,
                hit.title,
                hit.url.unwrap_or_default(),
                hit.snippet_html
            );
        }
    }
    Ok(())
}
