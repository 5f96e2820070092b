//! The findings as SARIF 2.1.0 (OASIS Static Analysis Results
//! Interchange Format), the format GitHub code scanning uploads
//! (`github/codeql-action/upload-sarif`). The types are `serde-sarif`'s,
//! generated from the OASIS schema.

use serde_sarif::sarif;

use super::{Finding, Rule, Severity};

/// The SARIF document (one run of the tool `gameday`) for `findings`;
/// every rule is listed, the results point at `file:line` relative to
/// the repository root (`%SRCROOT%`).
pub fn to_sarif(findings: &[Finding]) -> sarif::Sarif {
    let rules: Vec<sarif::ReportingDescriptor> = Rule::ALL
        .iter()
        .map(|r| {
            sarif::ReportingDescriptor::builder()
                .id(r.id())
                .name(r.id())
                .short_description(&r.summary().to_owned())
                .help_uri("https://github.com/gameday/gameday/blob/main/README.md#gameday-lint")
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = findings
        .iter()
        .map(|f| {
            let index = Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or(0);
            let location = sarif::Location::builder()
                .physical_location(
                    sarif::PhysicalLocation::builder()
                        .artifact_location(
                            sarif::ArtifactLocation::builder()
                                .uri(uri(&f.file))
                                .uri_base_id("%SRCROOT%")
                                .build(),
                        )
                        .region(sarif::Region::builder().start_line(line(f.line)).build())
                        .build(),
                )
                .build();
            sarif::Result::builder()
                .rule_id(f.rule.id())
                .rule_index(i64::try_from(index).unwrap_or(0))
                .level(match f.severity {
                    Severity::Error => sarif::ResultLevel::Error,
                    Severity::Warning => sarif::ResultLevel::Warning,
                })
                .message(&format!("{} Fix: {}.", sentence(&f.message), f.fix))
                .locations(vec![location])
                .build()
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("gameday")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/gameday/gameday")
        .rules(rules)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(sarif::Version::V2_1_0.to_string())
        .runs(vec![run])
        .build()
}

/// A relative path as a URI reference (forward slashes).
fn uri(file: &std::path::Path) -> String {
    file.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn line(l: usize) -> i64 {
    i64::try_from(l.max(1)).unwrap_or(i64::MAX)
}

fn sentence(s: &str) -> String {
    if s.ends_with(['.', '?', '!']) {
        s.to_owned()
    } else {
        format!("{s}.")
    }
}
