//! Log lines received per service over time, for the insights: asked from the log service,
//! which counts the lines it consumes per service and hour or day of their event time
//! (`GET {logintel_url}/v1/stats/lines?bucket=hour|day&limit=N`, kept in its snapshots; the
//! number of services is bounded by its `max_services`). Best effort: when the log service does
//! not answer, the insights say why and show everything else.

use std::collections::BTreeMap;

use opsline_runtime::outbound::OutboundClient;

use crate::replicas::LogService;
use serde::Deserialize;

/// Longest answer read from the log service (bucket counts of at most `max_services` services).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Lines per service and bucket start (RFC 3339).
pub type ServiceLines = BTreeMap<String, BTreeMap<String, u64>>;

/// Where the counts come from.
#[derive(Clone)]
pub struct LineSource {
    /// Calls to the log service.
    pub client: OutboundClient,
    /// The log service (empty: no counts); every replica is asked.
    pub log_service: LogService,
}

#[derive(Debug, Deserialize)]
struct Answer {
    services: ServiceLines,
}

impl LineSource {
    /// The newest `limit` hourly (`hourly`) or daily counts of every service, or why there are none.
    pub async fn fetch(&self, hourly: bool, limit: usize) -> Result<ServiceLines, String> {
        if self.log_service.is_empty() {
            return Err("no log service is configured (logintel_url)".to_owned());
        }
        let bucket = if hourly { "hour" } else { "day" };
        // Each replica counts the services of its partitions: the counts are summed.
        let mut all = ServiceLines::new();
        for replica in self.log_service.urls().await {
            let url = format!("{replica}/v1/stats/lines?bucket={bucket}&limit={limit}");
            let answer = self
                .client
                .get(&url, &[], MAX_ANSWER_BYTES)
                .await
                .map_err(|e| format!("the log service at {replica} did not answer: {e}"))?;
            if !answer.is_success() {
                return Err(format!("the log service at {replica} answered {}", answer.status));
            }
            let services = serde_json::from_str::<Answer>(&answer.body_snippet)
                .map(|a| a.services)
                .map_err(|e| format!("the log service's answer did not parse: {e}"))?;
            merge(&mut all, services);
        }
        Ok(all)
    }
}

/// Adds `more` into `all` (bucket by bucket).
fn merge(all: &mut ServiceLines, more: ServiceLines) {
    for (service, buckets) in more {
        let into = all.entry(service).or_default();
        for (start, lines) in buckets {
            *into.entry(start).or_default() += lines;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_several_replicas_are_summed_per_service_and_bucket() {
        let lines = |pairs: &[(&str, &str, u64)]| -> ServiceLines {
            let mut out = ServiceLines::new();
            for (service, start, n) in pairs {
                out.entry((*service).to_owned())
                    .or_default()
                    .insert((*start).to_owned(), *n);
            }
            out
        };
        let mut all = lines(&[("bgl", "t1", 5)]);
        merge(
            &mut all,
            lines(&[("hdfs", "t1", 2), ("bgl", "t1", 1), ("bgl", "t2", 3)]),
        );
        assert_eq!(all, lines(&[("bgl", "t1", 6), ("bgl", "t2", 3), ("hdfs", "t1", 2)]));
    }
}
