//! Log lines received per service over time: how many lines of one service the engine consumed
//! per hour and per day of their event time (the clock the alerts and incidents use, so a
//! replayed file is counted where its lines happened). Bounded: the newest [`KEPT_HOURS`] hours
//! and [`KEPT_DAYS`] days are kept; a line older than every kept bucket of a full series is
//! left out of it. Part of a service's snapshot, so the counts survive restarts and move with
//! the service's partition, and a replay after a crash does not count a line twice (lines the
//! restored state reflects are skipped before they are counted).
//!
//! The console charts them (`GET /v1/stats/lines`, see [`crate::api`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Hourly buckets kept per service (a week).
pub const KEPT_HOURS: usize = 168;
/// Daily buckets kept per service (more than a year).
pub const KEPT_DAYS: usize = 400;

/// Bucket sizes in seconds.
const HOUR_SECS: i64 = 3_600;
const DAY_SECS: i64 = 86_400;

/// The size of a bucket of [`LineVolume`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One day (UTC).
    Day,
}

impl Bucket {
    /// The bucket's length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            Self::Hour => HOUR_SECS,
            Self::Day => DAY_SECS,
        }
    }

    /// Buckets kept per service.
    pub fn kept(self) -> usize {
        match self {
            Self::Hour => KEPT_HOURS,
            Self::Day => KEPT_DAYS,
        }
    }
}

/// Lines of one service per bucket start (seconds since the epoch, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineVolume {
    /// Lines per hour.
    #[serde(default)]
    pub hours: BTreeMap<i64, u64>,
    /// Lines per day.
    #[serde(default)]
    pub days: BTreeMap<i64, u64>,
}

impl LineVolume {
    /// Counts one line of event time `time_ms` (milliseconds since the epoch).
    pub fn record(&mut self, time_ms: i64) {
        let secs = time_ms.div_euclid(1_000);
        add(&mut self.hours, secs.div_euclid(HOUR_SECS) * HOUR_SECS, KEPT_HOURS);
        add(&mut self.days, secs.div_euclid(DAY_SECS) * DAY_SECS, KEPT_DAYS);
    }

    /// Whether no line was counted.
    pub fn is_empty(&self) -> bool {
        self.hours.is_empty() && self.days.is_empty()
    }

    /// The newest `limit` buckets of size `bucket` (bucket start in seconds -> lines).
    pub fn newest(&self, bucket: Bucket, limit: usize) -> impl Iterator<Item = (i64, u64)> + '_ {
        let series = match bucket {
            Bucket::Hour => &self.hours,
            Bucket::Day => &self.days,
        };
        let skip = series.len().saturating_sub(limit);
        series.iter().skip(skip).map(|(start, lines)| (*start, *lines))
    }
}

fn add(series: &mut BTreeMap<i64, u64>, start: i64, keep: usize) {
    let full = series.len() >= keep;
    if full && !series.contains_key(&start) && series.keys().next().is_some_and(|first| start < *first) {
        return;
    }
    *series.entry(start).or_default() += 1;
    while series.len() > keep {
        series.pop_first();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn lines_are_counted_per_hour_and_day_of_their_event_time() {
        let mut volume = LineVolume::default();
        assert!(volume.is_empty());
        // 2005-12-04 04:47:44 UTC, twice, then an hour later, then the next day.
        let t = 1_133_671_664_000;
        for at in [t, t + 1, t + H, t + 24 * H] {
            volume.record(at);
        }
        let hours: Vec<_> = volume.newest(Bucket::Hour, 10).collect();
        assert_eq!(hours, vec![(1_133_668_800, 2), (1_133_672_400, 1), (1_133_755_200, 1)]);
        let days: Vec<_> = volume.newest(Bucket::Day, 10).collect();
        assert_eq!(days, vec![(1_133_654_400, 3), (1_133_740_800, 1)]);
        assert_eq!(
            volume.newest(Bucket::Hour, 1).collect::<Vec<_>>(),
            vec![(1_133_755_200, 1)]
        );
        // Before the epoch: the bucket starts before the line, not after it.
        let mut early = LineVolume::default();
        early.record(-1);
        assert_eq!(early.hours.keys().next(), Some(&-3_600));
    }

    #[test]
    fn the_engine_counts_each_line_once_and_snapshots_keep_the_counts() {
        use crate::engine::tests::{engine, feed, lines};
        let lines = lines();
        let mut straight = engine();
        feed(&mut straight, "hdfs", &lines, 0);
        let counted = |e: &crate::engine::Engine| {
            let volume = e.volumes().find(|(s, _)| *s == "hdfs").map(|(_, v)| v.clone()).unwrap();
            (
                volume.hours.values().sum::<u64>(),
                volume.days.values().sum::<u64>(),
                volume,
            )
        };
        let (hours, days, volume) = counted(&straight);
        // The fixture's last two lines have no parsable date: they count at the service's clock.
        assert_eq!((hours, days), (lines.len() as u64, lines.len() as u64));
        // 2008-11-09 20:00 and 21:00 UTC (the HDFS headers' event time).
        assert_eq!(
            volume.hours.keys().copied().collect::<Vec<_>>(),
            vec![1_226_260_800, 1_226_264_400]
        );
        // Restored from a snapshot mid-way, then the whole topic replayed: no line counts twice.
        let mut first = engine();
        feed(&mut first, "hdfs", &lines[..100], 0);
        let snapshot = crate::state::take_snapshot(&mut first, "hdfs").unwrap();
        let mut second = engine();
        crate::state::restore(&mut second, snapshot).unwrap();
        for offset in 0..100 {
            let position = crate::engine::RawPosition { partition: 0, offset };
            assert!(
                second.already_processed("hdfs", position),
                "skipped before it is counted"
            );
        }
        feed(&mut second, "hdfs", &lines, 100);
        assert_eq!(counted(&second).2, volume);
    }

    #[test]
    fn only_the_newest_buckets_are_kept() {
        let mut volume = LineVolume::default();
        for hour in 0..(KEPT_HOURS as i64 + 10) {
            volume.record(hour * H);
        }
        assert_eq!(volume.hours.len(), KEPT_HOURS);
        assert_eq!(volume.hours.keys().next(), Some(&(10 * 3_600)), "the oldest went first");
        // A late line older than everything kept is not counted; one in a kept hour is.
        volume.record(0);
        assert_eq!(volume.hours.len(), KEPT_HOURS);
        assert!(!volume.hours.contains_key(&0));
        volume.record(10 * H + 5);
        assert_eq!(volume.hours[&(10 * 3_600)], 2);
        assert_eq!(volume.days.values().sum::<u64>(), KEPT_HOURS as u64 + 12);
    }
}
