//! `gameday gc`: finds and deletes what gameday runs left behind (after a
//! second Ctrl-C, a killed process, `--retain`), and nothing else:
//!
//! - kind clusters named `gameday-…` that carry the ownership marker
//!   ([`super::ownership::check_deletable`]: a `gameday-…` cluster without
//!   one is refused and reported, any other cluster is left alone);
//! - run folders `gameday-<run id>` in the temp dir (`$TMPDIR`), the
//!   folders `gameday run` keeps kubeconfigs, repositories and state in;
//!   Terraform state in them (clusters the `terraform` provider made) is
//!   destroyed first with `terraform destroy`, and a folder whose destroy
//!   fails is kept.
//!
//! - scratch folders `gameday-<use>-…` in the temp dir ([`crate::scratch`]:
//!   a simulated Flux's artifacts, a `sim serve --source` copy, a
//!   decryption home, …) whose process is gone (`kill -9`).
//!
//! A run in progress holds an advisory lock on its folder
//! ([`lock_run_dir`]), a process on each scratch folder it uses; gc skips
//! those folders and the clusters whose marker names a running run.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::ownership::{self, Evidence};
use super::providers::kind::{self, KindCli};

/// Prefix of run folders (`gameday-<run id>`).
pub const RUN_DIR_PREFIX: &str = "gameday-";

/// What gc looks at.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Report what would be deleted, delete nothing.
    pub dry_run: bool,
    /// Where run folders are (default: the temp dir, as `gameday run`).
    pub work_dir: PathBuf,
    /// The kind program.
    pub kind: KindCli,
}

impl GcOptions {
    /// The defaults `gameday gc` uses.
    pub fn new(dry_run: bool) -> GcOptions {
        GcOptions {
            dry_run,
            work_dir: std::env::temp_dir(),
            kind: KindCli::default(),
        }
    }
}

/// Something a run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// A kind cluster.
    KindCluster(String),
    /// A run folder.
    RunDir(PathBuf),
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Leftover::KindCluster(n) => write!(f, "kind cluster {n}"),
            Leftover::RunDir(p) => write!(f, "folder {}", p.display()),
        }
    }
}

/// What gc did with a leftover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Deleted.
    Deleted,
    /// Would be deleted (`--dry-run`).
    WouldDelete,
    /// Left alone: a running gameday uses it.
    InUse(String),
    /// Left alone: gameday cannot prove it is its own (why).
    Refused(String),
    /// Deleting it failed (why).
    Failed(String),
}

/// One leftover and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The leftover.
    pub leftover: Leftover,
    /// The run it belongs to, when known.
    pub run_id: Option<String>,
    /// What gc did.
    pub action: Action,
}

/// What gc found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Leftovers, clusters first.
    pub items: Vec<Item>,
    /// kind clusters not named `gameday-…`: never touched.
    pub others: Vec<String>,
    /// Things the user should know (kind missing, a listing failed).
    pub notes: Vec<String>,
}

impl GcReport {
    /// True when something could not be deleted or listed.
    pub fn failed(&self) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i.action, Action::Failed(_)))
    }
}

/// Finds leftovers and deletes them (or, with `dry_run`, says it would).
pub async fn gc(opts: &GcOptions) -> GcReport {
    let mut report = GcReport::default();
    kind_clusters(opts, &mut report).await;
    run_dirs(opts, &mut report).await;
    scratch_dirs(opts, &mut report);
    report
}

fn scratch_dirs(opts: &GcOptions, report: &mut GcReport) {
    let Ok(entries) = std::fs::read_dir(&opts.work_dir) else {
        return;
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(crate::scratch::is_scratch_name)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    for path in found {
        let action = if crate::scratch::in_use(&path) {
            Action::InUse("a running gameday uses it".to_owned())
        } else if opts.dry_run {
            Action::WouldDelete
        } else {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => Action::Deleted,
                Err(e) => Action::Failed(e.to_string()),
            }
        };
        report.items.push(Item {
            leftover: Leftover::RunDir(path),
            run_id: None,
            action,
        });
    }
}

async fn kind_clusters(opts: &GcOptions, report: &mut GcReport) {
    let names = match opts.kind.get_clusters().await {
        Ok(names) => names,
        Err(e) if e.is_not_found() => {
            report.notes.push(
                "kind is not installed (looked for `kind` on PATH): no kind clusters to check"
                    .into(),
            );
            return;
        }
        Err(e) => {
            report.notes.push(format!(
                "could not list kind clusters, none were checked: {e}"
            ));
            return;
        }
    };
    for name in names {
        if !name.starts_with(ownership::NAME_PREFIX) {
            report.others.push(name);
            continue;
        }
        let evidence = kind::read_marker(&opts.kind, &name).await;
        let run_id = match &evidence {
            Evidence::Marker(m) => Some(m.run_id.clone()),
            _ => None,
        };
        let action = match ownership::check_deletable(&name, &evidence, None) {
            Err(refusal) => Action::Refused(refusal.to_string()),
            Ok(()) => match run_id
                .as_deref()
                .filter(|r| run_dir_in_use(&run_dir(&opts.work_dir, r)))
            {
                Some(r) => Action::InUse(format!("run {r} is still going")),
                None if opts.dry_run => Action::WouldDelete,
                None => match opts.kind.delete_cluster(&name, None).await {
                    Ok(()) => Action::Deleted,
                    Err(e) => Action::Failed(e.to_string()),
                },
            },
        };
        report.items.push(Item {
            leftover: Leftover::KindCluster(name),
            run_id,
            action,
        });
    }
}

async fn run_dirs(opts: &GcOptions, report: &mut GcReport) {
    let entries = match std::fs::read_dir(&opts.work_dir) {
        Ok(e) => e,
        Err(e) => {
            report.notes.push(format!(
                "could not read {}: {e}; no run folders checked",
                opts.work_dir.display()
            ));
            return;
        }
    };
    let mut found: Vec<(PathBuf, String)> = entries
        .filter_map(Result::ok)
        // Folders only, never what a symlink points to.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = run_id_of_dir(&name)?.to_owned();
            Some((e.path(), id))
        })
        .collect();
    found.sort();
    for (path, id) in found {
        let states = super::providers::terraform::leftover_states(&path);
        let action = if run_dir_in_use(&path) {
            Action::InUse(format!("run {id} is still going"))
        } else if opts.dry_run {
            for s in &states {
                report.notes.push(format!(
                    "would run `terraform destroy` in {} first",
                    s.display()
                ));
            }
            Action::WouldDelete
        } else {
            match destroy_states(&states).await {
                Err(why) => Action::Failed(why),
                Ok(()) => match std::fs::remove_dir_all(&path) {
                    Ok(()) => Action::Deleted,
                    Err(e) => Action::Failed(e.to_string()),
                },
            }
        };
        report.items.push(Item {
            leftover: Leftover::RunDir(path),
            run_id: Some(id),
            action,
        });
    }
}

/// `terraform destroy` of each left-over state; the first failure (the
/// folder is then kept, state included).
async fn destroy_states(states: &[PathBuf]) -> Result<(), String> {
    for s in states {
        super::providers::terraform::destroy_leftover(s, crate::process::Tools::default())
            .await
            .map_err(|e| {
                format!(
                    "terraform destroy in {} failed, so the folder is kept: {}",
                    s.display(),
                    super::one_line(&e)
                )
            })?;
    }
    Ok(())
}

/// A run's folder inside `work_dir`: `gameday-<run id>` (what
/// `RunOptions::run_dir` makes).
pub fn run_dir(work_dir: &Path, run_id: &str) -> PathBuf {
    work_dir.join(format!("{RUN_DIR_PREFIX}{run_id}"))
}

/// The run id of a run folder's name, when it is one.
pub fn run_id_of_dir(name: &str) -> Option<&str> {
    name.strip_prefix(RUN_DIR_PREFIX).filter(|id| is_run_id(id))
}

/// Run ids are lower-case hex, 6 to 32 digits (`gameday run` makes 6).
pub fn is_run_id(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An advisory lock a run holds on its folder while it runs, so `gameday
/// gc` leaves the folder and the run's clusters alone. Released when
/// dropped, or when the process dies however it dies.
#[derive(Debug)]
pub struct RunDirLock {
    _lock: nix::fcntl::Flock<File>,
}

/// Creates the run folder if needed and locks it.
///
/// # Errors
/// When the folder cannot be created or opened, or another process holds
/// the lock (the same run id twice).
pub fn lock_run_dir(path: &Path) -> std::io::Result<RunDirLock> {
    std::fs::create_dir_all(path)?;
    let dir = File::open(path)?;
    nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map(|lock| RunDirLock { _lock: lock })
        .map_err(|(_, errno)| std::io::Error::from(errno))
}

/// True when a running gameday holds the folder's lock.
pub fn run_dir_in_use(path: &Path) -> bool {
    let Ok(dir) = File::open(path) else {
        return false;
    };
    match nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockSharedNonblock) {
        Ok(_) => false,
        Err((_, errno)) => errno == nix::errno::Errno::EWOULDBLOCK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_folder_names() {
        assert_eq!(run_id_of_dir("gameday-1a2b3c"), Some("1a2b3c"));
        assert_eq!(run_id_of_dir("gameday-repo-x1Y2z3"), None);
        assert_eq!(run_id_of_dir("gameday-12345"), None);
        assert_eq!(run_id_of_dir("gameday-ABCDEF"), None);
        assert_eq!(run_id_of_dir("other-1a2b3c"), None);
        assert_eq!(
            run_dir(Path::new("/t"), "1a2b3c"),
            Path::new("/t/gameday-1a2b3c")
        );
    }

    #[test]
    fn a_locked_run_folder_is_in_use_until_released() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("gameday-abcdef");
        let lock = lock_run_dir(&dir).unwrap();
        assert!(run_dir_in_use(&dir));
        assert!(lock_run_dir(&dir).is_err(), "one run per folder");
        drop(lock);
        assert!(!run_dir_in_use(&dir));
    }

    #[tokio::test]
    async fn run_folders_are_deleted_unless_in_use_and_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let leaked = tmp.path().join("gameday-0a0b0c");
        let running = tmp.path().join("gameday-111111");
        // The scratch folder of a killed `sim serve --flux`, one in use,
        // and a folder gameday never makes.
        let other = tmp.path().join("gameday-repo-Ab12Cd");
        let live = crate::scratch::Scratch::new_in("flux", tmp.path()).unwrap();
        let unknown = tmp.path().join("gameday-notes-Ab12Cd");
        for d in [&leaked, &other, &unknown] {
            std::fs::create_dir_all(d.join("x")).unwrap();
        }
        let _lock = lock_run_dir(&running).unwrap();
        std::fs::write(
            tmp.path().join("gameday-222222"),
            "a file, not a run folder",
        )
        .unwrap();
        let opts = GcOptions {
            dry_run: true,
            work_dir: tmp.path().to_owned(),
            kind: KindCli::new("gameday-test-no-such-kind", Default::default()),
        };
        let dry = gc(&opts).await;
        assert!(
            dry.notes[0].contains("kind is not installed"),
            "{:?}",
            dry.notes
        );
        let actions: Vec<(Leftover, Action)> = dry
            .items
            .iter()
            .map(|i| (i.leftover.clone(), i.action.clone()))
            .collect();
        assert_eq!(
            actions,
            [
                (Leftover::RunDir(leaked.clone()), Action::WouldDelete),
                (
                    Leftover::RunDir(running.clone()),
                    Action::InUse("run 111111 is still going".into())
                ),
                (
                    Leftover::RunDir(live.path().to_owned()),
                    Action::InUse("a running gameday uses it".into())
                ),
                (Leftover::RunDir(other.clone()), Action::WouldDelete),
            ]
        );
        assert!(leaked.exists());
        let done = gc(&GcOptions {
            dry_run: false,
            ..opts
        })
        .await;
        assert_eq!(done.items[0].action, Action::Deleted);
        assert!(
            !leaked.exists() && !other.exists(),
            "a killed process's scratch folder too"
        );
        assert!(running.exists() && live.path().exists() && unknown.exists());
        assert!(tmp.path().join("gameday-222222").exists());
    }
}
