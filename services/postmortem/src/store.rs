//! The read model: the latest revision of every postmortem (from the compacted postmortems
//! topic) and the search index of postmortems and runbooks.
//!
//! Both are derived from Kafka and rebuilt from it at start ([`Store::apply`] is idempotent).
//! The store keeps the highest revision of each postmortem: an older revision arriving late
//! (a replayed draft after its narrative) never replaces a newer one, and a revision never
//! moves a postmortem back from `reviewed` or `published` to `draft`, so a replayed incident
//! or a late narrative cannot undo a review.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{PoisonError, RwLock};

use opsline_events::ops::{Postmortem, PostmortemStatus};
use opsline_search::{DocKind, DocStatus, ImportOptions, SearchDocument, SearchIndex, Viewer};
use uuid::Uuid;

use crate::error::PostmortemError;
use crate::metrics::{KindLabel, PostmortemMetrics};

/// The search status of a postmortem status.
pub fn doc_status(status: PostmortemStatus) -> DocStatus {
    match status {
        PostmortemStatus::Draft => DocStatus::Draft,
        PostmortemStatus::Reviewed => DocStatus::Reviewed,
        PostmortemStatus::Published => DocStatus::Published,
    }
}

fn rank(status: PostmortemStatus) -> u8 {
    match status {
        PostmortemStatus::Draft => 0,
        PostmortemStatus::Reviewed => 1,
        PostmortemStatus::Published => 2,
    }
}

/// The search document of a postmortem.
pub fn to_search_document(postmortem: &Postmortem) -> SearchDocument {
    let mut doc = SearchDocument::new(
        postmortem.postmortem_id.to_string(),
        DocKind::Postmortem,
        postmortem.title.clone(),
        postmortem.markdown.clone(),
        doc_status(postmortem.status),
    );
    doc.service = Some(postmortem.service.clone());
    doc.team = postmortem.restricted_team.clone();
    doc.url = Some(format!("/postmortems/{}", postmortem.postmortem_id));
    doc.tags = vec!["postmortem".to_owned(), format!("model:{}", postmortem.model)];
    if let Some(facts) = &postmortem.facts {
        doc.severity = Some(facts.severity.clone());
        doc.tags.extend(facts.sev.clone());
        doc.created = Some(facts.opened_at);
        doc.updated = facts.resolved_at.or(Some(facts.opened_at));
    }
    doc
}

/// Postmortems by id plus the search index.
pub struct Store {
    postmortems: RwLock<HashMap<Uuid, Postmortem>>,
    /// Offset on the postmortems topic of the record holding each current revision, when
    /// known (the indexer's repair compares it with later records).
    offsets: RwLock<HashMap<Uuid, i64>>,
    index: SearchIndex,
    metrics: PostmortemMetrics,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// What [`Store::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The revision is now the current one.
    Updated,
    /// It is older than the current revision, or would have moved a reviewed or published
    /// postmortem back to an earlier status.
    Ignored,
}

impl Store {
    pub(crate) fn new(index: SearchIndex, metrics: PostmortemMetrics) -> Self {
        Self {
            postmortems: RwLock::new(HashMap::new()),
            offsets: RwLock::new(HashMap::new()),
            index,
            metrics,
        }
    }

    /// The search index.
    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    /// The current revision of postmortem `id`, whoever asks (callers check access).
    pub fn postmortem(&self, id: Uuid) -> Option<Postmortem> {
        self.postmortems
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// The current revision of `id` if `viewer` may read it (the same rule as the index).
    pub fn visible_postmortem(&self, viewer: &Viewer, id: Uuid) -> Option<Postmortem> {
        self.postmortem(id).filter(|pm| {
            viewer.can_read(
                DocKind::Postmortem,
                doc_status(pm.status),
                pm.restricted_team.as_deref(),
            )
        })
    }

    /// The offset of the record holding the current revision of `id`, when known.
    pub(crate) fn current_offset(&self, id: Uuid) -> Option<i64> {
        self.offsets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .copied()
    }

    /// Number of postmortems known.
    pub fn len(&self) -> usize {
        self.postmortems.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no postmortem is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `postmortem` as the current revision (unless it is older than the current one
    /// or moves the status backwards; the same revision again replaces it) and upserts it into
    /// the index, without committing the index.
    pub fn stage(&self, postmortem: Postmortem) -> Result<Applied, PostmortemError> {
        self.stage_at(postmortem, None)
    }

    /// [`Store::stage`] of the record at `offset` of the postmortems topic (read there, or
    /// written there and acknowledged): noted with the revision, in the same step, when it
    /// becomes the current one.
    pub(crate) fn stage_at(&self, postmortem: Postmortem, offset: Option<i64>) -> Result<Applied, PostmortemError> {
        let mut all = self.postmortems.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(current) = all.get(&postmortem.postmortem_id) {
            let older = (rank(postmortem.status), postmortem.revision) < (rank(current.status), current.revision);
            if older {
                return Ok(Applied::Ignored);
            }
        }
        self.index.upsert(to_search_document(&postmortem))?;
        self.metrics
            .indexed
            .get_or_create(&KindLabel { kind: "postmortem" })
            .inc();
        let mut offsets = self.offsets.write().unwrap_or_else(PoisonError::into_inner);
        match offset {
            Some(offset) => offsets.insert(postmortem.postmortem_id, offset),
            None => offsets.remove(&postmortem.postmortem_id),
        };
        all.insert(postmortem.postmortem_id, postmortem);
        Ok(Applied::Updated)
    }

    /// [`Store::stage`] then commit: searchable when this returns.
    pub fn apply(&self, postmortem: Postmortem) -> Result<Applied, PostmortemError> {
        self.apply_at(postmortem, None)
    }

    /// [`Store::stage_at`] then commit.
    pub(crate) fn apply_at(&self, postmortem: Postmortem, offset: Option<i64>) -> Result<Applied, PostmortemError> {
        let applied = self.stage_at(postmortem, offset)?;
        if applied == Applied::Updated {
            self.index.commit()?;
        }
        Ok(applied)
    }

    /// Makes staged revisions searchable.
    pub fn commit(&self) -> Result<(), PostmortemError> {
        self.index.commit()?;
        Ok(())
    }

    /// Indexes the runbooks under `dir` (status from their front matter, draft if unsaid).
    pub fn import_runbooks(&self, dir: &Path) -> Result<usize, PostmortemError> {
        let summary = opsline_search::import_path_with(&self.index, dir, &ImportOptions::default(), &|_| {})?;
        for problem in &summary.problems {
            tracing::warn!(path = %problem.path.display(), message = %problem.message, "runbook import problem");
        }
        self.metrics
            .indexed
            .get_or_create(&KindLabel { kind: "runbook" })
            .inc_by(u64::try_from(summary.documents_indexed).unwrap_or(u64::MAX));
        Ok(summary.documents_indexed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsline_events::Event;
    use opsline_search::{Page, Role, Viewer};

    fn store() -> Store {
        Store::new(SearchIndex::in_memory().unwrap(), PostmortemMetrics::default())
    }

    #[test]
    fn status_never_moves_back_and_restrictions_hold() {
        let store = store();
        let mut pm = Postmortem::sample();
        pm.restricted_team = Some("payments".into());
        store.apply(pm.clone()).unwrap();
        let mut reviewed = pm.clone();
        reviewed.status = PostmortemStatus::Reviewed;
        assert_eq!(store.apply(reviewed).unwrap(), Applied::Updated);
        assert_eq!(store.apply(pm.clone()).unwrap(), Applied::Ignored);
        assert_eq!(
            store.postmortem(pm.postmortem_id).unwrap().status,
            PostmortemStatus::Reviewed
        );

        let outsider = Viewer::new(Role::Sre, ["storage"]);
        let member = Viewer::new(Role::Sre, ["Payments"]);
        assert!(store.visible_postmortem(&outsider, pm.postmortem_id).is_none());
        assert!(store.visible_postmortem(&member, pm.postmortem_id).is_some());
        let hits = |viewer: &Viewer| {
            store
                .index()
                .search(viewer, "receiveBlock", Page::default())
                .unwrap()
                .total
        };
        assert_eq!(hits(&outsider), 0);
        assert_eq!(hits(&member), 1);
    }

    #[test]
    fn severity_level_and_dates_are_searchable() {
        let store = store();
        let pm = Postmortem::sample();
        store.apply(pm.clone()).unwrap();
        let sre = Viewer::new(Role::Sre, Vec::<String>::new());
        let total = |q: &str| store.index().search(&sre, q, Page::default()).unwrap().total;
        assert_eq!(total("severity:critical"), 1);
        assert_eq!(total("service:hdfs AND severity:critical"), 1);
        assert_eq!(total("severity:warning"), 0);
        assert_eq!(total("tag:sev2"), 1);
        assert_eq!(total("created:[2024-11-23 TO 2024-11-24]"), 1);
        assert_eq!(total("created:[2025-01-01 TO 2025-12-31]"), 0);
        assert_eq!(total("status:draft AND kind:postmortem"), 1);
    }

    #[test]
    fn the_highest_revision_wins_whatever_the_order() {
        let store = store();
        let one = Postmortem::sample();
        let two = Postmortem {
            revision: 2,
            markdown: "# narrated receiveBlock".into(),
            model: "smollm2".into(),
            ..one.clone()
        };
        assert_eq!(store.apply(two.clone()).unwrap(), Applied::Updated);
        assert_eq!(store.apply(one.clone()).unwrap(), Applied::Ignored, "a late revision 1");
        assert_eq!(store.postmortem(one.postmortem_id).unwrap(), two);
        assert_eq!(
            store.apply(two.clone()).unwrap(),
            Applied::Updated,
            "a replay is harmless"
        );
        let viewer = Viewer::new(Role::Sre, Vec::<String>::new());
        let hits = store.index().search(&viewer, "narrated", Page::default()).unwrap();
        assert_eq!(hits.total, 1);
        let mut reviewed = one;
        reviewed.status = PostmortemStatus::Reviewed;
        reviewed.revision = 3;
        store.apply(reviewed).unwrap();
        assert_eq!(
            store.apply(two).unwrap(),
            Applied::Ignored,
            "a late narrative after a review"
        );
    }
}
