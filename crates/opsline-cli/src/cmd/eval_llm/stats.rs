//! The figures of one task over one run: what each answer was worth and what it cost.

use std::time::Duration;

use opsline_events::ops::LlmUsage;
use serde::Serialize;

/// One job's result.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobResult {
    /// The gateway returned a schema-valid answer.
    pub valid: bool,
    /// The answer passed the grounding check (tickets: every citation is in the context;
    /// narratives: a revision 2 was kept).
    pub grounded: bool,
    /// Sentences (narratives) or citations (tickets) kept by the grounding check.
    pub kept: usize,
    /// Sentences or citations dropped by it.
    pub dropped: usize,
    /// Wall time of the job.
    pub seconds: f64,
}

/// The figures of one task (the JSON object under `tasks.<task>`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskStats {
    /// Jobs run.
    pub n: usize,
    /// Share of jobs with a schema-valid answer.
    pub valid: f64,
    /// Share of jobs whose answer passed the grounding check.
    pub grounded: f64,
    /// Sentences (narratives) or citations (tickets) kept by the grounding check, in total.
    pub kept: usize,
    /// Sentences or citations dropped by it, in total.
    pub dropped: usize,
    /// Median job latency, seconds.
    pub p50_s: f64,
    /// 95th percentile job latency, seconds.
    pub p95_s: f64,
    /// Valid answers per minute of wall time (jobs run one after another).
    pub per_min: f64,
    /// Mean prompt tokens per model call (repair requests included in their call).
    pub prompt_tokens: f64,
    /// Mean completion tokens per model call.
    pub completion_tokens: f64,
    /// Share of prompt tokens the endpoint served from its prompt cache (llama.cpp prefix reuse).
    pub prompt_cache_share: f64,
    /// Share of calls answered from the gateway's response cache when the same jobs run again.
    pub cache_hit_rate_second_pass: f64,
}

impl TaskStats {
    /// The figures of `results` run in `elapsed`, with the usage records of the task's calls.
    pub fn new(results: &[JobResult], elapsed: Duration, usage: &[LlmUsage]) -> Self {
        let n = results.len();
        let valid = results.iter().filter(|r| r.valid).count();
        let mut latencies: Vec<f64> = results.iter().map(|r| r.seconds).collect();
        latencies.sort_by(f64::total_cmp);
        let calls: Vec<&LlmUsage> = usage.iter().filter(|u| !u.cache_hit).collect();
        let prompt: u64 = calls.iter().map(|u| u64::from(u.prompt_tokens)).sum();
        let completion: u64 = calls.iter().map(|u| u64::from(u.completion_tokens)).sum();
        let cached: u64 = calls.iter().map(|u| u64::from(u.cached_tokens)).sum();
        let minutes = elapsed.as_secs_f64() / 60.0;
        Self {
            n,
            valid: share(valid, n),
            grounded: share(results.iter().filter(|r| r.grounded).count(), n),
            kept: results.iter().map(|r| r.kept).sum(),
            dropped: results.iter().map(|r| r.dropped).sum(),
            p50_s: round(percentile(&latencies, 0.50)),
            p95_s: round(percentile(&latencies, 0.95)),
            per_min: if minutes > 0.0 {
                round(valid as f64 / minutes)
            } else {
                0.0
            },
            prompt_tokens: round(mean(prompt, calls.len())),
            completion_tokens: round(mean(completion, calls.len())),
            prompt_cache_share: round(if prompt == 0 {
                0.0
            } else {
                cached as f64 / prompt as f64
            }),
            cache_hit_rate_second_pass: 0.0,
        }
    }

    /// Records the response-cache hit rate of a second pass over the same jobs.
    pub fn second_pass(&mut self, usage: &[LlmUsage]) {
        let hits = usage.iter().filter(|u| u.cache_hit).count();
        self.cache_hit_rate_second_pass = share(hits, usage.len());
    }

    /// One line of the text report.
    pub fn render(&self, task: &str) -> String {
        format!(
            "{task:<22} n={:<3} valid={:.2} grounded={:.2} kept={} dropped={} p50={:.1}s p95={:.1}s \
             per_min={:.1} prompt_tokens={:.0} completion_tokens={:.0} prompt_cache={:.2} \
             second_pass_cache_hits={:.2}",
            self.n,
            self.valid,
            self.grounded,
            self.kept,
            self.dropped,
            self.p50_s,
            self.p95_s,
            self.per_min,
            self.prompt_tokens,
            self.completion_tokens,
            self.prompt_cache_share,
            self.cache_hit_rate_second_pass,
        )
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round(part as f64 / whole as f64)
    }
}

fn mean(total: u64, count: usize) -> f64 {
    if count == 0 { 0.0 } else { total as f64 / count as f64 }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The nearest-rank percentile of sorted values (0 when empty).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsline_events::Event;

    #[test]
    fn rates_percentiles_and_tokens() {
        let results: Vec<JobResult> = (1..=10)
            .map(|i| JobResult {
                valid: i != 10,
                grounded: i <= 5,
                kept: 2,
                dropped: usize::from(i % 2 == 0),
                seconds: f64::from(i),
            })
            .collect();
        let usage = vec![
            LlmUsage {
                prompt_tokens: 100,
                completion_tokens: 40,
                cached_tokens: 50,
                cache_hit: false,
                ..LlmUsage::sample()
            },
            LlmUsage {
                prompt_tokens: 300,
                completion_tokens: 60,
                cached_tokens: 250,
                cache_hit: false,
                ..LlmUsage::sample()
            },
            LlmUsage {
                cache_hit: true,
                ..LlmUsage::sample()
            },
        ];
        let mut stats = TaskStats::new(&results, Duration::from_secs(120), &usage);
        assert_eq!((stats.n, stats.valid, stats.grounded), (10, 0.9, 0.5));
        assert_eq!((stats.kept, stats.dropped), (20, 5));
        assert_eq!((stats.p50_s, stats.p95_s), (5.0, 10.0));
        assert_eq!(stats.per_min, 4.5);
        assert_eq!((stats.prompt_tokens, stats.completion_tokens), (200.0, 50.0));
        assert_eq!(stats.prompt_cache_share, 0.75);
        stats.second_pass(&usage);
        assert_eq!(stats.cache_hit_rate_second_pass, 0.333);
    }
}
