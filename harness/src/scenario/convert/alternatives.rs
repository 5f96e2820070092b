//! `spec.disasters`: one file, several drills. Each alternative becomes a
//! scenario of its own — the file with `disaster` (and, when it sets them,
//! `recovery` and `rto`) replaced by the alternative's, named
//! `<metadata.name>-<name>` — and is converted like any other file. Its
//! diagnostics point at the alternative's fields; the shared sections'
//! diagnostics are reported once.

use std::collections::BTreeSet;
use std::path::Path;

use super::{convert, is_dns_label};
use crate::scenario::diagnostic::{Diagnostic, Location};
use crate::scenario::file::{Alternative, ScenarioFile};
use crate::scenario::model::Scenario;

/// Every drill `f` declares: itself, or one per alternative.
pub(crate) fn convert_all(
    f: &ScenarioFile,
    file: &Path,
    base_dir: &Path,
) -> Result<Vec<Scenario>, Vec<Diagnostic>> {
    if f.spec.disasters.is_empty() {
        return convert(f, file, base_dir).map(|s| vec![s]);
    }
    let mut errors = Vec::new();
    if !f.spec.disaster.is_empty() {
        errors.push(
            Diagnostic::field(
                "spec.disasters",
                "is set together with spec.disaster: a drill's faults come from one or the other",
            )
            .help("move spec.disaster's faults into one more entry of spec.disasters, or remove spec.disasters"),
        );
    }
    let mut names = BTreeSet::new();
    let mut drills = Vec::new();
    for (i, alt) in f.spec.disasters.iter().enumerate() {
        let at = format!("spec.disasters[{i}]");
        if !is_dns_label(&alt.name) {
            errors.push(
                Diagnostic::field(
                    format!("{at}.name"),
                    format!(
                        "{:?} is not a DNS-1123 label (lower-case letters, digits and '-')",
                        alt.name
                    ),
                )
                .help("it is appended to metadata.name, e.g. `cluster-loss`"),
            );
            continue;
        }
        if !names.insert(alt.name.as_str()) {
            errors.push(
                Diagnostic::field(
                    format!("{at}.name"),
                    format!("{:?} is the name of an earlier alternative", alt.name),
                )
                .help("give each alternative its own name: it names the drill in reports"),
            );
            continue;
        }
        match convert(&drill_file(f, alt), file, base_dir) {
            Ok(s) => drills.push(s),
            Err(ds) => errors.extend(ds.into_iter().map(|d| relocate(d, &at, alt))),
        }
    }
    if errors.is_empty() {
        return Ok(drills);
    }
    // The shared sections give the same diagnostics once per alternative.
    let mut unique: Vec<Diagnostic> = Vec::new();
    for d in errors {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    Err(unique)
}

/// The file of one alternative's drill.
fn drill_file(f: &ScenarioFile, alt: &Alternative) -> ScenarioFile {
    let mut one = f.clone();
    one.metadata.name = format!("{}-{}", f.metadata.name, alt.name);
    one.spec.disaster.clone_from(&alt.disaster);
    one.spec.disasters = Vec::new();
    if let Some(r) = &alt.recovery {
        one.spec.recovery = r.clone();
    }
    if let Some(r) = &alt.rto {
        one.spec.rto = r.clone();
    }
    one
}

/// Points a diagnostic of an alternative's drill at the field the user
/// wrote: `spec.disaster…` is `spec.disasters[i].disaster…`, and so are the
/// alternative's own `recovery` and `rto`; the combined name is the
/// alternative's `name`.
fn relocate(mut d: Diagnostic, at: &str, alt: &Alternative) -> Diagnostic {
    let moved = |path: &str| -> Option<String> {
        let own = |section: &str| {
            path == section
                || path.starts_with(&format!("{section}."))
                || path.starts_with(&format!("{section}["))
        };
        let rest = |section: &str| path[section.len()..].to_owned();
        if own("spec.disaster") {
            Some(format!("{at}.disaster{}", rest("spec.disaster")))
        } else if alt.recovery.is_some() && own("spec.recovery") {
            Some(format!("{at}.recovery{}", rest("spec.recovery")))
        } else if alt.rto.is_some() && own("spec.rto") {
            Some(format!("{at}.rto{}", rest("spec.rto")))
        } else if path == "metadata.name" {
            Some(format!("{at}.name"))
        } else {
            None
        }
    };
    match &mut d.location {
        Location::Field(path) | Location::Position { path, .. } => {
            if let Some(p) = moved(path) {
                *path = p;
            }
        }
        Location::File => {}
    }
    d
}
