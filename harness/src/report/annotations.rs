//! GitHub Actions annotations: with `GITHUB_ACTIONS=true`, each scenario
//! that did not pass prints an `::error file=…,line=…,title=…::…` workflow
//! command, which GitHub shows on the scenario file in the pull request.
//!
//! The line points at what failed when the file says it: the budget that
//! was missed (`converge:` under `rto:`, or `total:`), `expect:` for lost
//! objects; otherwise the scenario's `name:`. Values are escaped as the
//! Actions toolkit does (`%`, CR, LF in the message; also `:` and `,` in
//! properties), so a message cannot end the command early.

use super::tree::{RunReport, ScenarioReport, Status};

/// One `::error` workflow command.
pub fn error(file: &str, line: u32, title: &str, message: &str) -> String {
    format!(
        "::error file={},line={line},title={}::{}",
        escape_property(file),
        escape_property(title),
        escape_data(message)
    )
}

/// Escapes a command's message (the toolkit's `escapeData`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value (the toolkit's `escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The annotations of a run: one per scenario that did not pass, reading
/// each scenario file (as the report names it, relative to the working
/// folder) to find the line. A file that cannot be read points at line 1.
pub fn for_run(report: &RunReport) -> Vec<String> {
    report
        .scenarios
        .iter()
        .filter(|s| s.status != Status::Passed)
        .map(|s| {
            let text = std::fs::read_to_string(&s.file).unwrap_or_default();
            for_scenario(s, &text)
        })
        .collect()
}

/// The annotation of one scenario, given its file's text.
pub fn for_scenario(s: &ScenarioReport, file_text: &str) -> String {
    let failed_budget = s.verdict.budgets.iter().find(|b| !b.passed);
    let lost = s.verdict.failures.iter().any(|f| f.starts_with("lost "));
    let line = match (s.status, failed_budget) {
        (Status::Failed, Some(b)) => budget_line(file_text, &b.phase),
        (Status::Failed, None) if lost => key_line(file_text, "expect", 0),
        _ => None,
    }
    .or_else(|| key_line(file_text, "name", 0))
    .unwrap_or(1);
    let message = match s.status {
        Status::Failed => s.verdict.failures.join("; "),
        _ => s
            .repeats
            .iter()
            .find_map(|r| r.error.clone())
            .unwrap_or_else(|| s.verdict.failures.join("; ")),
    };
    let title = format!("gameday: {} {}", s.name, s.status.name());
    error(&s.file, line, &title, &message)
}

/// The line of `phase:` (or `total:`) in the `rto:` section, 1-based.
fn budget_line(text: &str, phase: &str) -> Option<u32> {
    let rto = key_line(text, "rto", 0)?;
    key_line(text, phase, rto as usize)
}

/// The first line at or after `from` (0-based) holding `key:` as a key:
/// at the start of the line or after `{`, `,` or a space (flow mappings
/// such as `phases: { converge: 3m }` included), 1-based.
fn key_line(text: &str, key: &str, from: usize) -> Option<u32> {
    let needle = format!("{key}:");
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, line)| {
            let code = line.split(" #").next().unwrap_or(line);
            code.match_indices(&needle).any(|(i, _)| {
                code[..i]
                    .chars()
                    .last()
                    .is_none_or(|c| matches!(c, ' ' | '{' | ',' | '-'))
            })
        })
        .and_then(|(i, _)| u32::try_from(i + 1).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    const FILE: &str = "\
apiVersion: gameday/v1alpha1
kind: Scenario
metadata:
  name: cluster-loss-slow # the catalogue's converge: too slow
spec:
  disaster:
    - cluster-loss
  rto:
    total: 5m
    phases: { provision: 1m, bootstrap: 2m, converge: 3m }
  expect:
    lost: []
";

    #[test]
    fn the_format_is_githubs_workflow_command_with_escaping() {
        assert_eq!(
            error(
                "scenarios/a b.yaml",
                7,
                "gameday: x, y",
                "50% slower\nsee: log"
            ),
            "::error file=scenarios/a b.yaml,line=7,title=gameday%3A x%2C y::50%25 slower%0Asee: log"
        );
    }

    #[test]
    fn a_missed_budget_points_at_its_line_and_other_failures_at_the_name() {
        let report = testing::run_report();
        let slow = &report.scenarios[1];
        assert_eq!(slow.name, "cluster-loss-slow");
        assert_eq!(
            for_scenario(slow, FILE),
            "::error file=scenarios/cluster-loss-slow.yaml,line=10,\
             title=gameday%3A cluster-loss-slow failed::converge 3m40s > budget 3m"
        );
        // Lost objects: the expect section.
        let drift = &report.scenarios[3];
        assert!(
            for_scenario(drift, FILE).contains(",line=11,"),
            "{}",
            for_scenario(drift, FILE)
        );
        // An error: the scenario's name, with the error as the message.
        let error = &report.scenarios[4];
        let a = for_scenario(error, FILE);
        assert!(
            a.contains(",line=4,")
                && a.contains("title=gameday%3A controller-loss error::provider kind"),
            "{a}"
        );
        // No file to read: line 1.
        assert!(for_scenario(error, "").contains(",line=1,"));
    }

    #[test]
    fn only_scenarios_that_did_not_pass_are_annotated() {
        let report = testing::run_report();
        let lines = for_run(&report);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with("::error file=scenarios/"))
        );
        assert!(for_run(&testing::passing_run_report()).is_empty());
    }
}
