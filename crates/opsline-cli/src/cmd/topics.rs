//! `opsline topics`: create every topic (idempotent) and list them.

use opsline_events::TopicNames;
use opsline_kafka::KafkaConfig;

use crate::cli::TopicsArgs;

/// Creates and lists the topics.
pub async fn run(args: TopicsArgs) -> anyhow::Result<()> {
    let kafka = KafkaConfig::with_bootstrap(args.bootstrap);
    let names = TopicNames::with_prefix(args.prefix);
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
