//! The SVG timeline of one repeat: a Gantt chart of its phases, grouped
//! (preparation, disaster, recovery, verification), each against its budget.
//!
//! - a bar per phase from its start to its end, coloured by group; the part
//!   of a phase beyond its budget is red, and so is its label;
//! - the budget as a dashed ghost bar from the phase's start, ending in a tick;
//! - a bracket over the recovery window and a dashed line at the RTO deadline;
//! - operations as small diamonds; `<title>` tooltips (no script needed);
//! - a time axis and a note saying which clock the times are on.
//!
//! Plain SVG 1.1 drawn in a fixed 1000-unit-wide viewBox that scales to the
//! page; every text goes through [`esc`].

use std::fmt::Write as _;

use super::esc;
use crate::report::human;
use crate::report::tree::{PhaseGroup, PhaseReport, RepeatReport, Status, TimeBase};

const W: f64 = 1000.0;
const LABEL_W: f64 = 150.0;
const X0: f64 = 160.0;
const X1: f64 = 850.0;
/// Room above the rows for the recovery bracket (when there is one).
const TOP_BRACKET: f64 = 40.0;
const TOP_PLAIN: f64 = 8.0;
const GROUP_H: f64 = 18.0;
const ROW_H: f64 = 22.0;
const BAR_H: f64 = 13.0;

/// Round steps for the time axis, ms.
const STEPS: [u64; 20] = [
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

/// What the chart needs besides the repeat.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Scenario name (for the accessible label).
    pub scenario: &'a str,
    /// Total recovery budget, ms.
    pub total_budget_ms: u64,
    /// Which clock the times are on.
    pub time_base: TimeBase,
}

/// One row of the chart: a phase or a group caption.
enum Row<'a> {
    Group(PhaseGroup),
    Phase(&'a PhaseReport),
}

/// The timeline of `r` as an inline `<svg>` element.
pub fn render(ctx: Context<'_>, r: &RepeatReport) -> String {
    let rows = rows(&r.phases);
    let recovery = recovery_window(r);
    // Without a measured recovery (aborted, timed out) the deadline still
    // counts from the first recovery phase, so the chart shows how far off it was.
    let deadline = recovery
        .map(|(start, _)| start)
        .or_else(|| {
            r.phases
                .iter()
                .find(|p| p.group == PhaseGroup::Recovery)
                .map(|p| p.start_ms)
        })
        .map(|start| start + ctx.total_budget_ms);
    let domain = domain(r, deadline);
    let top = if deadline.is_some() {
        TOP_BRACKET
    } else {
        TOP_PLAIN
    };
    let x = |ms: u64| X0 + (X1 - X0) * (ms as f64 / domain as f64);
    let body_h = rows
        .iter()
        .map(|row| match row {
            Row::Group(_) => GROUP_H,
            Row::Phase(_) => ROW_H,
        })
        .sum::<f64>();
    let axis_y = top + body_h + 4.0;
    let height = axis_y + 46.0;

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height:.0}" role="img" aria-label="{}">"#,
        esc(&format!("Timeline of {} repeat {}", ctx.scenario, r.index))
    );
    s.push_str(
        r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fecaca"/><line x1="0" y1="0" x2="0" y2="6" stroke="#dc2626" stroke-width="3"/></pattern></defs>"##,
    );
    grid(&mut s, domain, &x, top, axis_y);

    let mut y = top;
    for row in &rows {
        match row {
            Row::Group(g) => {
                let _ = write!(
                    s,
                    r#"<rect class="band {g}" x="0" y="{y:.1}" width="{W}" height="{GROUP_H}"/><text class="group-label {g}" x="8" y="{:.1}">{}</text>"#,
                    y + 13.0,
                    g.name().to_uppercase(),
                    g = g.name(),
                );
                y += GROUP_H;
            }
            Row::Phase(p) => {
                phase_row(&mut s, p, y, &x, ctx.time_base);
                y += ROW_H;
            }
        }
    }
    if let Some((start, end)) = recovery {
        bracket(&mut s, &x, start, end, deadline.is_some_and(|d| end > d));
    }
    if let Some(deadline) = deadline {
        deadline_line(&mut s, x(deadline), ctx.total_budget_ms, axis_y);
    }
    let _ = write!(
        s,
        r#"<text class="note" x="{X0}" y="{:.1}">{}</text>"#,
        axis_y + 38.0,
        esc(match ctx.time_base {
            TimeBase::Simulated =>
                "Simulated time: the embedded simulator's virtual clock, from the start of the repeat.",
            TimeBase::Wall => "Wall-clock time on the cluster, from the start of the repeat.",
        })
    );
    s.push_str("</svg>");
    s
}

fn rows(phases: &[PhaseReport]) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut last = None;
    for p in phases {
        if last != Some(p.group) {
            rows.push(Row::Group(p.group));
            last = Some(p.group);
        }
        rows.push(Row::Phase(p));
    }
    rows
}

/// (start, end) of the recovery, ms: it ends with the last recovery phase
/// and lasted `recovery_ms`.
fn recovery_window(r: &RepeatReport) -> Option<(u64, u64)> {
    let end = r
        .phases
        .iter()
        .filter(|p| p.group == PhaseGroup::Recovery)
        .filter_map(|p| p.end_ms)
        .max()?;
    let ms = r.recovery_ms?;
    Some((end.saturating_sub(ms), end))
}

/// The end of the axis, ms: everything drawn fits, at least one second.
fn domain(r: &RepeatReport, deadline: Option<u64>) -> u64 {
    let ends = r.phases.iter().flat_map(|p| {
        [
            Some(p.end_ms.unwrap_or(p.start_ms)),
            p.budget_ms.map(|b| p.start_ms + b),
        ]
    });
    let max = ends.flatten().chain(deadline).max().unwrap_or(0).max(1_000);
    // A little air after the last mark.
    max + max / 50
}

fn step(domain: u64) -> u64 {
    STEPS
        .into_iter()
        .find(|s| domain / s <= 8)
        .unwrap_or(86_400_000)
}

fn grid(s: &mut String, domain: u64, x: &impl Fn(u64) -> f64, top: f64, axis_y: f64) {
    let step = step(domain);
    let _ = write!(
        s,
        r#"<line class="axis" x1="{X0}" y1="{axis_y:.1}" x2="{X1}" y2="{axis_y:.1}"/>"#
    );
    let mut t = 0;
    while t <= domain {
        let xt = x(t);
        let label = human::duration(t);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{xt:.1}" y1="{top}" x2="{xt:.1}" y2="{axis_y:.1}"/><line class="tick" x1="{xt:.1}" y1="{axis_y:.1}" x2="{xt:.1}" y2="{:.1}"/><text class="tick-label" x="{xt:.1}" y="{:.1}">{label}</text>"#,
            axis_y + 5.0,
            axis_y + 18.0,
        );
        t += step;
    }
}

fn phase_row(s: &mut String, p: &PhaseReport, y: f64, x: &impl Fn(u64) -> f64, base: TimeBase) {
    let group = p.group.name();
    let bar_y = y + (ROW_H - BAR_H) / 2.0;
    let mid = y + ROW_H / 2.0 + 4.0;
    let _ = write!(
        s,
        r#"<g class="phase {group} {status}"><title>{title}</title><text class="phase-label" x="{LABEL_W}" y="{mid:.1}">{name}</text>"#,
        status = p.status.name(),
        title = esc(&tooltip(p, base)),
        name = esc(&p.name),
    );
    let x_start = x(p.start_ms);
    if let Some(b) = p.budget_ms {
        let xb = x(p.start_ms + b);
        let _ = write!(
            s,
            r#"<rect class="budget" x="{x_start:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="2"/><line class="budget-end" x1="{xb:.1}" y1="{:.1}" x2="{xb:.1}" y2="{:.1}"/>"#,
            bar_y - 2.0,
            (xb - x_start).max(1.0),
            BAR_H + 4.0,
            bar_y - 4.0,
            bar_y + BAR_H + 4.0,
        );
    }
    let end = p.end_ms.unwrap_or(p.start_ms);
    let x_end = x(end).max(x_start + 2.0);
    let over_from = p.budget_ms.map(|b| p.start_ms + b).filter(|b| end > *b);
    let class = match p.status {
        Status::Error => "bar error",
        Status::Failed if over_from.is_none() => "bar failed",
        _ => "bar",
    };
    match over_from {
        Some(b) => {
            let xb = x(b);
            let _ = write!(
                s,
                r#"<rect class="{class}" x="{x_start:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_H}" rx="2"/><rect class="bar over" x="{xb:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_H}" rx="2"/>"#,
                (xb - x_start).max(1.0),
                (x_end - xb).max(2.0),
            );
        }
        None => {
            let _ = write!(
                s,
                r#"<rect class="{class}" x="{x_start:.1}" y="{bar_y:.1}" width="{:.1}" height="{BAR_H}" rx="2"/>"#,
                x_end - x_start
            );
        }
    }
    if p.end_ms.is_none() {
        // Never ended: a hatched stub after its start says "cut off here".
        let _ = write!(
            s,
            r#"<rect class="unfinished" x="{x_end:.1}" y="{bar_y:.1}" width="24" height="{BAR_H}" fill="url(#hatch)"/>"#
        );
    }
    for op in &p.operations {
        let xo = x(op.at_ms);
        let yo = bar_y + BAR_H / 2.0;
        let _ = write!(
            s,
            r#"<path class="op" d="M{xo:.1} {:.1} l4 4 l-4 4 l-4 -4 z"><title>{}</title></path>"#,
            yo - 4.0,
            esc(&format!("{}: {}", human::duration(op.at_ms), op.what))
        );
    }
    let label_x = [
        Some(x_end + if p.end_ms.is_none() { 24.0 } else { 0.0 }),
        p.budget_ms.map(|b| x(p.start_ms + b)),
    ]
    .into_iter()
    .flatten()
    .fold(0.0, f64::max)
        + 6.0;
    let (label, class) = duration_label(p);
    let _ = write!(
        s,
        r#"<text class="{class}" x="{label_x:.1}" y="{mid:.1}">{}</text></g>"#,
        esc(&label)
    );
}

/// `1m34s / 3m`, `3m40s > budget 3m`, `22.5s`, `running (aborted)`.
fn duration_label(p: &PhaseReport) -> (String, &'static str) {
    match (p.duration_ms(), p.budget_ms) {
        (None, _) if p.status == Status::Aborted => ("aborted".into(), "dur bad"),
        (None, _) => (format!("did not end ({})", p.status.name()), "dur bad"),
        (Some(d), Some(b)) if d > b => (
            format!("{} > budget {}", human::duration(d), human::duration(b)),
            "dur bad",
        ),
        (Some(d), Some(b)) => (
            format!("{} / {}", human::duration(d), human::duration(b)),
            "dur",
        ),
        (Some(d), None) if p.status == Status::Error => {
            (format!("error after {}", human::duration(d)), "dur bad")
        }
        (Some(d), None) => (human::duration(d), "dur plain"),
    }
}

fn tooltip(p: &PhaseReport, base: TimeBase) -> String {
    let mut t = format!(
        "{} ({}): {} → {}",
        p.name,
        p.group.name(),
        human::duration(p.start_ms),
        p.end_ms.map_or("—".to_owned(), human::duration)
    );
    if let Some(d) = p.duration_ms() {
        let _ = write!(
            t,
            ", took {} {}",
            human::duration(d),
            human::time_base(base)
        );
    }
    if let Some(b) = p.budget_ms {
        let _ = write!(t, ", budget {}", human::duration(b));
        if let Some(d) = p.duration_ms() {
            let _ = write!(t, ", margin {}", human::margin(b as i64 - d as i64));
        }
    }
    let _ = write!(
        t,
        "; {} wall; {}",
        human::duration(p.wall_ms),
        p.status.name()
    );
    if let Some(m) = &p.message {
        let _ = write!(t, ": {m}");
    }
    t
}

fn bracket(s: &mut String, x: &impl Fn(u64) -> f64, start: u64, end: u64, over: bool) {
    let (xs, xe) = (x(start), x(end));
    let _ = write!(
        s,
        r#"<g class="recovery-window{}"><path class="bracket" d="M{xs:.1} 30 v-6 H{xe:.1} v6"/><text class="bracket-label" x="{:.1}" y="18">{}</text></g>"#,
        if over { " over" } else { "" },
        (xs + xe) / 2.0,
        esc(&format!("recovery {}", human::duration(end - start))),
    );
}

fn deadline_line(s: &mut String, xd: f64, budget: u64, axis_y: f64) {
    let _ = write!(
        s,
        r#"<g class="deadline"><line x1="{xd:.1}" y1="{TOP_BRACKET}" x2="{xd:.1}" y2="{axis_y:.1}"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
        xd + 4.0,
        TOP_BRACKET + 10.0,
        esc(&format!("RTO {}", human::duration(budget)))
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    #[test]
    fn axis_steps_keep_ticks_few() {
        assert_eq!(step(5_000), 1_000);
        assert_eq!(step(300_000), 60_000);
        assert_eq!(step(620_000), 120_000);
    }

    #[test]
    fn over_budget_phase_is_red_and_labelled() {
        let report = testing::run_report();
        let s = &report.scenarios[1];
        let ctx = Context {
            scenario: &s.name,
            total_budget_ms: s.objective.total_ms,
            time_base: s.time_base,
        };
        let svg = render(ctx, &s.repeats[0]);
        assert_eq!(svg.matches(r#"class="bar over""#).count(), 1, "{svg}");
        assert!(svg.contains("3m40s &gt; budget 3m"), "{svg}");
        assert!(svg.contains("RTO 8m"));
        assert!(svg.contains("Simulated time"));
    }
}
