//! Date values of the query language: periods (`2024`, `2024-03`, `2024-03-01`) and
//! instants (RFC 3339), turned into range bounds.

use std::ops::Bound;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

use super::QueryError;

/// A half-open period `[start, end)`; an instant is the one-second period it falls in
/// (the index stores dates with second precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

fn midnight_utc(year: i16, month: i8, day: i8, raw: &str) -> Result<Timestamp, QueryError> {
    let date = Date::new(year, month, day).map_err(|_| QueryError::BadDate(raw.to_string()))?;
    Offset::UTC
        .to_timestamp(DateTime::from(date))
        .map_err(|_| QueryError::BadDate(raw.to_string()))
}

fn number<T: std::str::FromStr>(part: &str, len: usize, raw: &str) -> Result<T, QueryError> {
    if part.len() != len || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::BadDate(raw.to_string()));
    }
    part.parse::<T>().map_err(|_| QueryError::BadDate(raw.to_string()))
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (UTC) or an RFC 3339 timestamp.
pub(crate) fn parse_period(raw: &str) -> Result<Period, QueryError> {
    let value = raw.trim();
    if value.contains('T') || value.contains('t') {
        let start: Timestamp = value.parse().map_err(|_| QueryError::BadDate(raw.to_string()))?;
        let end = Timestamp::from_second(start.as_second().saturating_add(1))
            .map_err(|_| QueryError::BadDate(raw.to_string()))?;
        return Ok(Period { start, end });
    }
    let parts: Vec<&str> = value.split('-').collect();
    match parts.as_slice() {
        [year] => {
            let year: i16 = number(year, 4, raw)?;
            Ok(Period {
                start: midnight_utc(year, 1, 1, raw)?,
                end: midnight_utc(year.saturating_add(1), 1, 1, raw)?,
            })
        }
        [year, month] => {
            let year: i16 = number(year, 4, raw)?;
            let month: i8 = number(month, 2, raw)?;
            let (next_year, next_month) = if month == 12 {
                (year.saturating_add(1), 1)
            } else {
                (year, month.saturating_add(1))
            };
            Ok(Period {
                start: midnight_utc(year, month, 1, raw)?,
                end: midnight_utc(next_year, next_month, 1, raw)?,
            })
        }
        [year, month, day] => {
            let year: i16 = number(year, 4, raw)?;
            let month: i8 = number(month, 2, raw)?;
            let day: i8 = number(day, 2, raw)?;
            let start = midnight_utc(year, month, day, raw)?;
            let end = Timestamp::from_second(start.as_second().saturating_add(86_400))
                .map_err(|_| QueryError::BadDate(raw.to_string()))?;
            Ok(Period { start, end })
        }
        _ => Err(QueryError::BadDate(raw.to_string())),
    }
}

/// A range endpoint: `*` (open) or a period, with inclusive or exclusive semantics.
pub(crate) fn lower_bound(raw: &str, inclusive: bool) -> Result<Bound<Timestamp>, QueryError> {
    if raw.trim() == "*" {
        return Ok(Bound::Unbounded);
    }
    let period = parse_period(raw)?;
    Ok(if inclusive {
        Bound::Included(period.start)
    } else {
        Bound::Included(period.end)
    })
}

/// Upper endpoint: inclusive covers the whole period, exclusive stops before it.
pub(crate) fn upper_bound(raw: &str, inclusive: bool) -> Result<Bound<Timestamp>, QueryError> {
    if raw.trim() == "*" {
        return Ok(Bound::Unbounded);
    }
    let period = parse_period(raw)?;
    Ok(if inclusive {
        Bound::Excluded(period.end)
    } else {
        Bound::Excluded(period.start)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_cover_year_month_day_and_instant() {
        let y = parse_period("2024").unwrap();
        assert_eq!(y.start.to_string(), "2024-01-01T00:00:00Z");
        assert_eq!(y.end.to_string(), "2025-01-01T00:00:00Z");
        let m = parse_period("2024-12").unwrap();
        assert_eq!(m.end.to_string(), "2025-01-01T00:00:00Z");
        let d = parse_period("2024-02-29").unwrap();
        assert_eq!(d.end.to_string(), "2024-03-01T00:00:00Z");
        let t = parse_period("2024-02-29T10:00:00Z").unwrap();
        assert_eq!(t.end.as_second() - t.start.as_second(), 1);
    }

    #[test]
    fn bad_dates_are_errors_not_panics() {
        for bad in [
            "2023-02-29",
            "24-01-01",
            "2024-13",
            "yesterday",
            "",
            "2024-1-1",
            "99999",
        ] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_follow_inclusivity() {
        let upper = upper_bound("2024-06-30", true).unwrap();
        assert_eq!(
            upper,
            Bound::Excluded("2024-07-01T00:00:00Z".parse::<Timestamp>().unwrap())
        );
        assert_eq!(lower_bound("*", true).unwrap(), Bound::Unbounded);
    }
}
