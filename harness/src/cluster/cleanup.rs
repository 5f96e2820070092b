//! Everything a run creates is registered here, so it is deleted on every
//! way out — success, error, panic of a drill task, Ctrl-C — unless the user
//! asked to retain it (`--retain`), in which case the registry says how to
//! reach what was kept.
//!
//! Entries are deleted in reverse order of creation (a cluster before the
//! folder holding its kubeconfig). A resource deleted in the normal course of
//! a drill (the cluster a `cluster-loss` destroys) is [`Cleanup::forget`]-ten.

use std::fmt;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

/// What deleting one resource does.
pub type Deleter = Box<dyn FnOnce() -> BoxFuture<'static, Result<(), String>> + Send>;

struct Entry {
    id: u64,
    what: String,
    reach: Option<String>,
    delete: Deleter,
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
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Resources deleted.
    pub deleted: Vec<String>,
    /// Resources kept (`--retain`), each with how to reach it.
    pub retained: Vec<String>,
    /// Resources that could not be deleted, with why: the user must.
    pub failed: Vec<String>,
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
        let mut inner = self.lock();
        inner.next += 1;
        let id = inner.next;
        inner.entries.push(Entry {
            id,
            what: what.into(),
            reach,
            delete,
        });
        Token(id)
    }

    /// Registers a folder, removed recursively.
    pub fn register_dir(&self, path: std::path::PathBuf) -> Token {
        let what = format!("folder {}", path.display());
        let reach = Some(path.display().to_string());
        self.register(
            what,
            reach,
            Box::new(move || {
                Box::pin(async move {
                    match tokio::fs::remove_dir_all(&path).await {
                        Ok(()) => Ok(()),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                        Err(e) => Err(e.to_string()),
                    }
                })
            }),
        )
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
    pub async fn run(&self, retain: bool) -> Outcome {
        let entries: Vec<Entry> = std::mem::take(&mut self.lock().entries);
        let mut out = Outcome::default();
        for e in entries.into_iter().rev() {
            if retain {
                out.retained.push(match &e.reach {
                    Some(r) => format!("{}: {r}", e.what),
                    None => e.what.clone(),
                });
                continue;
            }
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
        out
    }
}

#[cfg(test)]
mod tests {
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
