//! Where gameday finds the external programs it drives that a machine may
//! lack (`sops`, `helm`, `gpg`…), in this order:
//!
//! 1. `GAMEDAY_<NAME>` (the name upper-cased, `-` as `_`: `GAMEDAY_SOPS`):
//!    a path to the binary. When set it must be an executable file — a
//!    wrong override is an error, not a silent fall-through to `PATH`;
//! 2. `PATH` (the [`Tools`] overlay's, else this process's);
//! 3. `.tools/bin/` at the root of the gameday checkout, where `make tools`
//!    installs them. The root is the parent of the crate's folder
//!    (`CARGO_MANIFEST_DIR`, fixed at build time: what `cargo run`, the
//!    tests and the benches use) when that folder still exists, and every
//!    ancestor of the running executable that has a `.tools/bin/` (a
//!    `target/release/gameday` moved or copied together with its checkout).
//!
//! A program found nowhere is [`LookupError::NotFound`], which names the
//! program, where it was looked for, and `make tools`.

use std::path::{Path, PathBuf};

use super::Tools;

/// Errors of [`Lookup::find`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The program is not installed anywhere gameday looks.
    #[error(
        "`{program}` not found: {var} is unset, it is not on PATH, and not in {searched}; run `make tools` to install it into .tools/bin/, or set {var} to the path of a `{program}` binary (`gameday doctor` lists every tool the drills need)"
    )]
    NotFound {
        /// The program.
        program: String,
        /// Its override variable (`GAMEDAY_SOPS`).
        var: String,
        /// The `.tools/bin/` folders looked in, joined by ", ".
        searched: String,
    },
    /// `GAMEDAY_<NAME>` names something that is not an executable file.
    #[error(
        "{var}={path} is not an executable file; point {var} at a `{program}` binary, or unset it to use PATH and `make tools`"
    )]
    BadOverride {
        /// The program.
        program: String,
        /// The variable.
        var: String,
        /// Its value.
        path: String,
    },
}

/// How programs are looked up: the environment (overlay) and the
/// `.tools/bin/` folders. [`Lookup::default`] uses this process's
/// environment and the checkout's `.tools/bin/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    env: Tools,
    tool_dirs: Vec<PathBuf>,
}

impl Default for Lookup {
    fn default() -> Self {
        Lookup {
            env: Tools::default(),
            tool_dirs: Lookup::default_tool_dirs(),
        }
    }
}

impl Lookup {
    /// A lookup with the environment overlay `env` and the `.tools/bin/`
    /// folders `tool_dirs` (searched in order, after `PATH`).
    pub fn new(env: Tools, tool_dirs: Vec<PathBuf>) -> Lookup {
        Lookup { env, tool_dirs }
    }

    /// The environment overlay commands of found programs should run with.
    pub fn env(&self) -> &Tools {
        &self.env
    }

    /// The override variable of `program`: `GAMEDAY_SOPS` for `sops`.
    pub fn var_name(program: &str) -> String {
        format!("GAMEDAY_{}", program.to_ascii_uppercase().replace('-', "_"))
    }

    /// The path of `program` (see the module docs for the order).
    ///
    /// # Errors
    /// [`LookupError::BadOverride`] when `GAMEDAY_<NAME>` is set but not an
    /// executable file; [`LookupError::NotFound`] when it is nowhere.
    pub fn find(&self, program: &str) -> Result<PathBuf, LookupError> {
        let var = Lookup::var_name(program);
        if let Some(path) = self.env.var(&var).filter(|p| !p.is_empty()) {
            let p = PathBuf::from(&path);
            return if is_executable(&p) {
                Ok(p)
            } else {
                Err(LookupError::BadOverride {
                    program: program.to_owned(),
                    var,
                    path,
                })
            };
        }
        let on_path = self
            .env
            .var("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default();
        let found = on_path
            .iter()
            .chain(&self.tool_dirs)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p));
        found.ok_or_else(|| LookupError::NotFound {
            program: program.to_owned(),
            var,
            searched: if self.tool_dirs.is_empty() {
                "any .tools/bin/ (no gameday checkout found)".to_owned()
            } else {
                self.tool_dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
    }
}

impl Lookup {
    /// The `.tools/bin/` folders of the checkout (see the module docs).
    pub fn default_tool_dirs() -> Vec<PathBuf> {
        checkout_tool_dirs()
    }
}

fn checkout_tool_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = crate_dir.parent().filter(|_| crate_dir.is_dir()) {
        dirs.push(root.join(".tools/bin"));
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            let bin = dir.join(".tools/bin");
            if bin.is_dir() && !dirs.contains(&bin) {
                dirs.push(bin);
            }
        }
    }
    dirs
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn override_then_path_then_tools_bin() {
        let tmp = tempfile::tempdir().unwrap();
        let (path_dir, tools_dir, other) = (
            tmp.path().join("path"),
            tmp.path().join("tools"),
            tmp.path().join("other"),
        );
        for d in [&path_dir, &tools_dir, &other] {
            std::fs::create_dir(d).unwrap();
        }
        let in_tools = tool(&tools_dir, "sops");
        let env = Tools::default()
            .env("PATH", &path_dir)
            .env("GAMEDAY_SOPS", "");
        let lookup = Lookup::new(env.clone(), vec![tools_dir.clone()]);
        assert_eq!(lookup.find("sops").unwrap(), in_tools);
        let on_path = tool(&path_dir, "sops");
        assert_eq!(lookup.find("sops").unwrap(), on_path);
        let pinned = tool(&other, "my-sops");
        let lookup = Lookup::new(env.env("GAMEDAY_SOPS", &pinned), vec![tools_dir]);
        assert_eq!(lookup.find("sops").unwrap(), pinned);
    }

    #[test]
    fn a_missing_tool_names_itself_and_make_tools() {
        let tmp = tempfile::tempdir().unwrap();
        let env = Tools::default()
            .env("PATH", tmp.path())
            .env("GAMEDAY_SOPS", "");
        let err = Lookup::new(env.clone(), vec![tmp.path().join(".tools/bin")])
            .find("sops")
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("`sops` not found: GAMEDAY_SOPS is unset"),
            "{msg}"
        );
        assert!(msg.contains("run `make tools`"), "{msg}");
        assert!(msg.contains(".tools/bin"), "{msg}");
        let err = Lookup::new(env.env("GAMEDAY_SOPS", tmp.path().join("nope")), vec![])
            .find("sops")
            .unwrap_err();
        assert!(
            matches!(err, LookupError::BadOverride { ref var, .. } if var == "GAMEDAY_SOPS"),
            "{err}"
        );
        assert_eq!(Lookup::var_name("kube-linter"), "GAMEDAY_KUBE_LINTER");
    }

    #[test]
    fn the_checkout_root_is_found() {
        let dirs = checkout_tool_dirs();
        let expected = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join(".tools/bin");
        assert_eq!(dirs.first(), Some(&expected));
    }
}
