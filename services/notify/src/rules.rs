//! Routing rules, quiet hours and maintenance windows: pure evaluation (no I/O, the clock is
//! an argument). [`Rules::targets_for`] names the targets of an incident; [`Rules::gate`] says
//! whether a notification goes out now, is dropped, or waits for the end of quiet hours.

use std::collections::BTreeSet;

use jiff::civil::Weekday;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use opsline_events::incidents::{Incident, SevLevel, Severity};

use crate::config::{MaintenanceConfig, QuietAction, QuietHoursConfig, RuleConfig};

/// The severity level of an incident: its attention level, else from its coarse severity.
pub fn sev_of(incident: &Incident) -> SevLevel {
    incident.attention.as_ref().map_or(
        match incident.severity {
            Severity::Critical => SevLevel::Sev2,
            Severity::Warning => SevLevel::Sev3,
            Severity::Info => SevLevel::Sev4,
        },
        |a| a.sev,
    )
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
pub fn glob_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// One quiet-hours window, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Quiet {
    days: Vec<Weekday>,
    start_min: i32,
    end_min: i32,
    offset: Offset,
    below: SevLevel,
    action: QuietAction,
}

/// What to do with a notification now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Send it.
    Send,
    /// Do not send it: a bounded code (`maintenance`, `quiet_hours`) and why in words.
    Drop(&'static str, String),
    /// Send it at this instant (the end of quiet hours).
    Hold(Timestamp),
}

/// The configured rules, parsed once at start.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<RuleConfig>,
    quiet: Vec<Quiet>,
    maintenance: Vec<MaintenanceConfig>,
}

impl Rules {
    /// Parses the rules; an error names the bad setting.
    pub fn new(
        rules: &[RuleConfig],
        quiet: &[QuietHoursConfig],
        maintenance: &[MaintenanceConfig],
    ) -> Result<Self, String> {
        let quiet = quiet.iter().map(parse_quiet).collect::<Result<Vec<_>, _>>()?;
        for window in maintenance {
            if window.end <= window.start {
                return Err(format!(
                    "maintenance window of {} ends before it starts",
                    window.service
                ));
            }
        }
        Ok(Self {
            rules: rules.to_vec(),
            quiet,
            maintenance: maintenance.to_vec(),
        })
    }

    /// Every target name a rule gives `incident`.
    pub fn targets_for(&self, incident: &Incident) -> BTreeSet<String> {
        let sev = sev_of(incident);
        self.rules
            .iter()
            .filter(|rule| rule.services.is_empty() || rule.services.iter().any(|p| glob_matches(p, &incident.service)))
            .filter(|rule| rule.min_severity.is_none_or(|min| sev <= min))
            .filter(|rule| {
                rule.team
                    .as_ref()
                    .is_none_or(|team| incident.restricted_team.as_deref() == Some(team.as_str()))
            })
            .flat_map(|rule| rule.targets.iter().cloned())
            .collect()
    }

    /// Whether a notification about `service` at level `sev` goes out at `now`.
    pub fn gate(&self, service: &str, sev: SevLevel, now: Timestamp) -> Gate {
        if let Some(window) = self
            .maintenance
            .iter()
            .find(|w| glob_matches(&w.service, service) && w.start <= now && now < w.end)
        {
            return Gate::Drop(
                "maintenance",
                format!("maintenance window of {} until {}", window.service, window.end),
            );
        }
        for quiet in self.quiet.iter().filter(|q| sev > q.below) {
            if let Some(end) = quiet.ends_after(now) {
                return match quiet.action {
                    QuietAction::Drop => Gate::Drop("quiet_hours", format!("quiet hours until {end}")),
                    QuietAction::Hold => Gate::Hold(end),
                };
            }
        }
        Gate::Send
    }
}

impl Quiet {
    /// The end of the window `now` is in, or `None` when it is outside.
    fn ends_after(&self, now: Timestamp) -> Option<Timestamp> {
        let local = now.to_zoned(TimeZone::fixed(self.offset));
        let minute = i32::from(local.hour()) * 60 + i32::from(local.minute());
        let day = local.weekday();
        let on = |d: Weekday| self.days.is_empty() || self.days.contains(&d);
        let midnight = local.start_of_day().ok()?.timestamp();
        let at = |days: i64, min: i32| midnight + SignedDuration::from_secs(days * 86_400 + i64::from(min) * 60);
        if self.start_min <= self.end_min {
            (on(day) && self.start_min <= minute && minute < self.end_min).then(|| at(0, self.end_min))
        } else if on(day) && minute >= self.start_min {
            Some(at(1, self.end_min))
        } else if on(day.wrapping_sub(1)) && minute < self.end_min {
            Some(at(0, self.end_min))
        } else {
            None
        }
    }
}

fn parse_quiet(config: &QuietHoursConfig) -> Result<Quiet, String> {
    let days = config
        .days
        .iter()
        .map(|d| parse_day(d).ok_or_else(|| format!("quiet_hours: {d:?} is not a weekday (mon .. sun)")))
        .collect::<Result<Vec<_>, _>>()?;
    let offset = match config.utc_offset.as_deref() {
        None => Offset::UTC,
        Some(text) => parse_offset(text).ok_or_else(|| format!("quiet_hours: utc_offset {text:?} is not +HH:MM"))?,
    };
    Ok(Quiet {
        days,
        start_min: parse_minute(&config.start)?,
        end_min: parse_minute(&config.end)?,
        offset,
        below: config.below.unwrap_or(SevLevel::Sev2),
        action: config.action,
    })
}

fn parse_day(day: &str) -> Option<Weekday> {
    Some(match day.to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn parse_minute(text: &str) -> Result<i32, String> {
    let bad = || format!("quiet_hours: {text:?} is not HH:MM");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=24).contains(&h) || !(0..60).contains(&m) || h * 60 + m > 24 * 60 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_offset(text: &str) -> Option<Offset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let seconds = sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60);
    Offset::from_seconds(seconds).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opsline_events::Event;

    use super::*;

    fn incident(service: &str, sev: SevLevel, team: Option<&str>) -> Incident {
        let mut incident = Incident::sample();
        incident.service = service.to_owned();
        incident.restricted_team = team.map(str::to_owned);
        if let Some(attention) = incident.attention.as_mut() {
            attention.sev = sev;
        }
        incident
    }

    fn rule(services: &[&str], min: Option<SevLevel>, team: Option<&str>, targets: &[&str]) -> RuleConfig {
        RuleConfig {
            services: services.iter().map(|s| (*s).to_owned()).collect(),
            min_severity: min,
            team: team.map(str::to_owned),
            targets: targets.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(glob_matches("hdfs*", "hdfs-datanode"));
        assert!(glob_matches("*api", "payments-api"));
        assert!(glob_matches("a*b*c", "aXbYc"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("hdfs", "hdfs2"));
        assert!(!glob_matches("a*b*c", "aXcYb"));
        assert!(!glob_matches("ab*ba", "aba"));
    }

    #[test]
    fn rules_route_by_service_severity_and_team() {
        let rules = Rules::new(
            &[
                rule(&["hdfs*"], Some(SevLevel::Sev2), None, &["pager"]),
                rule(&[], None, None, &["chat"]),
                rule(&["api"], None, Some("payments"), &["payments-hook"]),
            ],
            &[],
            &[],
        )
        .unwrap();
        let names = |i: &Incident| rules.targets_for(i).into_iter().collect::<Vec<_>>();
        assert_eq!(names(&incident("hdfs-dn", SevLevel::Sev1, None)), ["chat", "pager"]);
        assert_eq!(
            names(&incident("hdfs-dn", SevLevel::Sev3, None)),
            ["chat"],
            "below sev2"
        );
        assert_eq!(
            names(&incident("api", SevLevel::Sev3, None)),
            ["chat"],
            "not the team's"
        );
        assert_eq!(
            names(&incident("api", SevLevel::Sev4, Some("payments"))),
            ["chat", "payments-hook"]
        );
        assert!(
            Rules::default()
                .targets_for(&incident("x", SevLevel::Sev1, None))
                .is_empty()
        );
    }

    #[test]
    fn maintenance_silences_its_service_inside_the_window_only() {
        let window = MaintenanceConfig {
            service: "hdfs*".into(),
            start: at("2026-12-06T10:00:00Z"),
            end: at("2026-12-06T12:00:00Z"),
        };
        let rules = Rules::new(&[], &[], &[window]).unwrap();
        assert!(matches!(
            rules.gate("hdfs-dn", SevLevel::Sev1, at("2026-12-06T11:00:00Z")),
            Gate::Drop(..)
        ));
        assert_eq!(
            rules.gate("api", SevLevel::Sev1, at("2026-12-06T11:00:00Z")),
            Gate::Send
        );
        assert_eq!(
            rules.gate("hdfs-dn", SevLevel::Sev1, at("2026-12-06T12:00:00Z")),
            Gate::Send
        );
        let backwards = MaintenanceConfig {
            service: "x".into(),
            start: at("2026-12-06T12:00:00Z"),
            end: at("2026-12-06T10:00:00Z"),
        };
        assert!(Rules::new(&[], &[], &[backwards]).is_err());
    }

    #[test]
    fn quiet_hours_span_midnight_in_their_offset_and_spare_high_severities() {
        // Weeknights 22:00-07:00 at UTC+01:00; 2026-12-07 is a Monday.
        let quiet = QuietHoursConfig {
            days: vec!["mon".into()],
            start: "22:00".into(),
            end: "07:00".into(),
            utc_offset: Some("+01:00".into()),
            below: Some(SevLevel::Sev2),
            action: QuietAction::Hold,
        };
        let rules = Rules::new(&[], std::slice::from_ref(&quiet), &[]).unwrap();
        // Monday 23:30 local = 22:30 UTC: held until Tuesday 07:00 local = 06:00 UTC.
        assert_eq!(
            rules.gate("api", SevLevel::Sev3, at("2026-12-07T22:30:00Z")),
            Gate::Hold(at("2026-12-08T06:00:00Z"))
        );
        // Tuesday 06:59 local: still Monday's window.
        assert_eq!(
            rules.gate("api", SevLevel::Sev4, at("2026-12-08T05:59:00Z")),
            Gate::Hold(at("2026-12-08T06:00:00Z"))
        );
        assert_eq!(
            rules.gate("api", SevLevel::Sev2, at("2026-12-07T22:30:00Z")),
            Gate::Send,
            "sev2 is not below"
        );
        assert_eq!(
            rules.gate("api", SevLevel::Sev3, at("2026-12-07T20:30:00Z")),
            Gate::Send,
            "21:30 local"
        );
        // Tuesday night is not configured.
        assert_eq!(
            rules.gate("api", SevLevel::Sev3, at("2026-12-08T22:30:00Z")),
            Gate::Send
        );
        let dropping = QuietHoursConfig {
            action: QuietAction::Drop,
            days: Vec::new(),
            ..quiet
        };
        let rules = Rules::new(&[], &[dropping], &[]).unwrap();
        assert!(matches!(
            rules.gate("api", SevLevel::Sev3, at("2026-12-09T23:00:00Z")),
            Gate::Drop(..)
        ));
    }

    #[test]
    fn bad_quiet_hours_are_refused() {
        let bad = |start: &str, offset: &str, day: &str| QuietHoursConfig {
            days: vec![day.into()],
            start: start.into(),
            end: "07:00".into(),
            utc_offset: Some(offset.into()),
            below: None,
            action: QuietAction::Drop,
        };
        assert!(Rules::new(&[], &[bad("25:00", "+01:00", "mon")], &[]).is_err());
        assert!(Rules::new(&[], &[bad("22:00", "0100", "mon")], &[]).is_err());
        assert!(Rules::new(&[], &[bad("22:00", "+01:00", "someday")], &[]).is_err());
        assert!(Rules::new(&[], &[bad("22:00", "-05:30", "Monday")], &[]).is_ok());
    }
}
