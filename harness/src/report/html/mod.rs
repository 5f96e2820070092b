//! `report.html`: one self-contained page to share after a drill.
//!
//! Inline CSS and inline SVG only: no script, no network, no web fonts, so it
//! opens from a CI artifact or an e-mail attachment exactly as written. For
//! each scenario: the verdict with each budget's margin, the p50/p95/max
//! table when it ran more than once, a timeline per repeat ([`timeline`])
//! and the state diff. Every text from the report goes through [`esc`].

pub mod timeline;
mod widgets;

use std::fmt::Write as _;

use super::human::headline;
use super::human::{self, plural};
use super::stats::TOTAL;
use super::stats::recovery_wall_ms;
use super::tree::{RepeatReport, RunReport, ScenarioReport, Status, TimeBase};

const STYLE: &str = include_str!("style.css");

/// The HTML report of a run.
pub fn render(report: &RunReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gameday {version}">
<title>gameday {status}: {headline}</title>
<style>
{STYLE}</style>
</head>
<body>
"#,
        version = esc(&report.gameday_version),
        status = report.status.name(),
        headline = esc(&headline(report)),
    );
    let _ = write!(
        out,
        r#"<header class="run {status}"><div class="brand">gameday · disaster-recovery drill report</div><h1>{badge} {headline}</h1><p class="meta">Run <code>{run}</code> · started {started} · {wall} wall time · {n} · gameday {version}</p></header>
<main>
"#,
        status = report.status.name(),
        badge = widgets::badge(report.status),
        headline = esc(&headline(report)),
        run = esc(&report.run_id),
        started = esc(&report.started_at),
        wall = human::duration(report.wall_ms),
        n = plural(report.scenarios.len(), "scenario"),
        version = esc(&report.gameday_version),
    );
    overview(&mut out, report);
    out.push_str(widgets::LEGEND);
    for s in &report.scenarios {
        scenario(&mut out, s);
    }
    let _ = write!(
        out,
        "</main>\n<footer>Run {} · report format {} · this page is self-contained: no scripts, no network.</footer>\n</body>\n</html>\n",
        esc(&report.run_id),
        esc(&report.format)
    );
    out
}

fn overview(out: &mut String, report: &RunReport) {
    // The baseline column appears only when the run was compared with one.
    let baseline = report.scenarios.iter().any(|s| s.baseline.is_some());
    out.push_str(
        r#"<section class="card overview"><table><thead><tr><th>scenario</th><th>verdict</th><th class="num">recovery</th><th class="num">budget</th><th class="num">margin</th><th class="num">lost</th><th class="num">repeats</th>"#,
    );
    out.push_str(if baseline {
        "<th>vs baseline</th></tr></thead><tbody>"
    } else {
        "</tr></thead><tbody>"
    });
    for s in &report.scenarios {
        let total = s.verdict.budgets.iter().find(|c| c.phase == TOTAL);
        let recovery = match total.and_then(|c| c.actual_ms) {
            Some(ms) => {
                let q = if s.repeats.len() > 1 {
                    format!(
                        r#"<span class="muted">{}</span> "#,
                        esc(&s.objective.quantile)
                    )
                } else {
                    String::new()
                };
                format!("{q}{}{}", human::duration(ms), time_tag(s))
            }
            None => "–".to_owned(),
        };
        let margin = total
            .and_then(|c| c.margin_ms)
            .map_or("–".to_owned(), widgets::margin);
        let lost: usize = s
            .repeats
            .iter()
            .map(|r| r.diff.lost.iter().filter(|e| !e.allowed).count())
            .sum();
        let lost = if lost > 0 {
            format!(r#"<span class="bad">{lost}</span>"#)
        } else {
            "0".to_owned()
        };
        let _ = write!(
            out,
            r##"<tr><td><a href="#{id}">{name}</a></td><td>{badge}{why}</td><td class="num">{recovery}</td><td class="num">{budget}</td><td class="num">{margin}</td><td class="num">{lost}</td><td class="num">{repeats}</td>{vs}</tr>"##,
            id = anchor(&s.name),
            name = esc(&s.name),
            badge = widgets::badge(s.status),
            why = short_reason(s),
            budget = human::duration(s.objective.total_ms),
            repeats = s.repeats.len(),
            vs = if baseline {
                baseline_cell(s)
            } else {
                String::new()
            },
        );
    }
    out.push_str("</tbody></table></section>\n");
}

/// The baseline comparison's cell: the total's change and what regressed
/// (class `bad`), `–` without a baseline.
fn baseline_cell(s: &ScenarioReport) -> String {
    match &s.baseline {
        Some(c) if c.regressed => format!(
            r#"<td class="baseline"><span class="bad">{}</span></td>"#,
            esc(&super::compare::summary_cell(c))
        ),
        Some(c) => format!(
            r#"<td class="baseline">{}</td>"#,
            esc(&super::compare::summary_cell(c))
        ),
        None => r#"<td class="baseline">–</td>"#.to_owned(),
    }
}

/// ` sim` tag: the value is on the simulator's clock.
fn time_tag(s: &ScenarioReport) -> &'static str {
    match s.time_base {
        TimeBase::Simulated => r#" <span class="badge sim" title="simulated time">sim</span>"#,
        TimeBase::Wall => "",
    }
}

fn short_reason(s: &ScenarioReport) -> String {
    let text = match s.status {
        Status::Failed => s.verdict.failures.join("; "),
        Status::Unsupported | Status::Unrecoverable | Status::Error | Status::Aborted => s
            .repeats
            .iter()
            .find_map(human::repeat_note)
            .unwrap_or_default(),
        Status::Passed => String::new(),
    };
    if text.is_empty() {
        return String::new();
    }
    let short: String = text.chars().take(90).collect();
    let ellipsis = if short.len() < text.len() { "…" } else { "" };
    format!(r#" <span class="muted">{}{ellipsis}</span>"#, esc(&short))
}

/// `s-<name>`, safe as an id.
fn anchor(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("s-{slug}")
}

fn scenario(out: &mut String, s: &ScenarioReport) {
    let _ = write!(
        out,
        r#"<section class="card scenario {status}" id="{id}"><h2>{name} {badge}</h2>"#,
        status = s.status.name(),
        id = anchor(&s.name),
        name = esc(&s.name),
        badge = widgets::badge(s.status),
    );
    if !s.description.is_empty() {
        let _ = write!(out, r#"<p class="desc">{}</p>"#, esc(&s.description));
    }
    let facts = [
        ("file", format!("<code>{}</code>", esc(&s.file))),
        ("provider", esc(&s.provider)),
        ("disaster", esc(&s.disaster.join(" + "))),
        ("recovery", esc(&s.recovery)),
        ("time", esc(human::time_base_note(s.time_base))),
        (
            "repeats",
            if s.repeats.len() > 1 {
                format!(
                    "{} (judged on {})",
                    s.repeats.len(),
                    esc(&s.objective.quantile)
                )
            } else {
                s.repeats.len().to_string()
            },
        ),
    ];
    out.push_str(r#"<dl class="facts">"#);
    for (k, v) in facts {
        let _ = write!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    }
    out.push_str("</dl>");
    if !s.verdict.failures.is_empty() && s.status == Status::Failed {
        out.push_str(r#"<ul class="failures">"#);
        for f in &s.verdict.failures {
            let _ = write!(out, "<li>{}</li>", esc(f));
        }
        out.push_str("</ul>");
    }
    for r in s.repeats.iter().filter(|r| r.error.is_some()) {
        let _ = write!(
            out,
            r#"<pre class="error {}">{} (repeat {}): {}</pre>"#,
            r.status.name(),
            human::error_label(r.status),
            r.index,
            esc(r.error.as_deref().unwrap_or_default())
        );
        if r.reasons.len() > 1 {
            out.push_str(r#"<ul class="failures reasons">"#);
            for why in &r.reasons {
                let _ = write!(out, "<li>{}</li>", esc(why));
            }
            out.push_str("</ul>");
        }
    }
    for r in &s.repeats {
        if let Some(c) = &r.coverage {
            let _ = write!(
                out,
                r#"<p class="coverage muted">repeat {}: {}</p>"#,
                r.index,
                esc(&c.describe())
            );
        }
    }
    if s.repeats.is_empty() {
        out.push_str(
            r#"<p class="muted">Not run: the run ended before this scenario started.</p>"#,
        );
    } else {
        widgets::checks(out, s);
    }
    if s.repeats.len() > 1 {
        widgets::stats(out, s);
    }
    for (i, r) in s.repeats.iter().enumerate() {
        repeat(out, s, r, i == 0);
    }
    out.push_str("</section>\n");
}

fn repeat(out: &mut String, s: &ScenarioReport, r: &RepeatReport, open: bool) {
    let recovery = match r.recovery_ms {
        Some(ms) => format!(
            "recovery {} {} · {} wall",
            human::duration(ms),
            human::time_base(s.time_base),
            human::duration(recovery_wall_ms(r))
        ),
        None => "no recovery measured".to_owned(),
    };
    let _ = write!(
        out,
        r#"<details class="repeat"{open}><summary>Repeat #{index} {badge} <span class="muted">· seed {seed} · {recovery} · repeat took {wall} wall</span></summary>"#,
        open = if open { " open" } else { "" },
        index = r.index,
        badge = widgets::badge(r.status),
        seed = r.seed,
        wall = human::duration(r.wall_ms),
    );
    let ctx = timeline::Context {
        scenario: &s.name,
        total_budget_ms: s.objective.total_ms,
        time_base: s.time_base,
    };
    // The chart scrolls sideways on narrow screens rather than shrinking its text.
    out.push_str(r#"<div class="chart">"#);
    out.push_str(&timeline::render(ctx, r));
    out.push_str("</div>");
    widgets::diff(out, r);
    out.push_str("</details>");
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_neutralises_markup() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn anchors_are_safe_ids() {
        assert_eq!(anchor("cluster-loss"), "s-cluster-loss");
        assert_eq!(anchor("a b\"<"), "s-a_b__");
    }
}
