//! The `terraform` provider: a cluster made by a Terraform module (the
//! pipeline model: `terraform apply` of a module kept in Git), through the
//! `terraform` command line ([`crate::terraform`]).
//!
//! Creating a cluster, in order:
//! 1. the module (`spec.cluster.terraform.dir`, with the local modules it
//!    calls) is copied into the repeat's folder
//!    (`<repeat dir>/<cluster>.terraform/`), where its state then lives;
//!    `terraform init`, and `terraform workspace select -or-create=true`
//!    when a workspace is set;
//! 2. the cluster is registered for cleanup, *then* `terraform apply
//!    -auto-approve` runs with the scenario's `-var`s, so an apply that
//!    fails halfway or is interrupted is destroyed too (unless `--retain`);
//! 3. the kubeconfig comes from the output `kubeconfigOutput`: a path
//!    (relative to the module) or the kubeconfig itself (written to the
//!    repeat's folder, mode 0600).
//!
//! Every command also sees `TF_VAR_gameday_cluster_name`,
//! `TF_VAR_gameday_run_id` (a module may declare these variables to name
//! what it creates; Terraform ignores them otherwise) and `GAMEDAY_BIN` (the
//! running gameday binary, unless already set), which the simulated-cluster
//! fixture uses to start `gameday sim serve`.
//!
//! Terraform runs outside the drill's task and one command at a time: when
//! the run is interrupted (Ctrl-C), the cleanup interrupts the command in
//! flight once (SIGINT: Terraform finishes the operations in flight and
//! saves its state), waits for it, and runs `terraform destroy`. Nothing is
//! destroyed when the state holds nothing. The state is gameday's own (a
//! per-run copy), so it proves ownership: no marker is written into the
//! cluster. When the destroy fails, the working copy is kept (moved next to
//! the run folder) and the error says where.

mod kubeconfig;
mod leftovers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

use crate::cluster::{Backend, Cluster, Context};
use crate::process::Tools;
use crate::scenario::model::{Scenario, TerraformSettings};
use crate::terraform::{self as tf, Terraform};

use self::kubeconfig::{client_from_file, kubeconfig_from};
pub use self::leftovers::{destroy_leftover, leftover_states};

/// The output naming Flux install manifests for the cluster (optional).
pub const FLUX_MANIFESTS_OUTPUT: &str = "flux_manifests";

/// Written into a working copy before the first apply: the `-var` values
/// (JSON), so that a later `terraform destroy` — by `gameday gc`, or by a
/// person — passes the same. Its presence marks a working copy gameday
/// made.
pub const VARS_FILE: &str = "gameday-vars.json";

/// Errors of the terraform provider.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario has no `terraform` block.
    #[error("provider terraform needs spec.cluster.terraform (with `dir`) in the scenario")]
    NoSettings,
    /// Terraform failed (the error names the module and keeps its last lines).
    #[error(transparent)]
    Terraform(#[from] tf::Error),
    /// The kubeconfig output is missing.
    #[error(
        "module {} has no output {wanted:?} (its outputs: {}); add it to the module, or name the output holding the kubeconfig in spec.cluster.terraform.kubeconfigOutput",
        .module.display(),
        if .available.is_empty() { "none".to_owned() } else { .available.join(", ") }
    )]
    MissingOutput {
        /// The module.
        module: PathBuf,
        /// The output looked for.
        wanted: String,
        /// The outputs there are.
        available: Vec<String>,
    },
    /// The kubeconfig output holds neither a kubeconfig nor the path of one.
    #[error("output {output:?} of module {}: {why}", .module.display())]
    BadKubeconfig {
        /// The module.
        module: PathBuf,
        /// The output.
        output: String,
        /// Why.
        why: String,
    },
    /// The state could not be destroyed.
    #[error(
        "terraform destroy of module {} failed; the state is kept in {}: run `terraform destroy` there (with the -var values of gameday-vars.json)",
        .module.display(), .kept.display()
    )]
    NotDestroyed {
        /// The module.
        module: PathBuf,
        /// Where the working copy (and its state) was kept.
        kept: PathBuf,
        /// Why.
        #[source]
        source: tf::Error,
    },
}

/// What the cleanup entry and the drill share.
#[derive(Debug)]
struct Shared {
    name: String,
    settings: TerraformSettings,
    /// The working copy (the module and the local modules it calls).
    root: PathBuf,
    /// Terraform in the working copy, interruptible by `interrupt`.
    tf: Terraform,
    interrupt: CancellationToken,
    /// One Terraform command at a time; the cleanup takes it to wait for
    /// the command in flight.
    ops: tokio::sync::Mutex<()>,
    /// An apply ran (so there may be something to destroy).
    applied: AtomicBool,
}

/// A cluster made by a Terraform module.
#[derive(Debug, Clone)]
pub struct TerraformCluster {
    shared: Arc<Shared>,
    flux_manifests: Option<PathBuf>,
}

/// What an apply produced.
struct Applied {
    kubeconfig: PathBuf,
    client: kube::Client,
    flux_manifests: Option<PathBuf>,
}

/// The environment a module's commands see (module docs).
fn tools_for(cx: &Context, name: &str) -> Tools {
    let mut tools = cx
        .tools
        .clone()
        .env("TF_VAR_gameday_cluster_name", name)
        .env("TF_VAR_gameday_run_id", &cx.run_id);
    if cx.tools.var("GAMEDAY_BIN").is_none()
        && let Ok(exe) = std::env::current_exe()
        && exe.file_name().is_some_and(|f| f == "gameday")
    {
        tools = tools.env("GAMEDAY_BIN", exe);
    }
    tools
}

pub(in crate::cluster) async fn create(
    scenario: &Scenario,
    cx: &Context,
    name: &str,
) -> Result<Cluster, crate::cluster::Error> {
    let settings = scenario
        .cluster
        .terraform
        .clone()
        .ok_or(Error::NoSettings)?;
    let root = cx.dir.join(format!("{name}.terraform"));
    let dir = tf::module::copy(&settings.dir, &root).map_err(Error::from)?;
    let interrupt = CancellationToken::new();
    let shared = Arc::new(Shared {
        name: name.to_owned(),
        tf: Terraform::new(&dir, &settings.dir, tools_for(cx, name))
            .interruptible(interrupt.clone()),
        settings,
        root,
        interrupt,
        ops: tokio::sync::Mutex::new(()),
        applied: AtomicBool::new(false),
    });
    let s = shared.clone();
    detached(&shared, async move { prepare(&s).await }).await?;
    // Registered before the apply: an apply that fails halfway or is
    // interrupted leaves resources that must go too.
    let for_cleanup = shared.clone();
    let token = cx.cleanup.register(
        format!(
            "terraform state of cluster {name} ({})",
            shared.settings.dir.display()
        ),
        Some(format!(
            "state in {} (destroy it with `terraform destroy` there)",
            dir.display()
        )),
        Box::new(move || {
            Box::pin(async move {
                teardown(&for_cleanup)
                    .await
                    .map_err(|e| crate::cluster::one_line(&e))
            })
        }),
    );
    let applied = apply(&shared, &cx.dir).await?;
    Ok(Cluster {
        name: name.to_owned(),
        kubeconfig: applied.kubeconfig,
        client: applied.client,
        clock: cx.clock.clone(),
        cleanup: Some(token),
        backend: Backend::Terraform(TerraformCluster {
            shared,
            flux_manifests: applied.flux_manifests,
        }),
    })
}

/// `terraform init`, and selects the workspace.
async fn prepare(s: &Shared) -> Result<(), Error> {
    let vars = serde_json::to_string_pretty(&s.settings.vars).unwrap_or_default();
    std::fs::write(s.tf.dir().join(VARS_FILE), vars).map_err(|source| tf::Error::Copy {
        module: s.settings.dir.clone(),
        dir: s.tf.dir().to_owned(),
        source,
    })?;
    s.tf.init().await?;
    if let Some(ws) = &s.settings.workspace {
        s.tf.select_workspace(ws).await?;
    }
    Ok(())
}

/// Runs `f` (Terraform commands) in a task of its own, holding the
/// operation lock: if the drill's task is aborted (Ctrl-C), the command is
/// not killed with it but interrupted by the cleanup, which then waits for
/// the lock.
async fn detached<T: Send + 'static>(
    shared: &Arc<Shared>,
    f: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
) -> Result<T, Error> {
    let s = shared.clone();
    let task = tokio::spawn(async move {
        let _op = s.ops.lock().await;
        f.await
    });
    match task.await {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// `terraform apply`, then the kubeconfig from the outputs.
async fn apply(shared: &Arc<Shared>, files: &Path) -> Result<Applied, Error> {
    let s = shared.clone();
    let files = files.to_owned();
    detached(shared, async move {
        s.applied.store(true, Ordering::SeqCst);
        s.tf.apply(&s.settings.vars, &[], s.settings.timeout)
            .await?;
        let outputs = s.tf.outputs().await?;
        let kubeconfig = kubeconfig_from(&s, &outputs, &files)?;
        let client = client_from_file(&s, &kubeconfig).await?;
        let flux_manifests = outputs
            .get(FLUX_MANIFESTS_OUTPUT)
            .and_then(|o| o.value.as_str())
            .map(|p| s.tf.dir().join(p))
            .filter(|p| p.is_file());
        Ok(Applied {
            kubeconfig,
            client,
            flux_manifests,
        })
    })
    .await
}

/// Interrupts the command in flight, waits for it, and destroys what the
/// state holds (nothing when it holds nothing).
async fn teardown(s: &Shared) -> Result<(), Error> {
    s.interrupt.cancel();
    let _op = s.ops.lock().await;
    if !s.applied.load(Ordering::SeqCst) {
        return Ok(());
    }
    // A fresh, uninterruptible Terraform: the interrupt was for the
    // command that was running.
    let tf = Terraform::new(s.tf.dir(), s.tf.module(), s.tf.tools().clone());
    if tf.state_list().await.is_ok_and(|l| l.is_empty()) {
        return Ok(());
    }
    match tf.destroy(&s.settings.vars, &[], s.settings.timeout).await {
        Ok(()) => Ok(()),
        Err(source) => Err(Error::NotDestroyed {
            module: s.settings.dir.clone(),
            kept: keep(&s.root),
            source,
        }),
    }
}

/// Moves a working copy (`<work dir>/gameday-<run>/<repeat>/<name>.terraform`)
/// whose state could not be destroyed out of the run folder, which the
/// cleanup deletes, next to it.
fn keep(dir: &Path) -> PathBuf {
    let run_parent = dir.parent().and_then(Path::parent).and_then(Path::parent);
    let (Some(parent), Some(name)) = (run_parent, dir.file_name()) else {
        return dir.to_owned();
    };
    let target = parent.join(format!("gameday-kept-{}", name.to_string_lossy()));
    match std::fs::rename(dir, &target) {
        Ok(()) => target,
        Err(_) => dir.to_owned(),
    }
}

impl TerraformCluster {
    /// The module.
    pub fn module(&self) -> &Path {
        &self.shared.settings.dir
    }

    /// The working copy (where the state lives).
    pub fn dir(&self) -> &Path {
        self.shared.tf.dir()
    }

    /// The Flux install manifests the module provides (output
    /// [`FLUX_MANIFESTS_OUTPUT`]), if any.
    pub fn flux_manifests(&self) -> Option<&Path> {
        self.flux_manifests.as_deref()
    }

    /// `terraform destroy` of everything, or of `targets` (`infra-loss`);
    /// returns the addresses destroyed.
    ///
    /// # Errors
    /// When Terraform fails.
    pub async fn destroy_infra(&self, targets: &[String]) -> Result<Vec<String>, Error> {
        let s = self.shared.clone();
        let targets = targets.to_vec();
        detached(&self.shared, async move {
            let before = s.tf.state_list().await?;
            s.tf.destroy(&s.settings.vars, &targets, s.settings.timeout)
                .await?;
            let after = s.tf.state_list().await?;
            Ok(before.into_iter().filter(|a| !after.contains(a)).collect())
        })
        .await
    }

    /// Applies the module again from its folder (the rebuild after
    /// `infra-loss`): fresh copy of the module's files, same state.
    async fn reapply(&mut self, files: &Path) -> Result<Applied, Error> {
        let s = self.shared.clone();
        detached(&self.shared, async move {
            // Copied again: the module folder is the source of truth.
            tf::module::copy(&s.settings.dir, &s.root)?;
            prepare(&s).await
        })
        .await?;
        let applied = apply(&self.shared, files).await?;
        self.flux_manifests = applied.flux_manifests.clone();
        Ok(applied)
    }
}

impl Cluster {
    /// Applies a Terraform cluster's module again after its infrastructure
    /// was destroyed (`infra-loss`): the module folder is the source of
    /// truth. The kubeconfig and client are those of the new apply.
    ///
    /// # Errors
    /// When Terraform fails, or the cluster is not a Terraform one.
    pub async fn reapply(&mut self, files: &Path) -> crate::cluster::Result<()> {
        let Backend::Terraform(t) = &mut self.backend else {
            return Err(crate::cluster::Error::Unsupported {
                provider: self.provider(),
                what: "re-apply infrastructure (it needs provider terraform)",
            });
        };
        let applied = Box::pin(t.reapply(files)).await?;
        self.kubeconfig = applied.kubeconfig;
        self.client = applied.client;
        Ok(())
    }
}
