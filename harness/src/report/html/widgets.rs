//! Small pieces of the HTML report: status badges, the budget meters of a
//! verdict, the p50/p95/max table with its range bars, the state diff, the
//! legend.

use std::fmt::Write as _;

use super::esc;
use crate::report::human;
use crate::report::stats::TOTAL;
use crate::report::tree::{RepeatReport, ScenarioReport, Status};

/// The legend of the timelines (once per page).
pub const LEGEND: &str = r#"<div class="legend"><strong>Timelines:</strong><span><i class="prep"></i>preparation</span><span><i class="dis"></i>disaster</span><span><i class="rec"></i>recovery</span><span><i class="ver"></i>verification</span><span><i class="budget"></i>phase budget</span><span><i class="over"></i>over budget</span><span><i class="deadline"></i>RTO deadline</span><span>◇ operation (hover for details)</span></div>
"#;

/// A coloured status pill.
pub fn badge(status: Status) -> String {
    format!(r#"<span class="badge {0}">{0}</span>"#, status.name())
}

/// A signed margin, green when met, red when missed.
pub fn margin(ms: i64) -> String {
    let class = if ms >= 0 { "good" } else { "bad" };
    format!(r#"<span class="{class}">{}</span>"#, human::margin(ms))
}

/// The verdict: one row per budget with a meter (the bar is the measured
/// value, the black mark the budget).
pub fn checks(out: &mut String, s: &ScenarioReport) {
    if s.verdict.budgets.is_empty() {
        return;
    }
    // Errored and aborted scenarios measured nothing to judge: their budgets
    // are "not judged", not "missed".
    let judged_at_all = !matches!(s.status, Status::Error | Status::Aborted);
    let judged = if !judged_at_all {
        " <span class=\"muted\">(not judged: the drill did not run to the end)</span>".to_owned()
    } else if s.repeats.len() > 1 {
        format!(
            " ({} of {} repeats)",
            esc(&s.objective.quantile),
            s.repeats.len()
        )
    } else {
        String::new()
    };
    let _ = write!(
        out,
        r#"<h3>Verdict{judged}</h3><table class="checks"><thead><tr><th>budget</th><th>measured against budget</th><th class="num">measured</th><th class="num">budget</th><th class="num">margin</th><th></th></tr></thead><tbody>"#
    );
    for c in &s.verdict.budgets {
        let scale = c
            .actual_ms
            .unwrap_or(0)
            .max(c.budget_ms + c.budget_ms / 4)
            .max(1) as f64;
        let pct = |ms: u64| 100.0 * ms as f64 / scale;
        let meter = match c.actual_ms {
            Some(a) => format!(
                r#"<div class="meter"><span class="fill{}" style="width:{:.1}%"></span><span class="mark" style="left:{:.1}%"></span></div>"#,
                if c.passed { "" } else { " over" },
                pct(a),
                pct(c.budget_ms)
            ),
            None => r#"<span class="muted">not measured</span>"#.to_owned(),
        };
        let name = if c.phase == TOTAL {
            "recovery (total)".to_owned()
        } else {
            esc(&c.phase)
        };
        let _ = write!(
            out,
            r#"<tr><td>{name}</td><td>{meter}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            c.actual_ms.map_or("–".to_owned(), human::duration),
            human::duration(c.budget_ms),
            c.margin_ms.map_or("–".to_owned(), margin),
            match (c.passed, c.actual_ms) {
                (true, _) => r#"<span class="good">met</span>"#,
                (false, None) if !judged_at_all => r#"<span class="muted">not judged</span>"#,
                (false, _) => r#"<span class="bad">missed</span>"#,
            },
        );
    }
    out.push_str("</tbody></table>");
}

/// p50/p95/max per phase over the repeats, with a range bar per row.
pub fn stats(out: &mut String, s: &ScenarioReport) {
    let _ = write!(
        out,
        r#"<h3>Statistics over {} repeats</h3><table class="stats"><thead><tr><th>phase</th><th class="num">samples</th><th class="num">p50</th><th class="num">p95</th><th class="num">max</th><th class="num">budget</th><th>spread (bar p50→max, dot p50, dashed budget)</th></tr></thead><tbody>"#,
        s.repeats.len()
    );
    for st in &s.stats {
        let budget = s
            .verdict
            .budgets
            .iter()
            .find(|c| c.phase == st.phase)
            .map(|c| c.budget_ms);
        let name = if st.phase == TOTAL {
            "recovery (total)".to_owned()
        } else {
            esc(&st.phase)
        };
        let _ = write!(
            out,
            r#"<tr><td>{name}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            st.samples,
            human::duration(st.p50_ms),
            human::duration(st.p95_ms),
            human::duration(st.max_ms),
            budget.map_or("–".to_owned(), human::duration),
            range(st.p50_ms, st.p95_ms, st.max_ms, budget),
        );
    }
    out.push_str(
        r#"</tbody></table><p class="muted">Quantiles by the nearest-rank method: every value is one repeat's measurement.</p>"#,
    );
}

fn range(p50: u64, p95: u64, max: u64, budget: Option<u64>) -> String {
    const W: f64 = 240.0;
    let scale = max.max(budget.unwrap_or(0)).max(1) as f64 * 1.08;
    let x = |ms: u64| 4.0 + (W - 8.0) * ms as f64 / scale;
    let over = budget.is_some_and(|b| max > b);
    let mut s = format!(
        r#"<svg class="range{}" viewBox="0 0 {W} 22" role="img" aria-label="p50 {} p95 {} max {}"><rect class="track" x="4" y="8" width="{:.1}" height="6" rx="3"/><rect class="span" x="{:.1}" y="6" width="{:.1}" height="10" rx="3"/>"#,
        if over { " over" } else { "" },
        human::duration(p50),
        human::duration(p95),
        human::duration(max),
        W - 8.0,
        x(p50),
        (x(max) - x(p50)).max(2.0),
    );
    let _ = write!(
        s,
        r#"<line class="p95" x1="{0:.1}" y1="5" x2="{0:.1}" y2="17"/><line class="max" x1="{1:.1}" y1="4" x2="{1:.1}" y2="18"/><circle class="p50" cx="{2:.1}" cy="11" r="4"/>"#,
        x(p95),
        x(max),
        x(p50)
    );
    if let Some(b) = budget {
        let _ = write!(
            s,
            r#"<line class="budget" x1="{0:.1}" y1="1" x2="{0:.1}" y2="21"/>"#,
            x(b)
        );
    }
    s.push_str("</svg>");
    s
}

/// What the snapshot diff found for one repeat.
pub fn diff(out: &mut String, r: &RepeatReport) {
    let d = &r.diff;
    if d.lost.is_empty() && d.changed.is_empty() && d.extra.is_empty() {
        if d.compared > 0 {
            let _ = write!(
                out,
                r#"<p class="diff-clean">✓ State diff: all {} objects came back unchanged.</p>"#,
                d.compared
            );
        }
        return;
    }
    let _ = write!(
        out,
        r#"<h3>State diff <span class="muted">({} objects compared)</span></h3><ul class="diff">"#,
        d.compared
    );
    for e in &d.lost {
        let (class, label, note) = if e.allowed {
            (
                "allowed",
                "lost",
                " <span class=\"muted\">allowed by expect.lost</span>",
            )
        } else {
            ("lost", "lost", "")
        };
        let _ = write!(
            out,
            r#"<li><span class="kind {class}">{label}</span><code>{}</code>{note}</li>"#,
            esc(&e.object)
        );
    }
    for e in &d.changed {
        let fields: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("<code>{}</code>", esc(f)))
            .collect();
        let _ = write!(
            out,
            r#"<li><span class="kind changed">changed</span><code>{}</code><span class="muted">{}</span></li>"#,
            esc(&e.object),
            fields.join(", ")
        );
    }
    for e in &d.extra {
        let _ = write!(
            out,
            r#"<li><span class="kind extra">extra</span><code>{}</code></li>"#,
            esc(&e.object)
        );
    }
    out.push_str("</ul>");
}
