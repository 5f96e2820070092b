//! Records the commit gameday is built from, for `gameday --version` and
//! the reports: `GAMEDAY_COMMIT` (12 hex digits, `+dirty` when the
//! checkout had uncommitted changes to tracked files) and
//! `GAMEDAY_COMMIT_DATE` (`YYYY-MM-DD`, empty when unknown), and
//! `GAMEDAY_VERSION_LINE` (`0.1.0 (commit 0123456789ab, 2026-12-05)`).
//!
//! In order: the `GAMEDAY_BUILD_COMMIT` variable (packagers building from a
//! tarball); `git` in a checkout of this repository; the
//! `.cargo_vcs_info.json` that `cargo package` writes (a crate built from
//! crates.io); else `unknown`. Never fails the build.
//!
//! Also compiles Kubernetes' own `generated.proto` files
//! (`third_party/kubernetes-proto/`) into a descriptor set,
//! `$OUT_DIR/kubernetes.binpb`, from which the simulator decodes protobuf
//! request bodies of every built-in kind. protox is a protobuf compiler in
//! Rust: no `protoc` on the machine. A proto file that does not compile
//! fails the build, naming the file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=GAMEDAY_BUILD_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let (commit, date) = from_env()
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir))
        .unwrap_or_else(|| ("unknown".to_owned(), String::new()));
    println!("cargo::rustc-env=GAMEDAY_COMMIT={commit}");
    println!("cargo::rustc-env=GAMEDAY_COMMIT_DATE={date}");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let line = if date.is_empty() {
        format!("{version} (commit {commit})")
    } else {
        format!("{version} (commit {commit}, {date})")
    };
    println!("cargo::rustc-env=GAMEDAY_VERSION_LINE={line}");
    compile_kubernetes_protos(
        &dir.join("third_party")
            .join("kubernetes-proto")
            .join(PROTO_TREE),
    );
}

/// The folder under `third_party/kubernetes-proto/` the simulator's
/// descriptors come from: the Kubernetes version the simulator reports.
const PROTO_TREE: &str = "v1.33";

fn compile_kubernetes_protos(root: &Path) {
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    proto_files(root, root, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no .proto files under {}: the checkout is incomplete",
        root.display()
    );
    let set = protox::Compiler::new([root])
        .and_then(|mut c| {
            c.include_source_info(false);
            c.include_imports(true);
            for f in &files {
                c.open_file(f)?;
            }
            Ok(c.encode_file_descriptor_set())
        })
        .unwrap_or_else(|e| {
            panic!(
                "compiling the Kubernetes protobuf definitions under {}: {e}",
                root.display()
            )
        });
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("kubernetes.binpb"), set)
        .expect("writing the descriptor set to OUT_DIR");
}

fn proto_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            proto_files(root, &path, out);
        } else if path.extension().is_some_and(|x| x == "proto") {
            out.push(
                path.strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf(),
            );
        }
    }
}

fn from_env() -> Option<(String, String)> {
    let c = std::env::var("GAMEDAY_BUILD_COMMIT").ok()?;
    let c = c.trim();
    (!c.is_empty()).then(|| (c.to_owned(), String::new()))
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn from_git(dir: &Path) -> Option<(String, String)> {
    // Only a checkout that holds this crate: not an unrelated repository
    // around the registry's source folder (a home folder under git).
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    let tracked = git(dir, &["ls-files", "--", "Cargo.toml"])?;
    if tracked.is_empty() || !dir.starts_with(&top) {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
    // Rebuild when HEAD moves or the branch it names gets a commit (git
    // prints these paths relative to `dir`, or absolute in a worktree).
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    watched.extend(git(dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(p) = git(dir, &["rev-parse", "--git-path", &name]).map(|p| dir.join(p))
            && p.exists()
        {
            println!("cargo::rerun-if-changed={}", p.display());
        }
    }
    Some((commit, date))
}

/// `{"git": {"sha1": "…"}}`, written by `cargo package` into the crate.
fn from_vcs_info(dir: &Path) -> Option<(String, String)> {
    let path = dir.join(".cargo_vcs_info.json");
    if path.exists() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
    let text = std::fs::read_to_string(path).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + "\"sha1\"".len()..];
    let start = rest.find('"')? + 1;
    let sha: String = rest[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (sha.len() >= 12).then(|| (sha[..12].to_owned(), String::new()))
}
