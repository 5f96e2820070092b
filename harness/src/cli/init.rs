//! `gameday init`: a first catalogue of drills for a repository, written
//! as commented scenario files; `--measure` runs each once on the
//! simulator and sets its RTO budgets from what was measured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gameday::drill::runner::{RunOptions, Runner};
use gameday::drill::timeline::Events;
use gameday::gitops::mirror::{Mirror, Mirrors};
use gameday::init::origin::{Checkout, Origin};
use gameday::init::plan::{self, Budget, Drill, Survey};
use gameday::init::{layout, write};
use gameday::lint::{self, Severity};
use gameday::report::tree::{PhaseGroup, RepeatReport, Status};
use gameday::scenario::duration::HumanDuration;
use gameday::scenario::file::SourceSpec;
use gameday::{exit, scenario};
use tokio_util::sync::CancellationToken;

/// Arguments of `gameday init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository: a folder (drilled as it is, uncommitted changes
    /// included), a Git URL, or an OCI artifact
    /// (`oci://<registry>/<repository>[:<tag>]`, tag `latest` by default).
    #[arg(long, value_name = "DIR|URL", default_value = ".")]
    source: String,
    /// Read `URL` (and everything under it) from the folder `PATH`, as a
    /// scenario's `spec.mirrors` does: an `oci://` --source is pulled
    /// through it, and every scenario written lists it. Repeatable.
    #[arg(long, value_name = "URL=PATH", value_parser = Mirror::parse_flag)]
    mirror: Vec<Mirror>,
    /// The path Flux syncs. Default: recognised from the layout.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Where the scenario files go (`gameday run` reads `scenarios/` by default).
    #[arg(long, value_name = "DIR", default_value = "scenarios")]
    out: PathBuf,
    /// Overwrite files that exist.
    #[arg(long)]
    force: bool,
    /// Run each drill once on the simulator and set its RTO budgets from
    /// the measurement (1.5×, rounded up).
    #[arg(long)]
    measure: bool,
}

/// Why an OCI artifact source cannot take a bad commit.
pub const NO_GIT_HISTORY: &str = "the source is an OCI artifact: there is no Git history to commit to (drill it from the Git repository the artifact is built from)";

/// Headroom over a measured time.
const HEADROOM: f64 = 1.5;

pub fn run(args: &Args) -> u8 {
    let origin = match Origin::parse(&args.source) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    runtime.block_on(init(args, &origin))
}

async fn init(args: &Args, origin: &Origin) -> u8 {
    let mirrors = Mirrors::new(args.mirror.clone());
    let checkout = match Checkout::open(origin, &mirrors).await {
        Ok(c) => c,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let detected = layout::detect(checkout.root());
    let path = args.path.clone().unwrap_or_else(|| detected.path.clone());
    if !checkout.root().join(&path).is_dir() {
        eprintln!("error: --path {path}: no such folder in {}", args.source);
        return exit::INVALID_INPUT;
    }
    let (tree, survey) = gameday::init::survey(checkout.root(), &path).await;
    if let Some(root_error) = tree.units.first().and_then(|u| u.error.as_ref()) {
        eprintln!(
            "error: {path} of {} does not render: {root_error}",
            args.source
        );
        return exit::INVALID_INPUT;
    }
    let out = std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone());
    let (mut drills, mut skipped) = plan::catalogue(&survey);
    if let Origin::Oci { .. } = origin {
        // No Git history to commit a bad change to.
        let (kept, refused): (Vec<Drill>, Vec<Drill>) =
            drills.into_iter().partition(|d| !write::commits(&d.fault));
        drills = kept;
        skipped.extend(refused.iter().map(|_| plan::PlanError::NotApplicable {
            fault: "bad-commit".to_owned(),
            why: NO_GIT_HISTORY.to_owned(),
        }));
    }
    let common = common(origin, &path, &detected, &out, &survey, &mirrors);
    let schema = out.join(scenario::schema::SCHEMA_FILE);
    let targets: Vec<PathBuf> = drills
        .iter()
        .map(|d| out.join(write::file_name(d)))
        .chain([schema.clone()])
        .collect();
    let existing: Vec<&PathBuf> = targets.iter().filter(|p| p.exists()).collect();
    if !args.force && !existing.is_empty() {
        for p in &existing {
            eprintln!("error: {} exists", p.display());
        }
        eprintln!(
            "error: gameday init never overwrites a file: pass --force, or another --out; nothing was written"
        );
        return exit::INVALID_INPUT;
    }
    eprintln!("{}: {detected}", args.source);
    if !detected.others.is_empty() && args.path.is_none() {
        eprintln!(
            "  other paths (choose with --path): {}",
            detected.others.join(", ")
        );
    }
    if args.measure {
        measure(&mut drills, &common, &out).await;
    }
    if let Err(e) = std::fs::create_dir_all(&out) {
        return super::fail(&e, exit::INVALID_INPUT);
    }
    let mut written = Vec::new();
    for d in &drills {
        let file = out.join(write::file_name(d));
        let text = write::scenario(&common, d);
        if let Err(d) = scenario::load_str(&text, &file) {
            // A bug of init's, not the user's: say so rather than write it.
            eprintln!(
                "internal error: the scenario written for {} does not validate:\n{d}",
                file.display()
            );
            return exit::INFRASTRUCTURE;
        }
        if let Err(e) = std::fs::write(&file, text) {
            return super::fail(&e, exit::INVALID_INPUT);
        }
        written.push((file, d));
    }
    if let Err(e) = std::fs::write(&schema, scenario::schema::json_schema()) {
        return super::fail(&e, exit::INVALID_INPUT);
    }
    for (file, d) in &written {
        println!(
            "wrote {}  ({} → {}, RTO {})",
            file.display(),
            fault_name(d),
            serde_yaml::to_string(&d.method).unwrap_or_default().trim(),
            HumanDuration(d.rto.total)
        );
    }
    println!("wrote {}", schema.display());
    for s in &skipped {
        println!("left out: {s}");
    }
    let findings = lint::lint_tree(
        &tree,
        &lint::Input {
            root: checkout.root(),
            path: &path,
            restored: Default::default(),
        },
    );
    let (e, w) = (
        findings.count(Severity::Error),
        findings.count(Severity::Warning),
    );
    if e + w > 0 {
        println!(
            "gameday lint finds {e} error(s) and {w} warning(s) in this source: `gameday lint --source {}` lists them",
            args.source
        );
    }
    println!("next: gameday run {}", args.out.display());
    exit::SUCCESS
}

fn fault_name(d: &Drill) -> String {
    serde_json::to_value(&d.fault)
        .ok()
        .and_then(|v| v.get("fault").and_then(|f| f.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// What the files share: the source (a folder relative to `out`), the
/// layout line, the checks, the keys.
pub fn common(
    origin: &Origin,
    path: &str,
    layout: &layout::Layout,
    out: &Path,
    survey: &Survey,
    mirrors: &Mirrors,
) -> write::Common {
    let (fixture, url, shown) = match origin {
        Origin::Dir(d) => {
            let rel = write::relative(out, d);
            (Some(rel.clone()), None, rel)
        }
        Origin::Url(u) => (None, Some(u.clone()), u.clone()),
        Origin::Oci { url, tag } => (None, None, format!("{url}:{tag}")),
    };
    let oci = match origin {
        Origin::Oci { url, tag } => Some(gameday::scenario::file::OciSourceSpec {
            url: url.clone(),
            tag: Some(tag.clone()),
            semver: None,
        }),
        _ => None,
    };
    let namespaces: Vec<String> = survey.namespaces.iter().map(|(n, _)| n.clone()).collect();
    write::Common {
        source: SourceSpec {
            fixture,
            url,
            branch: None,
            tag: None,
            commit: None,
            oci,
            path: Some(path.to_owned()),
        },
        mirrors: mirrors
            .iter()
            .map(|m| gameday::scenario::file::MirrorSpec {
                url: m.url.clone(),
                path: write::relative(out, &std::path::absolute(&m.path).unwrap_or(m.path.clone())),
            })
            .collect(),
        origin: format!("{shown}, {layout}; {} objects", survey.objects),
        checks: write::Common::checks(&namespaces),
        keys: survey.decryption_keys.clone(),
        schema: write::Common::local_schema(),
    }
}

/// Runs every drill once on the simulator (in turn) and replaces its
/// guessed budget with one from the measurement; a drill that does not
/// pass keeps its guess, with a note saying why.
async fn measure(drills: &mut [Drill], common: &write::Common, out: &Path) {
    for d in drills.iter_mut() {
        let file = out.join(write::file_name(d));
        let s = match scenario::load_one_str(&write::scenario(common, d), &file) {
            Ok(s) => s,
            Err(diag) => {
                eprintln!("{diag}");
                continue;
            }
        };
        eprintln!("measuring {} on the simulator…", d.name);
        let runner = Runner::new(RunOptions::new(), Events::none(), CancellationToken::new());
        let report = runner.run(vec![s]).await;
        let Some(r) = report.scenarios.first().and_then(|s| s.repeats.first()) else {
            continue;
        };
        d.rto = measured(r).unwrap_or_else(|why| Budget {
            note: format!("{} The measuring run did not pass: {why}", d.rto.note),
            ..d.rto.clone()
        });
        eprintln!("  {}: {}", d.name, d.rto.note);
    }
}

/// Budgets from a passed repeat (see [`budget`]).
///
/// # Errors
/// Why the repeat cannot give budgets (it did not pass).
fn measured(r: &RepeatReport) -> Result<Budget, String> {
    if r.status != Status::Passed {
        let why = r
            .error
            .clone()
            .or_else(|| r.verdict.failures.first().cloned())
            .or_else(|| r.reasons.first().cloned())
            .unwrap_or_default();
        return Err(format!("{} ({why}).", r.status.name()));
    }
    let total = Duration::from_millis(r.recovery_ms.unwrap_or_default());
    let mut phases = BTreeMap::new();
    let mut parts = Vec::new();
    for p in r.phases.iter().filter(|p| p.group == PhaseGroup::Recovery) {
        let took = Duration::from_millis(p.duration_ms().unwrap_or_default());
        parts.push(format!("{} {}", p.name, HumanDuration(round_ms(took))));
        phases.insert(p.name.clone(), budget(took));
    }
    Ok(Budget {
        total: budget(total),
        phases,
        note: format!(
            "Measured by `gameday init --measure` on the simulator (seed {}): recovery took {} ({}); budgets are {HEADROOM}× that, rounded up to 30s.",
            write::SEED,
            HumanDuration(round_ms(total)),
            parts.join(", ")
        ),
    })
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

/// A budget from a measured time: `HEADROOM` times it, rounded up to the
/// next 30 seconds (at least 30s).
pub fn budget(measured: Duration) -> Duration {
    let with = measured.as_secs_f64() * HEADROOM;
    let steps = (with / 30.0).ceil().max(1.0);
    // At most a few hours: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Duration::from_secs(steps as u64 * 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_have_headroom_and_round_up() {
        assert_eq!(budget(Duration::ZERO), Duration::from_secs(30));
        assert_eq!(budget(Duration::from_secs(20)), Duration::from_secs(30));
        assert_eq!(budget(Duration::from_secs(21)), Duration::from_secs(60));
        assert_eq!(budget(Duration::from_secs(100)), Duration::from_secs(150));
    }
}
