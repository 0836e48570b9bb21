//! The event-time guard: a line's own timestamp is trusted only within bounds.
//!
//! Windows, silence and quiet-period resolution run on each service's event clock, which only
//! moves forward. Without a guard one line dated 2099 would move that clock decades ahead:
//! every open incident would resolve at once and every later line would look decades late.
//! So a line dated too far after its ingestion (the gateway's clock), or too far before the
//! service's clock, is taken as dated at the service's clock (or, for a service's first line,
//! at its ingestion time) and counted. Replays of old logs are unaffected: their lines are in
//! the past of their ingestion, and in order.

/// Which bound a line's timestamp broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clamped {
    /// Dated too far after its ingestion.
    Future,
    /// Dated too far before the service's event clock.
    Late,
}

impl Clamped {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Clamped::Future => "future",
            Clamped::Late => "late",
        }
    }
}

/// The bounds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBounds {
    /// How far after its ingestion a line may be dated.
    pub max_future_skew_ms: i64,
    /// How far before the service's clock a line may be dated.
    pub max_late_ms: i64,
}

/// The event time to use for a line dated `dated_ms`, ingested at `ingested_ms` (unknown when
/// replaying a file offline), for a service whose event clock is `clock_ms` (`None` before its
/// first line), and which bound it broke, if any.
pub fn guard(
    dated_ms: i64,
    ingested_ms: Option<i64>,
    clock_ms: Option<i64>,
    bounds: TimeBounds,
) -> (i64, Option<Clamped>) {
    if let Some(ingested) = ingested_ms {
        let latest = ingested.saturating_add(bounds.max_future_skew_ms.max(0));
        if dated_ms > latest {
            let at = clock_ms.filter(|clock| *clock <= latest).unwrap_or(ingested);
            return (at, Some(Clamped::Future));
        }
    }
    if let Some(clock) = clock_ms {
        if dated_ms < clock.saturating_sub(bounds.max_late_ms.max(0)) {
            return (clock, Some(Clamped::Late));
        }
    }
    (dated_ms, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const BOUNDS: TimeBounds = TimeBounds {
        max_future_skew_ms: HOUR / 12,
        max_late_ms: 24 * HOUR,
    };
    /// 2026-12-06T00:00:00Z.
    const NOW: i64 = 1_796_515_200_000;
    /// 2099-01-01T00:00:00Z.
    const Y2099: i64 = 4_070_908_800_000;
    /// 2005-06-03T22:42:50Z (BGL).
    const Y2005: i64 = 1_117_838_570_000;

    #[test]
    fn a_line_dated_2099_takes_the_service_clock() {
        assert_eq!(
            guard(Y2099, Some(NOW), Some(NOW - 1_000), BOUNDS),
            (NOW - 1_000, Some(Clamped::Future))
        );
        // A replay of 2005 logs ingested today keeps its 2005 clock.
        assert_eq!(
            guard(Y2099, Some(NOW), Some(Y2005), BOUNDS),
            (Y2005, Some(Clamped::Future))
        );
        // A service's first line: its ingestion time.
        assert_eq!(guard(Y2099, Some(NOW), None, BOUNDS), (NOW, Some(Clamped::Future)));
    }

    #[test]
    fn small_skew_and_old_replays_pass() {
        assert_eq!(guard(NOW + 60_000, Some(NOW), Some(NOW), BOUNDS), (NOW + 60_000, None));
        assert_eq!(guard(Y2005, Some(NOW), None, BOUNDS), (Y2005, None));
        assert_eq!(guard(Y2005 + 1, Some(NOW), Some(Y2005), BOUNDS), (Y2005 + 1, None));
        // Offline evaluation has no ingestion time: only the late bound applies.
        assert_eq!(guard(Y2099, None, Some(Y2005), BOUNDS), (Y2099, None));
    }

    #[test]
    fn a_line_far_behind_the_clock_takes_the_clock() {
        assert_eq!(guard(0, Some(NOW), Some(NOW), BOUNDS), (NOW, Some(Clamped::Late)));
        assert_eq!(
            guard(NOW - 2 * HOUR, Some(NOW), Some(NOW), BOUNDS),
            (NOW - 2 * HOUR, None)
        );
        assert_eq!(guard(i64::MIN, Some(i64::MAX), Some(i64::MIN), BOUNDS).1, None);
        assert_eq!(
            guard(i64::MAX, Some(i64::MAX), Some(i64::MAX), BOUNDS),
            (i64::MAX, None)
        );
    }
}
