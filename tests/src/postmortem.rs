//! `spawn_postmortem`: a real postmortem service on port 0 on a test's topics, with its own
//! consumer groups and the repository's runbooks.

use opsline_events::TopicNames;
use opsline_kafka::KafkaConfig;
use opsline_postmortem::{PostmortemConfig, PostmortemService, TokenConfig};

use crate::spawn::{Spawned, spawn};

/// Starts a postmortem service on the topics of `names` (already created) with these API
/// tokens; `tweak` adjusts the configuration before the build.
pub async fn spawn_postmortem(
    kafka: KafkaConfig,
    names: &TopicNames,
    tokens: Vec<TokenConfig>,
    tweak: impl FnOnce(&mut PostmortemConfig),
) -> Spawned<PostmortemService> {
    let mut config = PostmortemConfig {
        topic_prefix: names.prefix.clone(),
        group_id: format!("{}postmortem", names.prefix),
        index_group_id: format!("{}postmortem-index", names.prefix),
        runbooks_dir: Some(crate::repo_root().join("runbooks")),
        restore_idle_ms: 500,
        tokens,
        kafka,
        ..PostmortemConfig::default()
    };
    tweak(&mut config);
    // The workspace's reqwest has no default TLS provider; tests' HTTP clients need one.
    opsline_llm::endpoint::install_crypto_provider();
    spawn::<PostmortemService>(config, None).await
}
