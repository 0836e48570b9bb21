//! Time buckets of the insights' series: the size is chosen so that the whole span of the data
//! fits in [`MAX_BUCKETS`] bars (hours up to two days, then days, weeks, calendar months or
//! years, UTC), so data of several years (replayed 2005 logs beside this year's) stays on one
//! chart instead of only the newest buckets being drawn. Gaps are drawn as empty buckets, so bars
//! keep time's proportions.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan};

/// Buckets kept per series.
pub const MAX_BUCKETS: usize = 60;

/// Counts per bucket start (RFC 3339) and series (service, queue ...).
pub type Series = BTreeMap<String, BTreeMap<String, u64>>;

/// The size of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One hour.
    Hour,
    /// One day.
    Day,
    /// Seven days, from Monday.
    Week,
    /// One calendar month.
    Month,
    /// One calendar year.
    Year,
}

impl Granularity {
    /// The smallest size that shows `first..=last` in at most [`MAX_BUCKETS`] buckets (hours only
    /// up to two days); hours when there is no data.
    pub fn for_span(first: Option<Timestamp>, last: Option<Timestamp>) -> Self {
        let (Some(first), Some(last)) = (first, last) else {
            return Self::Hour;
        };
        let secs = last.as_second().saturating_sub(first.as_second());
        let days = secs / 86_400;
        let fits = |size_days: i64| days / size_days < MAX_BUCKETS as i64;
        if secs <= 2 * 86_400 {
            Self::Hour
        } else if fits(1) {
            Self::Day
        } else if fits(7) {
            Self::Week
        } else if fits(31) {
            Self::Month
        } else {
            Self::Year
        }
    }

    /// `hour`, `day`, `week`, `month` or `year`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// The start of the bucket holding `at`.
    pub fn start_of(self, at: Timestamp) -> Timestamp {
        let hourly = at.as_second().div_euclid(3_600) * 3_600;
        if self == Self::Hour {
            return Timestamp::from_second(hourly).unwrap_or(at);
        }
        let date = at.to_zoned(TimeZone::UTC).date();
        let start = match self {
            Self::Hour | Self::Day => Ok(date),
            Self::Week => date.checked_sub((i64::from(date.weekday().to_monday_zero_offset())).days()),
            Self::Month => Ok(date.first_of_month()),
            Self::Year => Ok(date.first_of_year()),
        };
        start
            .and_then(|d| d.to_zoned(TimeZone::UTC))
            .map(|z| z.timestamp())
            .unwrap_or(at)
    }

    /// The bucket start `n` buckets after (before, when negative) the bucket start `start`.
    fn step(self, start: Timestamp, n: i64) -> Option<Timestamp> {
        let span: Span = match self {
            Self::Hour => n.hours(),
            Self::Day => n.days(),
            Self::Week => (7 * n).days(),
            Self::Month => n.months(),
            Self::Year => n.years(),
        };
        start
            .to_zoned(TimeZone::UTC)
            .checked_add(span)
            .ok()
            .map(|z| z.timestamp())
    }

    /// The bucket key (RFC 3339 start) of `at`.
    pub fn key(self, at: Timestamp) -> String {
        self.start_of(at).to_string()
    }
}

/// Moves the counts of `series` (keyed by finer bucket starts) into buckets of `size`.
pub fn rebucket(series: Series, size: Granularity) -> Series {
    let mut out = Series::new();
    for (key, counts) in series {
        let Ok(at) = key.parse::<Timestamp>() else {
            continue;
        };
        let bucket = out.entry(size.key(at)).or_default();
        for (name, n) in counts {
            *bucket.entry(name).or_default() += n;
        }
    }
    out
}

/// Puts every series on one time axis: the buckets from the first to the last of any of them
/// (the newest [`MAX_BUCKETS`]), empty ones added, older ones dropped.
pub fn align(series: &mut [&mut Series], size: Granularity) {
    let parse = |k: &String| k.parse::<Timestamp>().ok();
    let first = series.iter().filter_map(|s| s.keys().next().and_then(parse)).min();
    let last = series.iter().filter_map(|s| s.keys().last().and_then(parse)).max();
    let (Some(first), Some(last)) = (first, last) else {
        return;
    };
    for one in series.iter_mut() {
        for n in 0..MAX_BUCKETS as i64 {
            match size.step(last, -n) {
                Some(at) if at >= first => {
                    one.entry(at.to_string()).or_default();
                }
                _ => break,
            }
        }
        while one.len() > MAX_BUCKETS {
            if one.pop_first().is_none() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_size_fits_the_span() {
        let g = |a: &str, b: &str| Granularity::for_span(Some(at(a)), Some(at(b)));
        assert_eq!(Granularity::for_span(None, None), Granularity::Hour);
        assert_eq!(g("2005-12-04T04:47:44Z", "2005-12-05T19:15:57Z"), Granularity::Hour);
        assert_eq!(g("2005-06-03T00:00:00Z", "2005-07-20T00:00:00Z"), Granularity::Day);
        assert_eq!(g("2005-06-03T00:00:00Z", "2005-12-20T00:00:00Z"), Granularity::Week);
        assert_eq!(g("2005-06-03T00:00:00Z", "2008-11-09T00:00:00Z"), Granularity::Month);
        assert_eq!(g("2005-06-03T00:00:00Z", "2026-07-27T00:00:00Z"), Granularity::Year);
    }

    #[test]
    fn buckets_start_at_calendar_boundaries() {
        let t = at("2005-12-04T04:47:44Z"); // a Sunday
        assert_eq!(Granularity::Hour.key(t), "2005-12-04T04:00:00Z");
        assert_eq!(Granularity::Day.key(t), "2005-12-04T00:00:00Z");
        assert_eq!(Granularity::Week.key(t), "2005-11-28T00:00:00Z", "the Monday before");
        assert_eq!(Granularity::Month.key(t), "2005-12-01T00:00:00Z");
        assert_eq!(Granularity::Year.key(t), "2005-01-01T00:00:00Z");
        assert_eq!(
            Granularity::Hour.key(at("1969-12-31T23:30:00Z")),
            "1969-12-31T23:00:00Z"
        );
    }

    #[test]
    fn years_apart_stay_on_one_chart() {
        // Day counts of a 2005 replay and of this year's lines, charted per year.
        let days: Series = [
            ("2005-12-04T00:00:00Z".to_owned(), [("apache".to_owned(), 900)].into()),
            ("2005-12-05T00:00:00Z".to_owned(), [("apache".to_owned(), 1_100)].into()),
            ("2026-07-27T00:00:00Z".to_owned(), [("linux".to_owned(), 40)].into()),
        ]
        .into();
        let size = Granularity::for_span(Some(at("2005-12-04T00:00:00Z")), Some(at("2026-07-27T00:00:00Z")));
        let mut years = rebucket(days, size);
        let mut incidents: Series = [("2005-01-01T00:00:00Z".to_owned(), [("apache".to_owned(), 2)].into())].into();
        align(&mut [&mut years, &mut incidents], size);
        assert_eq!(years.len(), 22, "2005 to 2026, the years between empty");
        assert_eq!(years["2005-01-01T00:00:00Z"]["apache"], 2_000);
        assert_eq!(years["2026-01-01T00:00:00Z"]["linux"], 40);
        assert!(years["2010-01-01T00:00:00Z"].is_empty());
        assert_eq!(
            incidents.keys().collect::<Vec<_>>(),
            years.keys().collect::<Vec<_>>(),
            "one axis"
        );
    }

    #[test]
    fn only_the_newest_buckets_are_kept() {
        let mut hours = Series::new();
        for h in 0..100 {
            let key = Timestamp::from_second(h * 3_600).unwrap().to_string();
            hours.insert(key, [("a".to_owned(), 1)].into());
        }
        align(&mut [&mut hours], Granularity::Hour);
        assert_eq!(hours.len(), MAX_BUCKETS);
        assert_eq!(
            hours.keys().next().map(String::as_str),
            Some("1970-01-02T16:00:00Z"),
            "hours 40 to 99"
        );
    }
}
