//! Access control enforced inside the index.
//!
//! Every query the crate runs (search, counts, snippets, similar incidents, get by id) is
//! `BooleanQuery { must: user_query, must: access_filter(viewer) }`, so a document the viewer
//! may not read is never scored, counted, snippeted or returned.
//!
//! # Access matrix
//!
//! | role       | draft | reviewed | published | kinds                 |
//! |------------|-------|----------|-----------|-----------------------|
//! | `Sre`      | yes   | yes      | yes       | all                   |
//! | `Helpdesk` | no    | no       | yes       | postmortem, runbook   |
//! | `Viewer`   | no    | no       | yes       | all                   |
//!
//! On top of the matrix, a document with a team restriction (`team = Some(t)`) is visible
//! only to viewers whose `teams` contain `t` (case-insensitive), whatever their role.
//! Documents without a team are visible to every role the matrix allows.
//!
//! Helpdesk is an explicit allow-list of kinds, so a kind added later stays hidden from the
//! helpdesk until it is added here; with today's two kinds Helpdesk and Viewer read the same
//! set.

use serde::{Deserialize, Serialize};
use tantivy::Term;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::document::{DocKind, DocStatus, normalize_keyword};
use crate::schema::{IndexFields, PUBLIC_VISIBILITY, team_visibility};

/// Role of the person or service searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Site reliability engineer: reads every status.
    Sre,
    /// Helpdesk agent: reads published postmortems and runbooks.
    Helpdesk,
    /// Read-only viewer: reads published documents.
    Viewer,
}

/// Who is searching: a role plus team memberships (for team-restricted documents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The viewer's role.
    pub role: Role,
    /// Teams the viewer belongs to (case-insensitive).
    pub teams: Vec<String>,
}

impl Viewer {
    /// A viewer with `role` and the given team memberships.
    pub fn new(role: Role, teams: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Viewer {
            role,
            teams: teams.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether this viewer may read a document with these attributes (the same rule as the
    /// index filter, for code paths that hold documents outside the index).
    pub fn can_read(&self, kind: DocKind, status: DocStatus, team: Option<&str>) -> bool {
        let team_ok = match team {
            None => true,
            Some(team) => {
                let team = normalize_keyword(team);
                self.teams.iter().any(|t| normalize_keyword(t) == team)
            }
        };
        let role_ok = match self.role {
            Role::Sre => true,
            Role::Helpdesk => status == DocStatus::Published && matches!(kind, DocKind::Postmortem | DocKind::Runbook),
            Role::Viewer => status == DocStatus::Published,
        };
        team_ok && role_ok
    }
}

fn keyword_term(field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// The filter clause for `viewer`: matches exactly the documents the viewer may read and
/// scores zero, so it never changes ranking.
pub(crate) fn access_filter(fields: &IndexFields, viewer: &Viewer) -> Box<dyn Query> {
    let mut visibility: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Should, keyword_term(fields.visibility, PUBLIC_VISIBILITY))];
    for team in &viewer.teams {
        let team = normalize_keyword(team);
        if !team.is_empty() {
            visibility.push((Occur::Should, keyword_term(fields.visibility, &team_visibility(&team))));
        }
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(visibility)))];
    match viewer.role {
        Role::Sre => {}
        Role::Helpdesk => {
            clauses.push((Occur::Must, keyword_term(fields.status, DocStatus::Published.as_str())));
            let kinds = [DocKind::Postmortem, DocKind::Runbook]
                .into_iter()
                .map(|kind| (Occur::Should, keyword_term(fields.kind, kind.as_str())))
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(kinds))));
        }
        Role::Viewer => clauses.push((Occur::Must, keyword_term(fields.status, DocStatus::Published.as_str()))),
    }
    Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(clauses)), 0.0))
}

/// `must(query) AND must(access_filter(viewer))`.
pub(crate) fn restrict(fields: &IndexFields, viewer: &Viewer, query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, query),
        (Occur::Must, access_filter(fields, viewer)),
    ]))
}
