//! A drill as a scenario file a person reads: the `$schema` comment, why
//! the drill exists, where its budgets come from, and YAML that
//! validates. The sections are serialized from the file format's own
//! types, so what is written is what `gameday validate` reads.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use super::plan::{Budget, Drill};
use crate::lint::Restored;
use crate::scenario::duration::HumanDuration;
use crate::scenario::file::{
    CheckSpec, FaultSpec, RecoverySpec, RtoSpec, Selection, SourceSpec, WorkloadsCheck,
};
use crate::scenario::schema::SCHEMA_FILE;

/// The seed of the simulated latencies in written scenarios: a fixed one,
/// so a measured budget and later runs see the same simulated cluster.
pub const SEED: u64 = 7;

/// What every scenario of a catalogue shares.
#[derive(Debug, Clone)]
pub struct Common {
    /// The source, as the scenario files name it.
    pub source: SourceSpec,
    /// `spec.mirrors` (paths relative to the scenario files).
    pub mirrors: Vec<crate::scenario::file::MirrorSpec>,
    /// One line on the repository (`../podinfo, a Flux repository …`).
    pub origin: String,
    /// The steady state checks.
    pub checks: Vec<CheckSpec>,
    /// Decryption keys a rebuild needs (commented: their files are the
    /// user's to name).
    pub keys: BTreeSet<Restored>,
    /// The `$schema` reference (a path relative to the file).
    pub schema: String,
}

impl Common {
    /// The steady state of a source bootstrapped with Flux: every
    /// Kustomization Ready (the sync's included: a plain folder has only
    /// that one, and its inventory is what Flux applied) and the
    /// workloads of `namespaces` ready.
    pub fn checks(namespaces: &[String]) -> Vec<CheckSpec> {
        let mut checks = vec![CheckSpec::Kustomizations(Selection::All)];
        checks.push(CheckSpec::Workloads(WorkloadsCheck {
            namespaces: (!namespaces.is_empty()).then(|| namespaces.to_vec()),
        }));
        checks
    }

    /// The `$schema` of a file in `out` when the schema is written there.
    pub fn local_schema() -> String {
        SCHEMA_FILE.to_owned()
    }
}

/// `value` as YAML, every line indented by `indent` spaces.
fn yaml<T: serde::Serialize>(value: &T, indent: usize) -> String {
    let text = serde_yaml::to_string(value).unwrap_or_default();
    let pad = " ".repeat(indent);
    text.lines()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

fn comment(out: &mut String, indent: usize, lines: &[String]) {
    let pad = " ".repeat(indent);
    for l in lines {
        let _ = writeln!(out, "{pad}# {l}");
    }
}

/// The RTO section of a budget.
fn rto(b: &Budget) -> RtoSpec {
    RtoSpec {
        total: HumanDuration(b.total),
        phases: b
            .phases
            .iter()
            .map(|(k, v)| (k.clone(), HumanDuration(*v)))
            .collect(),
        quantile: None,
    }
}

/// The scenario file of `drill`.
pub fn scenario(common: &Common, drill: &Drill) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema={}", common.schema);
    let _ = writeln!(out, "# Written by `gameday init` for {}.", common.origin);
    out.push_str("#\n# Why this drill:\n");
    comment(
        &mut out,
        0,
        &drill
            .why
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>(),
    );
    out.push_str("apiVersion: gameday/v1alpha1\nkind: Scenario\nmetadata:\n");
    out.push_str(&yaml(
        &serde_json::json!({"name": drill.name, "description": drill.description}),
        2,
    ));
    out.push_str("spec:\n  cluster:\n");
    comment(
        &mut out,
        4,
        &[
            "The embedded simulator: no Docker needed; its times are simulated.".to_owned(),
            "`gameday run --provider kind` runs the same drill on a real kind cluster.".to_owned(),
        ],
    );
    let _ = writeln!(
        out,
        "    provider: sim\n    sim: {{ profile: kind, nodes: 3, seed: {SEED} }}"
    );
    out.push_str("  source:\n");
    out.push_str(&yaml(&common.source, 4));
    if !common.mirrors.is_empty() {
        out.push_str("  mirrors:\n");
        out.push_str(&yaml(&common.mirrors, 4));
    }
    if !common.keys.is_empty() {
        comment(
            &mut out,
            2,
            &[
                "The source decrypts SOPS Secrets: a rebuilt cluster needs their keys, which Git"
                    .to_owned(),
                "must not hold. Uncomment and name each key's file (see `gameday lint`):"
                    .to_owned(),
                "bootstrap:".to_owned(),
                "  secrets:".to_owned(),
            ],
        );
        for k in &common.keys {
            let _ = writeln!(
                out,
                "  #     - {{ namespace: {}, name: {}, fromFile: <the private key file> }}",
                k.namespace, k.name
            );
        }
    }
    out.push_str("  steadyState:\n");
    comment(
        &mut out,
        4,
        &["Healthy means this, before the disaster and after the recovery.".to_owned()],
    );
    let checks: Vec<serde_yaml::Value> = common
        .checks
        .iter()
        .map(|c| {
            serde_yaml::with::singleton_map_recursive::serialize(c, serde_yaml::value::Serializer)
                .unwrap_or_default()
        })
        .collect();
    out.push_str("    checks:\n");
    out.push_str(&yaml(&checks, 6));
    out.push_str("  disaster:\n");
    out.push_str(&yaml(&vec![&drill.fault], 4));
    out.push_str("  recovery:\n");
    out.push_str(&yaml(
        &RecoverySpec {
            method: drill.method,
            trigger: None,
            timeout: None,
            instructions: None,
        },
        4,
    ));
    out.push_str("  rto:\n");
    comment(&mut out, 4, std::slice::from_ref(&drill.rto.note));
    out.push_str(&yaml(&rto(&drill.rto), 4));
    out
}

/// The file name of a drill.
pub fn file_name(drill: &Drill) -> String {
    format!("{}.yaml", drill.name)
}

/// Whether the fault edits the repository (a bad commit needs a source
/// the drill can commit to).
pub fn commits(fault: &FaultSpec) -> bool {
    matches!(fault, FaultSpec::BadCommit { .. })
}

/// `to` relative to the folder `from` (both absolute), with `/`.
pub fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component<'_>> = from.components().collect();
    let to_c: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    // Nothing shared but the root: the absolute path reads better.
    if common <= 1 {
        return to.to_string_lossy().into_owned();
    }
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to_c[common..] {
        rel.push(c);
    }
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".to_owned() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/a/b/scenarios"), Path::new("/a/b")),
            ".."
        );
        assert_eq!(
            relative(Path::new("/a/b/scenarios"), Path::new("/a/c/repo")),
            "../../c/repo"
        );
        assert_eq!(relative(Path::new("/a"), Path::new("/a")), ".");
        assert_eq!(
            relative(Path::new("/tmp/x"), Path::new("/work/repo")),
            "/work/repo"
        );
    }
}
