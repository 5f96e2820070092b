//! `gameday lint`: static recoverability findings for a repository, as
//! text, JSON or SARIF; exit 1 when any is an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gameday::init::layout;
use gameday::init::origin::{Checkout, Origin};
use gameday::lint::{self, Finding, Restored, Severity};
use gameday::scenario::model::SourceLocation;
use gameday::{exit, scenario};

/// Output formats of `gameday lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `file:line: severity[rule] …` with the fix below, for people.
    Text,
    /// The findings as a JSON document.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF readers.
    Sarif,
}

/// Arguments of `gameday lint`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository: a folder, a Git URL (cloned to a temporary folder),
    /// or an OCI artifact (`oci://<registry>/<repository>[:<tag>]`, pulled
    /// to one).
    #[arg(long, value_name = "DIR|URL", default_value = ".")]
    source: String,
    /// Read `URL` (and everything under it) from the folder `PATH`, as a
    /// scenario's `spec.mirrors` does (an `oci://` --source is pulled
    /// through it). Repeatable.
    #[arg(long, value_name = "URL=PATH", value_parser = gameday::gitops::mirror::Mirror::parse_flag)]
    mirror: Vec<gameday::gitops::mirror::Mirror>,
    /// The path Flux syncs. Default: recognised from the layout
    /// (`clusters/<name>` of a Flux repository, an overlay, or the root).
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Scenario files or folders whose `bootstrap.secrets` restore
    /// decryption keys for this source. Default: `scenarios/` when it exists.
    #[arg(long, value_name = "PATH")]
    scenarios: Vec<PathBuf>,
}

pub fn run(args: &Args) -> u8 {
    let origin = match Origin::parse(&args.source) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let mirrors = gameday::gitops::mirror::Mirrors::new(args.mirror.clone());
    let checkout = match runtime.block_on(Checkout::open(&origin, &mirrors)) {
        Ok(c) => c,
        Err(e) => return super::fail(&e, exit::INFRASTRUCTURE),
    };
    let path = args
        .path
        .clone()
        .unwrap_or_else(|| layout::detect(checkout.root()).path);
    if !checkout.root().join(&path).is_dir() {
        eprintln!(
            "error: --path {path}: no such folder in {}; give the path Flux syncs (e.g. clusters/staging)",
            args.source
        );
        return exit::INVALID_INPUT;
    }
    let restored = restored_keys(&args.scenarios, &origin);
    let input = lint::Input {
        root: checkout.root(),
        path: &path,
        restored,
    };
    let report = runtime.block_on(lint::lint(&input, &Default::default()));
    let rendered = match args.format {
        Format::Text => text(&report, &args.source, &path),
        Format::Json => json(&report, &args.source, &path) + "\n",
        Format::Sarif => {
            serde_json::to_string_pretty(&lint::sarif::to_sarif(&report.findings))
                .unwrap_or_default()
                + "\n"
        }
    };
    // A reader that stops early (`| head`) is not an error of the lint's.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), rendered.as_bytes());
    if report.count(Severity::Error) > 0 {
        exit::OBJECTIVE_MISSED
    } else {
        exit::SUCCESS
    }
}

/// The Secrets the scenarios of this source restore (`bootstrap.secrets`).
fn restored_keys(paths: &[PathBuf], origin: &Origin) -> BTreeSet<Restored> {
    let paths = if paths.is_empty() {
        let default = PathBuf::from("scenarios");
        if !default.is_dir() {
            return BTreeSet::new();
        }
        vec![default]
    } else {
        paths.to_vec()
    };
    let files = match scenario::discover(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("warning: scenarios not read: {e}");
            return BTreeSet::new();
        }
    };
    let same = |loc: &SourceLocation| match (loc, origin) {
        (SourceLocation::Fixture(d), Origin::Dir(o)) => canonical(d) == canonical(o),
        (SourceLocation::Url(u), Origin::Url(o)) => u == o,
        (SourceLocation::Oci { url, .. }, Origin::Oci { url: o, .. }) => url == o,
        _ => false,
    };
    files
        .iter()
        .filter_map(|f| scenario::load(f).ok())
        .flatten()
        .filter(|s| same(&s.source.location))
        .flat_map(|s| s.bootstrap.secrets)
        .map(|k| Restored {
            namespace: k.namespace,
            name: k.name,
        })
        .collect()
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

fn line(f: &Finding) -> String {
    format!(
        "{}:{}: {}[{}] {}\n    fix: {}\n",
        f.file.display(),
        f.line,
        f.severity.as_str(),
        f.rule.id(),
        f.message,
        f.fix
    )
}

/// Findings for people, then a count.
pub fn text(report: &lint::Report, source: &str, path: &str) -> String {
    let mut out: String = report.findings.iter().map(line).collect();
    for u in &report.unrendered {
        out.push_str(&format!("not checked (does not render): {u}\n"));
    }
    out.push_str(&format!(
        "{} error(s), {} warning(s) in {source} (path {path})\n",
        report.count(Severity::Error),
        report.count(Severity::Warning)
    ));
    out
}

/// The error findings only, one line each (what `gameday run` shows
/// before a drill).
/// The first `limit` errors, one line each, then how many more there are
/// (a repository of 2,000 plain Secrets gives 2,000 errors; `gameday lint`
/// lists them all).
pub fn errors(report: &lint::Report, limit: usize) -> String {
    let all: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let mut out: String = all
        .iter()
        .take(limit)
        .map(|f| {
            format!(
                "lint: {}:{}: error[{}] {}\n",
                f.file.display(),
                f.line,
                f.rule.id(),
                f.message
            )
        })
        .collect();
    if all.len() > limit {
        out.push_str(&format!(
            "lint: … and {} more errors (`gameday lint` lists them all)\n",
            all.len() - limit
        ));
    }
    out
}

fn json(report: &lint::Report, source: &str, path: &str) -> String {
    let doc = serde_json::json!({
        "source": source,
        "path": path,
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
        "findings": report.findings,
        "unrendered": report.unrendered,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
