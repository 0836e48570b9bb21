//! `opsline topics`: create every topic (idempotent) and list them.

use std::path::Path;

use crate::cli::TopicsArgs;

/// Creates and lists the topics on the broker of a running `opsline up` (unless
/// `--bootstrap` or `--config` says otherwise).
pub async fn run(args: TopicsArgs, config_file: Option<&Path>) -> anyhow::Result<()> {
    let (kafka, names) = super::run_file::connect(&args.broker, config_file).await?;
    let specs = names.all_to_create();
    let created = opsline_kafka::admin::create_topics(&kafka, &specs).await?;
    println!("{:<44} {:>10} {:>9}  key", "topic", "partitions", "compacted");
    for (name, spec) in &specs {
        let mark = if created.contains(name) { " (new)" } else { "" };
        println!(
            "{:<44} {:>10} {:>9}  {}{mark}",
            name, spec.partitions, spec.compacted, spec.key
        );
    }
    Ok(())
}
