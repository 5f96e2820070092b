//! Everything a run creates is registered here, so it is deleted on every
//! way out — success, error, panic of a drill task, Ctrl-C — unless the user
//! asked to retain it (`--retain`), in which case the registry says how to
//! reach what was kept.
//!
//! Entries are deleted in reverse order of creation (a cluster before the
//! folder holding its kubeconfig). A resource deleted in the normal course of
//! a drill (the cluster a `cluster-loss` destroys) is [`Cleanup::forget`]-ten.
//!
//! Some resources live only as long as this process (a simulated cluster,
//! the Git server it fetches from): retained, they are [`Held`] — kept
//! serving until the caller releases them (`gameday run --retain` waits for
//! Ctrl-C), then deleted like the rest.

use std::fmt;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

/// What deleting one resource does.
pub type Deleter = Box<dyn FnOnce() -> BoxFuture<'static, Result<(), String>> + Send>;

/// What to do when a resource that lives in this process is retained
/// (e.g. let a simulated cluster's clock run at wall pace).
pub type OnRetain = Box<dyn FnOnce() + Send>;

struct Entry {
    id: u64,
    what: String,
    reach: Option<String>,
    delete: Deleter,
    /// Lives in this process: retained, it is held, not left behind.
    in_process: Option<Option<OnRetain>>,
}

/// A handle to a registered resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(u64);

/// The registry. Cheap to clone; clones share it (a drill task that panics
/// leaves its entries to the runner).
#[derive(Clone, Default)]
pub struct Cleanup {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    entries: Vec<Entry>,
}

impl fmt::Debug for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_list()
            .entries(inner.entries.iter().map(|e| &e.what))
            .finish()
    }
}

/// The outcome of a cleanup.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Resources deleted.
    pub deleted: Vec<String>,
    /// Resources kept (`--retain`), each with how to reach it.
    pub retained: Vec<String>,
    /// Resources that could not be deleted, with why: the user must.
    pub failed: Vec<String>,
    /// Resources living in this process, kept serving (`--retain`) until
    /// [`Held::release`].
    pub held: Held,
}

/// Retained resources that live in this process: they serve while it
/// runs, and are deleted on [`Held::release`] (or when the process ends).
#[derive(Default)]
pub struct Held {
    entries: Vec<Entry>,
    /// Kept with the resources (e.g. the run folder's lock).
    guards: Vec<Box<dyn Send>>,
    /// Folders removed, when empty, after the resources.
    folders: Vec<std::path::PathBuf>,
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.what))
            .finish()
    }
}

impl Held {
    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How to reach each held resource that says (`simulated cluster x:
    /// export KUBECONFIG=…`), oldest first.
    pub fn reach(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| e.reach.as_ref().map(|r| format!("{}: {r}", e.what)))
            .collect()
    }

    /// Holds `other`'s resources too (released after this one's).
    pub fn extend(&mut self, other: Held) {
        self.entries.extend(other.entries);
        self.guards.extend(other.guards);
        self.folders.extend(other.folders);
    }

    /// Keeps `guard` until the release (a lock on the folder the
    /// resources live in), and removes `folder`, when empty, after it.
    pub fn keep_with(&mut self, guard: Box<dyn Send>, folder: std::path::PathBuf) {
        self.guards.push(guard);
        self.folders.push(folder);
    }

    /// Deletes every held resource, newest first.
    pub async fn release(self) -> Outcome {
        let mut out = Outcome::default();
        for e in self.entries.into_iter().rev() {
            delete_entry(e, &mut out).await;
        }
        for folder in &self.folders {
            let _ = std::fs::remove_dir(folder);
        }
        drop(self.guards);
        out
    }
}

/// Removes a folder recursively (gone already is fine).
/// A folder's deleter: [`remove_folder`], which outlasts the children of a
/// stopped controller (a `git archive` that was writing an artifact) still
/// adding files while it runs.
fn remove_dir(path: std::path::PathBuf) -> Deleter {
    Box::new(move || Box::pin(async move { remove_folder(&path).await.map_err(|e| e.to_string()) }))
}

async fn delete_entry(e: Entry, out: &mut Outcome) {
    match (e.delete)().await {
        Ok(()) => {
            tracing::debug!(what = %e.what, "deleted");
            out.deleted.push(e.what);
        }
        Err(why) => {
            tracing::warn!(what = %e.what, error = %why, "could not delete");
            out.failed.push(format!("{}: {why}", e.what));
        }
    }
}

impl Cleanup {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a resource: `what` names it (`kind cluster gameday-x-1a2b`),
    /// `reach` says how to reach it when retained (`export KUBECONFIG=…`).
    pub fn register(
        &self,
        what: impl Into<String>,
        reach: Option<String>,
        delete: Deleter,
    ) -> Token {
        self.push(what.into(), reach, delete, None)
    }

    /// Registers a resource that lives only as long as this process (a
    /// simulated cluster, a Git server): retained, it is held serving
    /// (see [`Held`]) after `on_retain` ran.
    pub fn register_in_process(
        &self,
        what: impl Into<String>,
        reach: Option<String>,
        on_retain: Option<OnRetain>,
        delete: Deleter,
    ) -> Token {
        self.push(what.into(), reach, delete, Some(on_retain))
    }

    fn push(
        &self,
        what: String,
        reach: Option<String>,
        delete: Deleter,
        in_process: Option<Option<OnRetain>>,
    ) -> Token {
        let mut inner = self.lock();
        inner.next += 1;
        let id = inner.next;
        inner.entries.push(Entry {
            id,
            what,
            reach,
            delete,
            in_process,
        });
        Token(id)
    }

    /// Registers a folder, removed recursively.
    pub fn register_dir(&self, path: std::path::PathBuf) -> Token {
        let what = format!("folder {}", path.display());
        let reach = Some(path.display().to_string());
        self.register(what, reach, remove_dir(path))
    }

    /// Registers a folder whose content is of no use once this process
    /// ends (a simulated cluster's kubeconfig): retained, it is held and
    /// removed with the resources it serves.
    pub fn register_dir_in_process(&self, path: std::path::PathBuf) -> Token {
        let what = format!("folder {}", path.display());
        self.register_in_process(what, None, None, remove_dir(path))
    }

    /// Removes a resource from the registry without deleting it (it was
    /// deleted already, or ownership moved elsewhere).
    pub fn forget(&self, token: Token) {
        self.lock().entries.retain(|e| e.id != token.0);
    }

    /// Number of registered resources.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Deletes every registered resource, newest first — or, with `retain`,
    /// keeps them and reports how to reach them. The registry is empty after.
    /// Resources that live in this process are held instead (see
    /// [`Held`]; `out.held`, oldest first).
    pub async fn run(&self, retain: bool) -> Outcome {
        let entries: Vec<Entry> = std::mem::take(&mut self.lock().entries);
        let mut out = Outcome::default();
        for mut e in entries.into_iter().rev() {
            if !retain {
                delete_entry(e, &mut out).await;
                continue;
            }
            match e.in_process.take() {
                Some(on_retain) => {
                    if let Some(f) = on_retain {
                        f();
                    }
                    out.held.entries.insert(0, e);
                }
                None => out.retained.push(match &e.reach {
                    Some(r) => format!("{}: {r}", e.what),
                    None => e.what.clone(),
                }),
            }
        }
        out
    }
}

/// Removes a folder gameday created and everything in it, even while a
/// child that is still going away adds to it: `remove_dir_all` fails with
/// `Directory not empty` when a file appears between listing a folder and
/// removing it, so it is retried (up to 20 times, 100 ms apart) until the
/// writers are gone. A folder that does not exist is fine.
///
/// # Errors
/// The last error when the folder is still there after the retries.
pub async fn remove_folder(path: &std::path::Path) -> std::io::Result<()> {
    let mut attempt = 0;
    loop {
        match std::fs::remove_dir_all(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if attempt >= 20 => return Err(e),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_folder_is_removed_while_a_child_still_writes_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repeat");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let writer_dir = dir.clone();
        // A child that keeps adding files for a while, as a killed
        // bootstrap's git or kubectl does before it is gone.
        let writer = std::thread::spawn(move || {
            let until = std::time::Instant::now() + std::time::Duration::from_millis(400);
            let mut i = 0;
            while std::time::Instant::now() < until {
                let _ = std::fs::create_dir_all(writer_dir.join("a/b"));
                let _ = std::fs::write(writer_dir.join(format!("a/b/f{i}")), "x");
                i += 1;
            }
        });
        remove_folder(&dir).await.unwrap();
        writer.join().unwrap();
        // Whatever the writer made after the last removal is gone too once
        // it stopped: a second call finds nothing or removes the rest.
        remove_folder(&dir).await.unwrap();
        assert!(!dir.exists());
        remove_folder(&dir).await.unwrap();
    }
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(order: Arc<Mutex<Vec<&'static str>>>, name: &'static str) -> Deleter {
        Box::new(move || {
            Box::pin(async move {
                order.lock().unwrap().push(name);
                Ok(())
            })
        })
    }

    #[tokio::test]
    async fn deletes_newest_first_and_empties() {
        let c = Cleanup::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        c.register("dir", None, counting(order.clone(), "dir"));
        c.register("cluster", None, counting(order.clone(), "cluster"));
        let out = c.run(false).await;
        assert_eq!(*order.lock().unwrap(), ["cluster", "dir"]);
        assert_eq!(out.deleted, ["cluster", "dir"]);
        assert!(c.is_empty());
    }

    #[tokio::test]
    async fn retain_keeps_everything_and_says_how_to_reach_it() {
        let c = Cleanup::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let n = calls.clone();
        c.register(
            "sim cluster x",
            Some("KUBECONFIG=/tmp/k".into()),
            Box::new(move || {
                n.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Ok(()) })
            }),
        );
        let out = c.run(true).await;
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(out.retained, ["sim cluster x: KUBECONFIG=/tmp/k"]);
    }

    #[tokio::test]
    async fn retained_in_process_resources_are_held_until_released() {
        let c = Cleanup::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        let retained = Arc::new(AtomicUsize::new(0));
        c.register(
            "kind cluster",
            Some("KUBECONFIG=/k".into()),
            counting(order.clone(), "kind"),
        );
        let n = retained.clone();
        c.register_in_process(
            "simulated cluster s",
            Some("export KUBECONFIG=/s".into()),
            Some(Box::new(move || {
                n.fetch_add(1, Ordering::SeqCst);
            })),
            counting(order.clone(), "sim"),
        );
        c.register_in_process("git server", None, None, counting(order.clone(), "git"));
        let out = c.run(true).await;
        assert_eq!(out.retained, ["kind cluster: KUBECONFIG=/k"]);
        assert_eq!(retained.load(Ordering::SeqCst), 1, "on_retain ran");
        assert!(order.lock().unwrap().is_empty(), "nothing deleted yet");
        assert_eq!(
            out.held.reach(),
            ["simulated cluster s: export KUBECONFIG=/s"]
        );
        let released = out.held.release().await;
        assert_eq!(*order.lock().unwrap(), ["git", "sim"]);
        assert_eq!(released.deleted, ["git server", "simulated cluster s"]);
    }

    #[tokio::test]
    async fn forgotten_and_failing_entries() {
        let c = Cleanup::default();
        let t = c.register(
            "gone",
            None,
            Box::new(|| Box::pin(async { Err("should not run".to_owned()) })),
        );
        c.forget(t);
        c.register(
            "stuck",
            None,
            Box::new(|| Box::pin(async { Err("permission denied".to_owned()) })),
        );
        let out = c.run(false).await;
        assert_eq!(out.failed, ["stuck: permission denied"]);
        assert!(out.deleted.is_empty());
    }

    #[tokio::test]
    async fn folders_are_removed() {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::write(dir.join("f"), "x").unwrap();
        let c = Cleanup::default();
        c.register_dir(dir.clone());
        c.run(false).await;
        assert!(!dir.exists());
    }
}
