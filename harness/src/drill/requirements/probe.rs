//! Whether a [`Tool`] is installed: where, which version (its own
//! `--version` output), and for the container engine whether it answers.
//!
//! Programs are found where the drills find them: `sops`, `gpg` and `helm`
//! through [`Lookup`] (`GAMEDAY_<NAME>`, `PATH`, `.tools/bin/`), the
//! others on `PATH` (of the [`Tools`] overlay, else this process's).

use std::path::PathBuf;
use std::time::Duration;

use super::Tool;
use crate::cluster::providers::kind::engine::{self, Engine};
use crate::process::{Lookup, Tools};

/// How long a `--version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(15);

/// What was found of a tool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Installed (and, for the container engine, answering).
    Ok,
    /// Not installed anywhere gameday looks.
    Missing,
    /// Installed but not usable (an engine that does not answer, a
    /// `GAMEDAY_<NAME>` override that is not an executable).
    Unusable,
}

/// The result of checking one tool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Probe {
    /// The tool.
    pub tool: Tool,
    /// What was found.
    pub status: Status,
    /// The program found (`podman` for the container engine).
    pub program: Option<String>,
    /// Its path.
    pub path: Option<PathBuf>,
    /// The version it reports (`2.47.3`, `v1.32.4`), when it says one.
    pub version: Option<String>,
    /// Why it is missing or unusable, on one line.
    pub detail: Option<String>,
}

impl Probe {
    fn missing(tool: Tool, detail: String) -> Probe {
        Probe {
            tool,
            status: Status::Missing,
            program: None,
            path: None,
            version: None,
            detail: Some(detail),
        }
    }
}

/// Checks `tool`. The container engine is asked `info` only when
/// `engine_must_answer` (a kind drill needs it); otherwise it is found on
/// `PATH` like the others.
pub async fn probe(tool: Tool, lookup: &Lookup, engine_must_answer: bool) -> Probe {
    match tool {
        Tool::ContainerEngine => container_engine(lookup.env(), engine_must_answer).await,
        Tool::Sops | Tool::Gpg | Tool::Helm => match lookup.find(tool.name()) {
            Ok(path) => found(tool, tool.name(), path, lookup.env()).await,
            Err(e @ crate::process::LookupError::BadOverride { .. }) => Probe {
                status: Status::Unusable,
                ..Probe::missing(tool, e.to_string())
            },
            Err(_) => Probe::missing(tool, not_found(tool.name(), true)),
        },
        _ => match on_path(tool.name(), lookup.env()) {
            Some(path) => found(tool, tool.name(), path, lookup.env()).await,
            None => Probe::missing(tool, not_found(tool.name(), false)),
        },
    }
}

/// Whether `tool` is installed where the drills look for it, without
/// running anything (the container engine: any engine kind would pick).
pub fn installed(tool: Tool, lookup: &Lookup) -> bool {
    match tool {
        Tool::ContainerEngine => match Engine::from_env(lookup.env()) {
            Ok(Some(engine)) => on_path(engine.program(), lookup.env()).is_some(),
            Ok(None) => engine::AUTO_DETECTED
                .iter()
                .any(|p| on_path(p, lookup.env()).is_some()),
            Err(_) => false,
        },
        Tool::Sops | Tool::Gpg | Tool::Helm => lookup.find(tool.name()).is_ok(),
        _ => on_path(tool.name(), lookup.env()).is_some(),
    }
}

fn not_found(program: &str, with_lookup: bool) -> String {
    if with_lookup {
        format!(
            "`{program}` is not on PATH nor in .tools/bin/, and {} is unset",
            Lookup::var_name(program)
        )
    } else {
        format!("`{program}` is not on PATH")
    }
}

async fn found(tool: Tool, program: &str, path: PathBuf, env: &Tools) -> Probe {
    let version = version_of(&path, version_args(tool), env).await;
    Probe {
        tool,
        status: Status::Ok,
        program: Some(program.to_owned()),
        path: Some(path),
        version,
        detail: None,
    }
}

/// The arguments that make `tool` print its version (without a network
/// call or a running daemon).
fn version_args(tool: Tool) -> &'static [&'static str] {
    match tool {
        Tool::Kubectl => &["version", "--client"],
        Tool::Kind => &["version"],
        Tool::ContainerEngine => &["version", "--format", "{{.Client.Version}}"],
        Tool::Flux => &["version", "--client"],
        Tool::Helm => &["version", "--short"],
        Tool::Terraform => &["version"],
        Tool::Sops => &["--disable-version-check", "--version"],
        Tool::Git | Tool::Curl | Tool::Gpg => &["--version"],
    }
}

async fn version_of(path: &PathBuf, args: &[&str], env: &Tools) -> Option<String> {
    let out = env
        .cmd(path)
        .args(args)
        .env("SOPS_DISABLE_VERSION_CHECK", "true")
        .env("CHECKPOINT_DISABLE", "1")
        .timeout(VERSION_TIMEOUT)
        .output_unchecked()
        .await
        .ok()?;
    parse_version(&out.stdout).or_else(|| parse_version(&out.stderr))
}

/// The first version-looking word of the output (`v1.32.4`, `2.47.3`,
/// `27.0.3` from `Docker version 27.0.3, build …`).
pub fn parse_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, ',' | ';' | '(' | ')' | '"')))
        .find(|w| {
            let digits = w.strip_prefix('v').unwrap_or(w);
            digits.starts_with(|c: char| c.is_ascii_digit()) && digits.contains('.')
        })
        .map(str::to_owned)
}

/// `program` on the overlay's `PATH` (else this process's).
pub fn on_path(program: &str, env: &Tools) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = env.var("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

async fn container_engine(env: &Tools, must_answer: bool) -> Probe {
    let tool = Tool::ContainerEngine;
    // kind's choice: KIND_EXPERIMENTAL_PROVIDER, else the first installed.
    let candidates = match Engine::from_env(env) {
        Ok(Some(engine)) => vec![engine.program().to_owned()],
        Ok(None) => engine::AUTO_DETECTED
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
        Err(e) => {
            return Probe {
                status: Status::Unusable,
                ..Probe::missing(tool, e.to_string())
            };
        }
    };
    let Some((program, path)) = candidates
        .iter()
        .find_map(|p| on_path(p, env).map(|path| (p.clone(), path)))
    else {
        return Probe::missing(
            tool,
            format!("none of {} is on PATH", candidates.join(", ")),
        );
    };
    let mut probe = found(tool, &program, path, env).await;
    if must_answer && let Err(e) = Engine::new(program.as_str(), env.clone()).info().await {
        probe.status = Status::Unusable;
        probe.detail = Some(format!(
            "`{program} info` failed (is the engine running?): {}",
            crate::error_chain::one_line(&e)
        ));
    }
    probe
}
