//! `spawn_gateway`: a real gateway on port 0 with its own topic prefix.

use opsline_events::TopicNames;
use opsline_gateway::{Application, GatewayConfig};
use opsline_kafka::KafkaConfig;
use opsline_runtime::Shutdown;
use opsline_runtime::metrics::Metrics;

/// A running gateway owned by one test.
pub struct TestGateway {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Topic names of this test.
    pub names: TopicNames,
    /// Kafka settings.
    pub kafka: KafkaConfig,
    /// Stops the gateway when cancelled (also on drop).
    pub shutdown: Shutdown,
    /// The server task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Creates the topics under a unique prefix and starts a gateway on them.
pub async fn spawn_gateway(kafka: KafkaConfig, test: &str, tweak: impl FnOnce(&mut GatewayConfig)) -> TestGateway {
    let names = TopicNames::with_prefix(crate::unique_prefix(test));
    opsline_kafka::admin::create_topics(&kafka, &names.all_to_create())
        .await
        .expect("create topics");
    let mut config = GatewayConfig {
        listen: "127.0.0.1:0".to_owned(),
        topic_prefix: names.prefix.clone(),
        kafka: kafka.clone(),
        ..GatewayConfig::default()
    };
    tweak(&mut config);
    let app = Application::build(config, Metrics::new()).await.expect("build gateway");
    let url = format!("http://127.0.0.1:{}", app.port());
    let shutdown = Shutdown::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestGateway {
        url,
        names,
        kafka,
        shutdown,
        task,
    }
}
