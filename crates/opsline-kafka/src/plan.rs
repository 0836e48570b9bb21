//! A service's topic plan: what it consumes, follows, reads at start and produces.
//!
//! The topics to create and the dead-letter topics are derived from the plan,
//! never listed by hand: every consumed topic whose spec has a dead-letter twin
//! gets it (the consumer loop writes there), and a service that dead-letters its
//! own deliveries (a webhook, chat replies) says so with [`TopicPlan::dead_letters_of`].
//! The consumer and follower specs the plan returns are what [`crate::wiring::KafkaWiring`]
//! builds the loops from.

use opsline_events::{TopicNames, TopicSpec};

/// A consumer group and the topics it consumes (full names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeSpec {
    /// The consumer group.
    pub group: String,
    /// Full topic names.
    pub topics: Vec<String>,
}

/// Topics followed whole, without a group (full names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowSpec {
    /// Full topic names.
    pub topics: Vec<String>,
}

/// The topics of one service, under one prefix.
#[derive(Debug, Clone)]
pub struct TopicPlan {
    names: TopicNames,
    /// (full name, spec) of every topic the service touches, in declaration order.
    used: Vec<(String, TopicSpec)>,
    /// Full names of the topics whose dead-letter twin the service writes.
    dead_letters: Vec<String>,
}

impl TopicPlan {
    /// An empty plan under `names`' prefix.
    pub fn new(names: TopicNames) -> Self {
        Self {
            names,
            used: Vec::new(),
            dead_letters: Vec::new(),
        }
    }

    /// The names the plan resolves with.
    pub fn names(&self) -> &TopicNames {
        &self.names
    }

    /// The full name of `spec`.
    pub fn name(&self, spec: &TopicSpec) -> String {
        self.names.name(spec)
    }

    /// The service consumes `specs` in `group` (at least once, committed after its
    /// outputs); each gets its dead-letter twin when its spec has one.
    pub fn consume(&mut self, group: &str, specs: &[&TopicSpec]) -> ConsumeSpec {
        let topics = self.add(specs);
        for (name, spec) in topics.iter().zip(specs) {
            if spec.has_dead_letter {
                self.push_dead_letter(name);
            }
        }
        ConsumeSpec {
            group: group.to_owned(),
            topics,
        }
    }

    /// The service follows `specs` whole, from the beginning, without a group.
    pub fn follow(&mut self, specs: &[&TopicSpec]) -> FollowSpec {
        FollowSpec {
            topics: self.add(specs),
        }
    }

    /// The service reads `specs` once at start (state restore); returns their full names.
    pub fn read(&mut self, specs: &[&TopicSpec]) -> Vec<String> {
        self.add(specs)
    }

    /// The service produces to `specs`; returns their full names.
    pub fn produce(&mut self, specs: &[&TopicSpec]) -> Vec<String> {
        self.add(specs)
    }

    /// The service writes dead letters of its own deliveries of `specs` (a webhook,
    /// chat replies) to their twins; returns the twins' full names.
    pub fn dead_letters_of(&mut self, specs: &[&TopicSpec]) -> Vec<String> {
        self.add(specs)
            .iter()
            .map(|name| {
                self.push_dead_letter(name);
                TopicNames::dead_letter(name)
            })
            .collect()
    }

    /// Every topic to create: the topics named, then the dead-letter twins, each once.
    pub fn to_create(&self) -> Vec<(String, TopicSpec)> {
        let mut out: Vec<(String, TopicSpec)> = Vec::new();
        let topics = self.used.iter().cloned();
        let twins = self.dead_letters.iter().filter_map(|name| {
            let (_, spec) = self.used.iter().find(|(used, _)| used == name)?;
            Some((TopicNames::dead_letter(name), TopicNames::dead_letter_spec(spec)))
        });
        for (name, spec) in topics.chain(twins) {
            if !out.iter().any(|(known, _)| *known == name) {
                out.push((name, spec));
            }
        }
        out
    }

    fn add(&mut self, specs: &[&TopicSpec]) -> Vec<String> {
        specs
            .iter()
            .map(|spec| {
                let name = self.names.name(spec);
                if !self.used.iter().any(|(known, _)| *known == name) {
                    self.used.push((name.clone(), **spec));
                }
                name
            })
            .collect()
    }

    fn push_dead_letter(&mut self, name: &str) {
        if !self.dead_letters.iter().any(|known| known == name) {
            self.dead_letters.push(name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use opsline_events::topics;

    use super::*;

    #[test]
    fn consumed_topics_get_their_dead_letter_twins_and_nothing_is_listed_twice() {
        let mut plan = TopicPlan::new(TopicNames::with_prefix("p."));
        let raw = plan.consume("g", &[&topics::RAW_LOGS]);
        let followed = plan.follow(&[&topics::INCIDENTS, &topics::ALERTS]);
        plan.produce(&[&topics::ALERTS, &topics::INCIDENTS]);
        assert_eq!(raw.group, "g");
        assert_eq!(raw.topics, vec!["p.opsline.logs.raw.v1".to_owned()]);
        assert_eq!(followed.topics.len(), 2);
        let created: Vec<String> = plan.to_create().into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            created,
            vec![
                "p.opsline.logs.raw.v1",
                "p.opsline.incidents.v1",
                "p.opsline.alerts.v1",
                "p.opsline.logs.raw.v1.dlq",
            ]
        );
        let all = TopicNames::with_prefix("p.").all_to_create();
        for (name, spec) in plan.to_create() {
            assert!(all.contains(&(name.clone(), spec)), "{name} differs from the catalogue");
        }
    }

    #[test]
    fn a_delivery_dead_letter_is_declared_not_derived() {
        let mut plan = TopicPlan::new(TopicNames::default());
        plan.produce(&[&topics::TICKETS_ROUTED]);
        assert_eq!(plan.to_create().len(), 1, "producing alone creates no twin");
        let twins = plan.dead_letters_of(&[&topics::TICKETS_ROUTED]);
        assert_eq!(twins, vec!["opsline.tickets.routed.v1.dlq".to_owned()]);
        let (_, spec) = plan.to_create().pop().unwrap();
        assert_eq!(spec, TopicNames::dead_letter_spec(&topics::TICKETS_ROUTED));
    }
}
