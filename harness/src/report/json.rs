//! `report.json`: the report tree serialised as is (pretty, fields in
//! declaration order, phase budgets sorted by name), so its shape is the
//! tree's. The README's "Reports" section documents every field.

use super::tree::RunReport;
use super::{Error, Result};

/// The report as pretty-printed JSON, ending with a newline.
///
/// # Errors
/// [`Error::Json`]; not expected for a tree built by the runner.
pub fn to_string(report: &RunReport) -> Result<String> {
    let mut text = serde_json::to_string_pretty(report).map_err(Error::Json)?;
    text.push('\n');
    Ok(text)
}

/// Reads a `report.json` back (e.g. to compare runs).
///
/// # Errors
/// [`Error::Json`] when the text is not a report of this format version.
pub fn from_str(text: &str) -> Result<RunReport> {
    serde_json::from_str(text).map_err(Error::Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    #[test]
    fn round_trips() {
        for report in [
            testing::run_report(),
            testing::aborted_run_report(),
            testing::passing_run_report(),
        ] {
            let text = to_string(&report).unwrap();
            assert_eq!(from_str(&text).unwrap(), report);
        }
    }

    #[test]
    fn field_order_is_stable() {
        let text = to_string(&testing::run_report()).unwrap();
        let pos = |k: &str| text.find(&format!("\"{k}\"")).unwrap_or(usize::MAX);
        let order = [
            "format",
            "run_id",
            "gameday_version",
            "started_at",
            "wall_ms",
            "status",
            "scenarios",
        ];
        assert!(order.windows(2).all(|w| pos(w[0]) < pos(w[1])), "{text}");
        assert!(text.ends_with("}\n"));
    }
}
