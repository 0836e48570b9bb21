//! Event time: turning the timestamp text of a log header into a UTC instant.
//!
//! Windows, baselines, silence and quiet periods all run on event time, so a
//! replayed file behaves like live traffic. The parser knows common shapes
//! (ISO and dotted dates, `yy/mm/dd`, `yymmdd HHMMSS`, month names, `mm-dd`
//! without a year, epoch seconds); times without a zone are taken as UTC and a
//! missing year is borrowed from the fallback instant (the record's ingest time).

use std::sync::LazyLock;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use regex::{Captures, Regex};

static ISO_DATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?:[-T ](\d{1,2})[:.](\d{2})[:.](\d{2})(?:[.,](\d{1,9}))?)?").ok()
});
static SLASH_DATE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b(\d{2})/(\d{2})/(\d{2})\b").ok());
static COMPACT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(\d{2})(\d{2})(\d{2})\s+(\d{2})(\d{2})(\d{2})\b").ok());
static MONTH_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})\b").ok()
});
static MONTH_DAY: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b(\d{1,2})-(\d{1,2})\s+\d{1,2}:").ok());
static YEAR: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b(19[89]\d|20\d\d)\b").ok());
static TIME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d])(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?").ok());
static EPOCH: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b(1\d{9})(?:\.(\d{1,9}))?\b").ok());

/// Parses the header timestamp `text` into a UTC instant; `fallback` supplies a missing year.
///
/// Returns `None` when no date is recognised or the fields are out of range.
pub fn parse_timestamp(text: &str, fallback: Option<Timestamp>) -> Option<Timestamp> {
    let text = text.get(..text.len().min(128)).unwrap_or(text);
    let default_year = fallback
        .map(|t| i32::from(t.to_zoned(TimeZone::UTC).year()))
        .unwrap_or(2000);
    if let Some(found) = iso_date(text) {
        return Some(found);
    }
    if let Some(caps) = COMPACT.as_ref().and_then(|re| re.captures(text)) {
        let year = 2000 + num(&caps, 1)?;
        return civil(
            year,
            num(&caps, 2)?,
            num(&caps, 3)?,
            (num(&caps, 4)?, num(&caps, 5)?, num(&caps, 6)?, 0),
        );
    }
    if let Some(caps) = SLASH_DATE.as_ref().and_then(|re| re.captures(text)) {
        let (a, b, c) = (num(&caps, 1)?, num(&caps, 2)?, num(&caps, 3)?);
        let (year, month, day) = if a > 12 { (2000 + a, b, c) } else { (2000 + c, a, b) };
        return civil(year, month, day, time_of(text).unwrap_or_default());
    }
    if let Some(caps) = MONTH_NAME.as_ref().and_then(|re| re.captures(text)) {
        let month = month_number(caps.get(1)?.as_str())?;
        let year = YEAR
            .as_ref()
            .and_then(|re| re.captures(text))
            .and_then(|c| num(&c, 1))
            .unwrap_or(default_year);
        return civil(year, month, num(&caps, 2)?, time_of(text).unwrap_or_default());
    }
    if let Some(caps) = MONTH_DAY.as_ref().and_then(|re| re.captures(text)) {
        return civil(
            default_year,
            num(&caps, 1)?,
            num(&caps, 2)?,
            time_of(text).unwrap_or_default(),
        );
    }
    if let Some(caps) = EPOCH.as_ref().and_then(|re| re.captures(text)) {
        let seconds: i64 = caps.get(1)?.as_str().parse().ok()?;
        return Timestamp::from_second(seconds).ok();
    }
    None
}

fn iso_date(text: &str) -> Option<Timestamp> {
    let re = ISO_DATE.as_ref()?;
    let mut date_only = None;
    for caps in re.captures_iter(text) {
        let (year, month, day) = (num(&caps, 1)?, num(&caps, 2)?, num(&caps, 3)?);
        if caps.get(4).is_some() {
            let nanos = fraction(caps.get(7).map(|m| m.as_str()));
            return civil(
                year,
                month,
                day,
                (num(&caps, 4)?, num(&caps, 5)?, num(&caps, 6)?, nanos),
            );
        }
        if date_only.is_none() {
            date_only = Some((year, month, day));
        }
    }
    let (year, month, day) = date_only?;
    civil(year, month, day, time_of(text).unwrap_or_default())
}

fn time_of(text: &str) -> Option<(i32, i32, i32, i32)> {
    let caps = TIME.as_ref()?.captures(text)?;
    Some((
        num(&caps, 1)?,
        num(&caps, 2)?,
        num(&caps, 3)?,
        fraction(caps.get(4).map(|m| m.as_str())),
    ))
}

fn num(caps: &Captures<'_>, index: usize) -> Option<i32> {
    caps.get(index)?.as_str().parse().ok()
}

fn fraction(digits: Option<&str>) -> i32 {
    let Some(digits) = digits else { return 0 };
    let mut nanos: i32 = 0;
    for (position, digit) in digits.bytes().take(9).enumerate() {
        let place = 10_i32.pow(8 - u32::try_from(position).unwrap_or(8));
        nanos += i32::from(digit.saturating_sub(b'0')) * place;
    }
    nanos
}

fn month_number(name: &str) -> Option<i32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = name.get(..3)?.to_ascii_lowercase();
    let index = MONTHS.iter().position(|m| *m == lower)?;
    i32::try_from(index + 1).ok()
}

fn civil(year: i32, month: i32, day: i32, (hour, minute, second, nanos): (i32, i32, i32, i32)) -> Option<Timestamp> {
    if !(1980..=2100).contains(&year) {
        return None;
    }
    let datetime = DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second.min(59)).ok()?,
        nanos,
    )
    .ok()?;
    datetime.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        parse_timestamp(text, Timestamp::from_second(1_700_000_000).ok())
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn parses_the_common_shapes() {
        assert_eq!(
            at("2005.06.05 R36-M1-ND-C:J13-U01 2005-06-05-10.01.26.040379"),
            "2005-06-05T10:01:26.040379Z"
        );
        assert_eq!(at("081109 211403"), "2008-11-09T21:14:03Z");
        assert_eq!(at("Sun Dec 04 04:54:15 2005"), "2005-12-04T04:54:15Z");
        assert_eq!(at("Jun 15 14:53:33"), "2023-06-15T14:53:33Z");
        assert_eq!(at("2017-05-16 00:00:17.861"), "2017-05-16T00:00:17.861Z");
        assert_eq!(at("17/06/09 20:10:47"), "2017-06-09T20:10:47Z");
        assert_eq!(at("2016-09-28 04:30:31"), "2016-09-28T04:30:31Z");
        assert_eq!(at("2015-07-29 19:18:34,635"), "2015-07-29T19:18:34.635Z");
        assert_eq!(at("03-17 16:13:40.280"), "2023-03-17T16:13:40.28Z");
        assert_eq!(at("1117838570"), "2005-06-03T22:42:50Z");
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(at(""), "");
        assert_eq!(at("hello world"), "");
        assert_eq!(at("9999-99-99 99:99:99"), "");
        assert_eq!(at(&"1".repeat(10_000)), "");
    }
}
