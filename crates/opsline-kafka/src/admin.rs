//! Topic administration, broker readiness and the list of consumer groups.

use std::time::Duration;

use opsline_events::TopicSpec;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::KafkaSetupError;
use crate::config::KafkaConfig;
use crate::quiet::QuietContext;

fn metadata_client(config: &KafkaConfig) -> Result<BaseConsumer<QuietContext>, KafkaSetupError> {
    Ok(config.base()?.create_with_context(QuietContext::default())?)
}

/// The broker's refusal of the client's credentials or certificate, if `context` heard one.
fn refused(config: &KafkaConfig, context: &QuietContext) -> Option<KafkaSetupError> {
    context.refusal().map(|reason| KafkaSetupError::Refused {
        bootstrap: config.bootstrap_servers.clone(),
        authentication: config.authentication(),
        reason,
    })
}

/// Runs a blocking metadata request on a fresh client off the async runtime.
async fn with_metadata_client<T: Send + 'static>(
    config: &KafkaConfig,
    request: impl FnOnce(&BaseConsumer<QuietContext>) -> Result<T, KafkaSetupError> + Send + 'static,
) -> Result<T, KafkaSetupError> {
    let config = config.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let client = metadata_client(&config)?;
        request(&client).map_err(|error| {
            // The client's log and error events (where a refusal is said) arrive only when polled.
            let _ = client.poll(Duration::from_millis(100));
            refused(&config, client.context()).unwrap_or(error)
        })
    })
    .await;
    joined.unwrap_or_else(|e| {
        Err(KafkaSetupError::Unreachable {
            bootstrap: String::new(),
            seconds: 0,
            last_error: e.to_string(),
        })
    })
}

/// Topic names and partition counts the broker reports.
pub async fn list_topics(config: &KafkaConfig) -> Result<Vec<(String, usize)>, KafkaSetupError> {
    with_metadata_client(config, |client| {
        let metadata = client.fetch_metadata(None, Duration::from_secs(5))?;
        Ok(metadata
            .topics()
            .iter()
            .map(|t| (t.name().to_owned(), t.partitions().len()))
            .collect())
    })
    .await
}

/// Names of the consumer groups the broker knows (to check that nothing is left behind).
pub async fn list_groups(config: &KafkaConfig) -> Result<Vec<String>, KafkaSetupError> {
    with_metadata_client(config, |client| {
        let groups = client.fetch_group_list(None, Duration::from_secs(5))?;
        Ok(groups.groups().iter().map(|g| g.name().to_owned()).collect())
    })
    .await
}

/// The offsets one past the last record of every partition of `topics` that has
/// records (`(topic, partition, end)`); topics the broker does not know are skipped.
pub async fn end_offsets(
    config: &KafkaConfig,
    topics: Vec<String>,
) -> Result<Vec<(String, i32, i64)>, KafkaSetupError> {
    with_metadata_client(config, move |client| {
        let metadata = client.fetch_metadata(None, Duration::from_secs(5))?;
        let mut ends = Vec::new();
        for topic in metadata
            .topics()
            .iter()
            .filter(|t| topics.iter().any(|n| n == t.name()))
        {
            for partition in topic.partitions() {
                let (low, high) = client.fetch_watermarks(topic.name(), partition.id(), Duration::from_secs(5))?;
                if high > low {
                    ends.push((topic.name().to_owned(), partition.id(), high));
                }
            }
        }
        Ok(ends)
    })
    .await
}

/// Waits until the broker answers a metadata request. A refusal (wrong password, untrusted
/// certificate) or unusable security settings end the wait at once with that error.
pub async fn wait_for_broker(config: &KafkaConfig, timeout: Duration) -> Result<(), KafkaSetupError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match list_topics(config).await {
            Ok(_) => return Ok(()),
            Err(error @ (KafkaSetupError::Refused { .. } | KafkaSetupError::Security(_))) => return Err(error),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(KafkaSetupError::Unreachable {
                    bootstrap: config.bootstrap_servers.clone(),
                    seconds: timeout.as_secs(),
                    last_error: error.to_string(),
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Creates the topics that do not exist yet (existing ones are left as they are).
pub async fn create_topics(
    config: &KafkaConfig,
    topics: &[(String, TopicSpec)],
) -> Result<Vec<String>, KafkaSetupError> {
    let admin: AdminClient<QuietContext> = config.base()?.create_with_context(QuietContext::default())?;
    let retention: Vec<String> = topics.iter().map(|(_, spec)| spec.retention_ms.to_string()).collect();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .zip(&retention)
        .map(|((name, spec), retention)| {
            let partitions = config.topic_partitions.filter(|n| *n > 0).unwrap_or(spec.partitions);
            let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
            if spec.compacted {
                topic.set("cleanup.policy", "compact")
            } else {
                topic.set("cleanup.policy", "delete").set("retention.ms", retention)
            }
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin.create_topics(new_topics.iter(), &options).await?;
    let mut created = Vec::new();
    for result in results {
        match result {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaSetupError::CreateTopic {
                    topic,
                    reason: code.to_string(),
                });
            }
        }
    }
    // Wait until metadata shows every topic, so producers do not race the creation.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let known = list_topics(config).await?;
        let missing = topics.iter().any(|(name, _)| !known.iter().any(|(k, _)| k == name));
        if !missing || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(created)
}
