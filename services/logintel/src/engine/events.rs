//! The template events of one mined line (created, updated, split parts and the retired template).

use opsline_events::logs::{TemplateChangeKind, TemplateEvent, TemplatePart};
use opsline_logmine::Template;

/// The events of a split: the retired template (change `split`, listing its parts) and, for each
/// part, its `created` event from this batch or a new `updated` one, marked with `split_from`.
pub(super) fn split_events(
    events: &mut Vec<TemplateEvent>,
    service: &str,
    from: u64,
    text: &str,
    into: &[Template],
    count: u64,
) {
    let mut retired = template_event(service, from, text, TemplateChangeKind::Split, None, count);
    retired.split_into = into
        .iter()
        .map(|t| TemplatePart {
            template_id: t.id,
            template: super::masks::mask(&t.text).into_owned(),
        })
        .collect();
    for part in into {
        match events
            .iter_mut()
            .find(|e| e.template_id == part.id && e.change == TemplateChangeKind::Created)
        {
            Some(created) => {
                created.split_from = Some(from);
                created.count = part.count;
            }
            None => {
                let mut updated = template_event(
                    service,
                    part.id,
                    &part.text,
                    TemplateChangeKind::Updated,
                    None,
                    part.count,
                );
                updated.split_from = Some(from);
                events.push(updated);
            }
        }
    }
    events.push(retired);
}

pub(super) fn template_event(
    service: &str,
    id: u64,
    text: &str,
    change: TemplateChangeKind,
    previous: Option<&str>,
    count: u64,
) -> TemplateEvent {
    TemplateEvent {
        service: service.to_owned(),
        template_id: id,
        template: super::masks::mask(text).into_owned(),
        change,
        previous: previous.map(|p| super::masks::mask(p).into_owned()),
        count,
        split_into: Vec::new(),
        split_from: None,
    }
}
