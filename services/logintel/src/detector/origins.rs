//! Where a template's lines come from: the hosts and components their headers name.
//!
//! Each template keeps the hosts and components of its recent lines with the event time each
//! was last seen, bounded to [`KEPT`] of each (the least recently seen is forgotten first).
//! An alert is stamped with the origins seen since its window started ([`fill`]), which is
//! what the attention score counts as breadth ("on 4 hosts") and what correlation matches
//! across services (two services failing on the same host).

use std::collections::BTreeMap;

use opsline_events::logs::{Alert, AlertKind, Origins};
use serde::{Deserialize, Serialize};

use super::TemplateStats;

/// Hosts (and components) remembered per template.
pub const KEPT: usize = 16;
/// Hosts (and components) named on one alert.
pub const PER_ALERT: usize = 8;

/// Recent hosts and components of one template, with the event time each was last seen (ms).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecentOrigins {
    /// Host -> last seen (ms).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hosts: BTreeMap<String, i64>,
    /// Component -> last seen (ms).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, i64>,
}

impl RecentOrigins {
    /// Notes a line of `host` and `component` (either may be unknown) at `at_ms`.
    pub fn note(&mut self, host: Option<&str>, component: Option<&str>, at_ms: i64) {
        if let Some(host) = host.filter(|h| !h.is_empty()) {
            note_one(&mut self.hosts, host, at_ms);
        }
        if let Some(component) = component.filter(|c| !c.is_empty()) {
            note_one(&mut self.components, component, at_ms);
        }
    }

    /// Adds the origins seen at or after `from_ms` to `hosts` and `components`.
    fn collect_since(&self, from_ms: i64, hosts: &mut Vec<String>, components: &mut Vec<String>) {
        for (name, _) in self.hosts.iter().filter(|(_, at)| **at >= from_ms) {
            push_unique(hosts, name);
        }
        for (name, _) in self.components.iter().filter(|(_, at)| **at >= from_ms) {
            push_unique(components, name);
        }
    }
}

fn note_one(seen: &mut BTreeMap<String, i64>, name: &str, at_ms: i64) {
    if let Some(last) = seen.get_mut(name) {
        *last = (*last).max(at_ms);
        return;
    }
    if seen.len() >= KEPT
        && let Some(oldest) = seen.iter().min_by_key(|(_, at)| **at).map(|(name, _)| name.clone())
    {
        seen.remove(&oldest);
    }
    seen.insert(name.to_owned(), at_ms);
}

fn push_unique(names: &mut Vec<String>, name: &str) {
    if names.len() < PER_ALERT && !names.iter().any(|n| n == name) {
        names.push(name.to_owned());
    }
}

/// Stamps each alert with the origins seen since its window started: its template's for a
/// template alert, those of every error-level template for a service-wide error surge.
pub fn fill(templates: &BTreeMap<u64, TemplateStats>, alerts: &mut [Alert]) {
    for alert in alerts {
        let from_ms = alert.window_start.as_millisecond();
        let (mut hosts, mut components) = (Vec::new(), Vec::new());
        if alert.kind == AlertKind::ErrorSurge {
            for stats in templates.values().filter(|s| s.level >= 2) {
                stats.origins.collect_since(from_ms, &mut hosts, &mut components);
            }
        } else if let Some(stats) = templates.get(&alert.template_id) {
            stats.origins.collect_since(from_ms, &mut hosts, &mut components);
        }
        hosts.sort();
        components.sort();
        alert.origins = Origins { hosts, components };
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_origins_bounded() {
        let mut recent = RecentOrigins::default();
        for i in 0..(KEPT as i64 + 4) {
            recent.note(Some(&format!("node-{i}")), Some("kernel"), i);
        }
        assert_eq!(recent.hosts.len(), KEPT);
        assert!(
            !recent.hosts.contains_key("node-0"),
            "the oldest host is forgotten first"
        );
        assert!(recent.hosts.contains_key(&format!("node-{}", KEPT + 3)));
        assert_eq!(recent.components.get("kernel"), Some(&(KEPT as i64 + 3)));
    }

    #[test]
    fn collects_only_origins_seen_since_the_window_started() {
        let mut recent = RecentOrigins::default();
        recent.note(Some("old-host"), None, 1_000);
        recent.note(Some("web-1"), Some("nginx"), 5_000);
        recent.note(Some("web-2"), Some(""), 6_000);
        let (mut hosts, mut components) = (Vec::new(), Vec::new());
        recent.collect_since(5_000, &mut hosts, &mut components);
        assert_eq!(hosts, vec!["web-1".to_owned(), "web-2".to_owned()]);
        assert_eq!(
            components,
            vec!["nginx".to_owned()],
            "an empty component is not an origin"
        );
    }
}
