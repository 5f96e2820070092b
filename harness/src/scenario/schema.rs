//! The JSON Schema of the scenario file format, for editors and linters.

use super::file::ScenarioFile;

/// Name of the committed schema next to the scenario catalogue
/// (`scenarios/scenario.schema.json`), which scenario files reference.
pub const SCHEMA_FILE: &str = "scenario.schema.json";

/// The JSON Schema (draft 2020-12) of `gameday/v1alpha1` scenario files,
/// pretty-printed with a trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    let mut text =
        serde_json::to_string_pretty(&schema).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
