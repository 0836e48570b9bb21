//! Charts drawn on the server as SVG (no script, no library): stacked bars over time buckets,
//! and horizontal bars. Every label is escaped.

use std::collections::{BTreeMap, BTreeSet};

use super::html::escape;

/// Colours of the series, in order (services beyond them reuse them).
const COLOURS: [&str; 10] = [
    "#1d5fa8", "#d9641e", "#2e7d32", "#b3261e", "#7b4fb0", "#c9a227", "#00838f", "#8d6e63", "#5c6bc0", "#6d8b3a",
];

/// Stacked bars: one bar per bucket, one colour per series, with a legend.
pub fn stacked_bars(title: &str, data: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    let series: BTreeSet<&String> = data.values().flat_map(|m| m.keys()).collect();
    let series: Vec<&String> = series.into_iter().collect();
    let top = data.values().map(|m| m.values().sum::<u64>()).max().unwrap_or(0).max(1);
    let (width, height, left, bottom) = (760.0_f64, 220.0_f64, 40.0_f64, 40.0_f64);
    let plot = height - bottom - 10.0;
    let step = if data.is_empty() {
        0.0
    } else {
        (width - left) / data.len() as f64
    };
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" \
width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"10\">",
        escape(title),
        escape(title)
    );
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"10\" x2=\"{left}\" y2=\"{}\" stroke=\"#999\"/><text x=\"2\" y=\"16\">{top}</text>\
<text x=\"2\" y=\"{}\">0</text>",
        10.0 + plot,
        10.0 + plot
    ));
    for (i, (bucket, counts)) in data.iter().enumerate() {
        let x = left + i as f64 * step + step * 0.1;
        let mut y = 10.0 + plot;
        for (s, name) in series.iter().enumerate() {
            let count = counts.get(*name).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let h = plot * count as f64 / top as f64;
            y -= h;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {count}</title></rect>",
                step * 0.8,
                COLOURS[s % COLOURS.len()],
                escape(bucket),
                escape(name)
            ));
        }
        // A label is about 5.5 px a character: skip bars so labels never overlap.
        let label_every = ((100.0 / step.max(1.0)).ceil() as usize).max(1);
        if i % label_every == 0 {
            let label: String = bucket
                .chars()
                .take(if bucket.contains("T00:00:00") { 10 } else { 16 })
                .collect();
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{}\">{}</text>",
                height - bottom + 14.0,
                escape(&label.replace('T', " "))
            ));
        }
    }
    svg.push_str("</svg><p class=\"legend\">");
    for (s, name) in series.iter().enumerate() {
        svg.push_str(&format!(
            "<span><svg width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\" fill=\"{}\"/></svg> {}</span> ",
            COLOURS[s % COLOURS.len()],
            escape(name)
        ));
    }
    if data.is_empty() {
        svg.push_str("<span class=\"muted\">nothing yet</span>");
    }
    svg.push_str("</p></figure>");
    svg
}

/// Horizontal bars, one per `(label, value)`, with the value printed by `show`.
pub fn bars(title: &str, rows: &[(String, f64)], show: impl Fn(f64) -> String) -> String {
    let top = rows
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let (width, row) = (760.0_f64, 22.0_f64);
    let height = (rows.len().max(1) as f64) * row + 10.0;
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" \
width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">",
        escape(title),
        escape(title)
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let w = (width - 260.0) * value / top;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\">{}</text><rect x=\"160\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            y + 14.0,
            escape(label),
            row - 6.0,
            COLOURS[i % COLOURS.len()],
            165.0 + w,
            y + 14.0,
            escape(&show(*value))
        ));
    }
    if rows.is_empty() {
        svg.push_str("<text x=\"0\" y=\"18\">nothing yet</text>");
    }
    svg.push_str("</svg></figure>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_and_draw_one_rect_per_value() {
        let mut data = BTreeMap::new();
        data.insert(
            "2026-01-01T00:00:00Z".to_owned(),
            BTreeMap::from([("a<b".to_owned(), 2u64), ("c".to_owned(), 1)]),
        );
        let svg = stacked_bars("t", &data);
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains("a&lt;b") && !svg.contains("a<b"));
        let svg = bars("q", &[("x".into(), 3.0), ("y".into(), 0.0)], |v| format!("{v}"));
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(stacked_bars("e", &BTreeMap::new()).contains("nothing yet"));
    }
}
