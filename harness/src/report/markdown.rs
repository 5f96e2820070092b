//! `summary.md`: GitHub-flavoured Markdown for a CI step summary
//! (`cat gameday-report/summary.md >> "$GITHUB_STEP_SUMMARY"`).
//!
//! A headline verdict, one table row per scenario (verdict, recovery time on
//! the cluster clock and in wall time, budget, margin), then a section per
//! scenario: its phases against their budgets (p50/p95/max when it ran more
//! than once), the state diff and errors. Text from scenario files and
//! errors is escaped, so it cannot break the tables or inject HTML.

use std::fmt::Write as _;

use super::compare;
use super::human::{self, plural};
use super::stats::{self, TOTAL};
use super::tree::{
    BudgetCheck, RepeatReport, RunReport, ScenarioReport, StateDiff, Status, TimeBase,
};

/// The Markdown summary of a run.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} gameday: {}\n",
        human::status_icon(report.status),
        human::headline(report)
    );
    let _ = writeln!(
        out,
        "Run `{}` · gameday {} · started {} · {} wall time.",
        escape(&report.run_id),
        escape(&report.gameday_version),
        escape(&report.started_at),
        human::duration(report.wall_ms)
    );
    if report
        .scenarios
        .iter()
        .any(|s| s.time_base == TimeBase::Simulated)
    {
        out.push_str(
            "Recovery times are on each scenario's cluster clock: *sim* is the embedded \
             simulator's virtual clock (simulated time), *wall* is real time.\n",
        );
    }
    out.push('\n');
    overview(&mut out, report);
    for s in &report.scenarios {
        scenario(&mut out, s);
    }
    out
}

fn overview(out: &mut String, report: &RunReport) {
    // The baseline column appears only when the run was compared with one.
    let baseline = report.scenarios.iter().any(|s| s.baseline.is_some());
    out.push_str("| scenario | verdict | recovery (sim / wall) | budget | margin |");
    out.push_str(if baseline { " vs baseline |\n" } else { "\n" });
    out.push_str("| --- | --- | ---: | ---: | ---: |");
    out.push_str(if baseline { " --- |\n" } else { "\n" });
    for s in &report.scenarios {
        let total = total_check(s);
        let verdict = match s.status {
            Status::Failed => format!("❌ failed: {}", escape(&s.verdict.failures.join("; "))),
            st => format!("{} {}", human::status_icon(st), st.name()),
        };
        let _ = writeln!(
            out,
            "| [{name}](#{anchor}) | {verdict} | {recovery} | {budget} | {margin} |{vs}",
            name = escape(&s.name),
            anchor = anchor(s),
            recovery = recovery_cell(s, total),
            budget = human::duration(s.objective.total_ms),
            margin = total
                .and_then(|c| c.margin_ms)
                .map_or("–".to_owned(), human::margin),
            vs = if baseline {
                baseline_cell(s)
            } else {
                String::new()
            },
        );
    }
    out.push('\n');
}

/// ` ⚠️ total +31.0 % · regressed: converge +30.0 % |`, or ` – |` without one.
fn baseline_cell(s: &ScenarioReport) -> String {
    match &s.baseline {
        Some(c) if c.regressed => format!(" ⚠️ {} |", escape(&compare::summary_cell(c))),
        Some(c) => format!(" {} |", escape(&compare::summary_cell(c))),
        None => " – |".to_owned(),
    }
}

fn total_check(s: &ScenarioReport) -> Option<&BudgetCheck> {
    s.verdict.budgets.iter().find(|c| c.phase == TOTAL)
}

/// `3m7s sim / 0.1s wall`; with repeats, the judged quantile (`p95 1m16s …`).
fn recovery_cell(s: &ScenarioReport, total: Option<&BudgetCheck>) -> String {
    let Some(ms) = total.and_then(|c| c.actual_ms) else {
        return "–".to_owned();
    };
    let ran: Vec<&RepeatReport> = s
        .repeats
        .iter()
        .filter(|r| r.recovery_ms.is_some())
        .collect();
    let walls: Vec<u64> = ran.iter().map(|r| stats::recovery_wall_ms(r)).collect();
    let q = stats::quantile_fraction(&s.objective.quantile).unwrap_or(1.0);
    let wall = stats::quantile(&walls, q).map_or("–".to_owned(), human::duration);
    let prefix = if s.repeats.len() > 1 {
        format!("{} ", escape(&s.objective.quantile))
    } else {
        String::new()
    };
    match s.time_base {
        TimeBase::Simulated => format!("{prefix}{} sim / {wall} wall", human::duration(ms)),
        TimeBase::Wall => format!("{prefix}{} wall", human::duration(ms)),
    }
}

fn anchor(s: &ScenarioReport) -> String {
    // GitHub's heading anchors: lower-case, spaces to '-', most punctuation dropped.
    s.name
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

fn scenario(out: &mut String, s: &ScenarioReport) {
    let _ = writeln!(out, "### {}\n", escape(&s.name));
    let _ = writeln!(
        out,
        "{} **{}**",
        human::status_icon(s.status),
        s.status.name()
    );
    if !s.description.is_empty() {
        let _ = writeln!(out, "— {}", escape(&s.description));
    }
    let _ = writeln!(
        out,
        "\n`{}` · provider {} · disaster {} · recovery {} · {} time · {}\n",
        escape_code(&s.file),
        escape(&s.provider),
        escape(&s.disaster.join(" + ")),
        escape(&s.recovery),
        human::time_base(s.time_base),
        plural(s.repeats.len(), "repeat"),
    );
    if !s.verdict.failures.is_empty() && s.status == Status::Failed {
        out.push_str("**Missed:**\n");
        for f in &s.verdict.failures {
            let _ = writeln!(out, "- {}", escape(f));
        }
        out.push('\n');
    }
    errors(out, s);
    match s.repeats.as_slice() {
        [] => out.push_str("Not run.\n\n"),
        [only] => phases(out, only, total_check(s).filter(|_| judged(s))),
        _ => stats_table(out, s),
    }
    diffs(out, s);
}

/// Errored and aborted scenarios measured nothing to judge.
fn judged(s: &ScenarioReport) -> bool {
    matches!(s.status, Status::Passed | Status::Failed)
}

fn errors(out: &mut String, s: &ScenarioReport) {
    for r in s.repeats.iter().filter(|r| r.error.is_some()) {
        let label = human::error_label(r.status);
        let _ = writeln!(out, "**{label}** (repeat {}):\n", r.index);
        out.push_str(&fenced(r.error.as_deref().unwrap_or_default()));
        out.push('\n');
        if r.reasons.len() > 1 {
            for why in &r.reasons {
                let _ = writeln!(out, "- {}", escape(why));
            }
            out.push('\n');
        }
    }
    for r in &s.repeats {
        if let Some(c) = &r.coverage {
            let _ = writeln!(out, "Repeat {}: {}.\n", r.index, escape(&c.describe()));
        }
    }
}

fn phases(out: &mut String, r: &RepeatReport, total: Option<&BudgetCheck>) {
    out.push_str("| phase | group | took | budget | margin | |\n");
    out.push_str("| --- | --- | ---: | ---: | ---: | --- |\n");
    for p in &r.phases {
        let took = p.duration_ms().map_or("–".to_owned(), human::duration);
        let budget = p.budget_ms.map_or(String::new(), human::duration);
        let margin = match (p.budget_ms, p.duration_ms()) {
            (Some(b), Some(d)) => human::margin(b as i64 - d as i64),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {took} | {budget} | {margin} | {} |",
            escape(&p.name),
            p.group.name(),
            human::status_icon(p.status)
        );
    }
    if let Some(c) = total {
        let _ = writeln!(
            out,
            "| **recovery** | | **{}** | **{}** | **{}** | {} |",
            c.actual_ms.map_or("–".to_owned(), human::duration),
            human::duration(c.budget_ms),
            c.margin_ms.map_or("–".to_owned(), human::margin),
            human::status_icon(if c.passed {
                Status::Passed
            } else {
                Status::Failed
            })
        );
    }
    out.push('\n');
}

fn stats_table(out: &mut String, s: &ScenarioReport) {
    let q = escape(&s.objective.quantile);
    let _ = writeln!(
        out,
        "| phase | budget | p50 | p95 | max | judged ({q}) | margin | |"
    );
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for st in &s.stats {
        let check = s.verdict.budgets.iter().find(|c| c.phase == st.phase);
        let name = if st.phase == TOTAL {
            "**recovery**".to_owned()
        } else {
            escape(&st.phase)
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            check.map_or(String::new(), |c| human::duration(c.budget_ms)),
            human::duration(st.p50_ms),
            human::duration(st.p95_ms),
            human::duration(st.max_ms),
            check
                .and_then(|c| c.actual_ms)
                .map_or(String::new(), human::duration),
            check
                .and_then(|c| c.margin_ms)
                .map_or(String::new(), human::margin),
            check.map_or("", |c| human::status_icon(if c.passed {
                Status::Passed
            } else {
                Status::Failed
            })),
        );
    }
    let _ = writeln!(
        out,
        "\nStatistics over {} (nearest-rank quantiles).\n",
        plural(s.repeats.len(), "repeat")
    );
    out.push_str("| repeat | seed | recovery | |\n| ---: | ---: | ---: | --- |\n");
    for r in &s.repeats {
        let _ = writeln!(
            out,
            "| #{} | {} | {} | {} |",
            r.index,
            r.seed,
            r.recovery_ms.map_or("–".to_owned(), human::duration),
            human::status_icon(r.status)
        );
    }
    out.push('\n');
}

fn diffs(out: &mut String, s: &ScenarioReport) {
    let single = s.repeats.len() == 1;
    for r in &s.repeats {
        if r.status == Status::Error || (r.diff.compared == 0 && is_empty(&r.diff)) {
            continue;
        }
        if is_empty(&r.diff) {
            if single {
                let _ = writeln!(
                    out,
                    "State diff: all {} came back unchanged.\n",
                    plural(r.diff.compared as usize, "object")
                );
            }
            continue;
        }
        let which = if single {
            String::new()
        } else {
            format!(" (repeat {})", r.index)
        };
        let _ = writeln!(
            out,
            "**State diff**{which}: {} compared.\n",
            plural(r.diff.compared as usize, "object")
        );
        diff_lines(out, &r.diff);
        out.push('\n');
    }
    let compared = s.repeats.iter().map(|r| r.diff.compared).max().unwrap_or(0);
    if s.repeats.len() > 1 && compared > 0 && s.repeats.iter().all(|r| is_empty(&r.diff)) {
        let _ = writeln!(
            out,
            "State diff: all {} came back unchanged in every repeat.\n",
            plural(compared as usize, "object")
        );
    }
}

fn is_empty(d: &StateDiff) -> bool {
    d.lost.is_empty() && d.changed.is_empty() && d.extra.is_empty()
}

fn diff_lines(out: &mut String, d: &StateDiff) {
    for e in &d.lost {
        if e.allowed {
            let _ = writeln!(
                out,
                "- lost (allowed by `expect.lost`): `{}`",
                escape_code(&e.object)
            );
        } else {
            let _ = writeln!(out, "- ❌ **lost**: `{}`", escape_code(&e.object));
        }
    }
    for e in &d.changed {
        let fields: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("`{}`", escape_code(f)))
            .collect();
        let _ = writeln!(
            out,
            "- changed: `{}` ({})",
            escape_code(&e.object),
            fields.join(", ")
        );
    }
    for e in &d.extra {
        let _ = writeln!(out, "- extra: `{}`", escape_code(&e.object));
    }
}

/// Escapes text for Markdown prose and table cells: Markdown punctuation is
/// backslash-escaped, `<` and `&` become entities (no raw HTML), newlines
/// become spaces (a table row is one line).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a `code span`: backticks cannot be escaped there, so they
/// become `'`; `|` is escaped for tables.
fn escape_code(text: &str) -> String {
    text.replace('`', "'")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A fenced code block longer than any backtick run inside.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_tables_and_html_inert() {
        assert_eq!(escape("a|b <script>&"), "a\\|b &lt;script>&amp;");
        assert_eq!(fenced("x ``` y"), "````text\nx ``` y\n````\n");
    }
}
