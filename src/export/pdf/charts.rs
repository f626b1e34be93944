//! A horizontal bar chart drawn with filled rectangles: one bar per label, scaled to the
//! largest value, with the count printed after the bar (so the chart reads without colour).

use super::layout::{black, rgb, Doc, Face, CONTENT_W, MARGIN_X};
use printpdf::Color;

pub fn severity_color(label: &str) -> Color {
    match label {
        "CRITICAL" | "BLOCK" | "FAIL" => rgb(0.70, 0.10, 0.10),
        "HIGH" => rgb(0.85, 0.35, 0.10),
        "MEDIUM" | "WARN" | "CONDITIONAL" => rgb(0.90, 0.65, 0.10),
        "LOW" | "INFO" => rgb(0.25, 0.45, 0.75),
        "PASS" => rgb(0.15, 0.55, 0.25),
        _ => rgb(0.55, 0.55, 0.55),
    }
}

pub fn bar_chart(doc: &mut Doc<'_>, title: &str, bars: &[(String, u64)]) {
    let size = 8.0;
    let bar_h = 10.0;
    let step = 14.0;
    let height = 18.0 + step * bars.len() as f32 + 6.0;
    doc.ensure(height);
    doc.text_at(MARGIN_X, doc.y - 9.0, title, Face::Bold, 9.0, black());
    doc.y -= 16.0;
    let label_w = 90.0;
    let max_w = CONTENT_W * 0.6;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let x0 = MARGIN_X + label_w;
    let top = doc.y;
    for (label, v) in bars {
        let l = doc.fonts.fit(label, Face::Regular, size, label_w - 6.0);
        doc.text_at(
            MARGIN_X,
            doc.y - bar_h + 2.0,
            &l,
            Face::Regular,
            size,
            black(),
        );
        let w = (*v as f32 / max as f32) * max_w;
        if *v > 0 {
            doc.rect(x0, doc.y - bar_h, w.max(1.0), bar_h, severity_color(label));
        }
        doc.text_at(
            x0 + w + 4.0,
            doc.y - bar_h + 2.0,
            &v.to_string(),
            Face::Regular,
            size,
            black(),
        );
        doc.y -= step;
    }
    // The axis, from the first bar's top to below the last.
    super::layout::push_line(
        &mut doc.ops,
        (x0, top + 2.0),
        (x0, doc.y + step - bar_h - 2.0),
        0.5,
        rgb(0.3, 0.3, 0.3),
    );
    doc.gap(6.0);
}
