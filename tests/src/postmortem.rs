//! `spawn_postmortem`: a real postmortem service on port 0 on a test's topics, with its own
//! consumer groups and the repository's runbooks.

use opsline_events::TopicNames;
use opsline_kafka::KafkaConfig;
use opsline_postmortem::{Application, PostmortemConfig, PostmortemError, TokenConfig};
use opsline_runtime::Shutdown;
use opsline_runtime::metrics::Metrics;

/// A running postmortem service owned by one test.
pub struct TestPostmortem {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Stops the service when cancelled (also on drop).
    pub shutdown: Shutdown,
    /// The service task.
    pub task: tokio::task::JoinHandle<Result<(), PostmortemError>>,
}

impl Drop for TestPostmortem {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestPostmortem {
    /// Stops the service and waits (at most 30 s) for it to finish cleanly.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let task = std::mem::replace(&mut self.task, tokio::spawn(async { Ok(()) }));
        tokio::time::timeout(std::time::Duration::from_secs(30), task)
            .await
            .expect("postmortem service stops")
            .expect("postmortem task joins")
            .expect("postmortem service ran without error");
    }
}

/// Starts a postmortem service on the topics of `names` (already created) with these API
/// tokens; `tweak` adjusts the configuration before the build.
pub async fn spawn_postmortem(
    kafka: KafkaConfig,
    names: &TopicNames,
    tokens: Vec<TokenConfig>,
    tweak: impl FnOnce(&mut PostmortemConfig),
) -> TestPostmortem {
    let mut config = PostmortemConfig {
        listen: "127.0.0.1:0".into(),
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
    let app = Application::build(config, Metrics::new())
        .await
        .expect("build postmortem service");
    let url = format!("http://127.0.0.1:{}", app.port());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestPostmortem { url, shutdown, task }
}
