//! One repeat of a drill, as a pipeline of stages, each taking what it
//! needs and returning what the next one starts from:
//!
//! ```text
//! prepare  → Prepared { target, baseline, snapshot }
//! disaster → Damage { lost nodes, bad commit, drifted infra }
//! recover  → the recovery time
//! verify   → the snapshot diff
//! ```
//!
//! (`drill/prepare.rs`, `drill/disaster.rs` with one file per fault in
//! `drill/fault/`, `drill/recover.rs`, `drill/verify.rs`). Teardown is
//! the runner's, through the cleanup registry, so it happens on every way
//! out.

use std::time::Duration;

use super::context::Context;
use super::error::{Error, Result};
use super::{disaster, prepare, recover, verify};
use crate::report::tree::{StateDiff, Status};

/// How a repeat ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Passed (objectives judged by the runner), failed, error or aborted.
    pub status: Status,
    /// What stopped it, when something did.
    pub error: Option<String>,
    /// Every reason behind `error`, one line each.
    pub reasons: Vec<String>,
    /// Disaster → steady state restored, ms on the cluster's clock.
    pub recovery_ms: Option<u64>,
    /// The snapshot diff, when recovery got that far.
    pub diff: Option<StateDiff>,
}

impl Outcome {
    /// A repeat that stopped with `error`.
    pub fn errored(status: Status, error: String) -> Outcome {
        Outcome {
            status,
            reasons: vec![error.clone()],
            error: Some(error),
            recovery_ms: None,
            diff: None,
        }
    }
}

/// Runs one repeat.
pub async fn run(cx: Context) -> Outcome {
    match run_stages(&cx).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome {
            reasons: e.reasons(),
            ..Outcome::errored(e.status(), e.chain())
        },
    }
}

async fn run_stages(cx: &Context) -> Result<Outcome> {
    std::fs::create_dir_all(cx.dir()).map_err(|source| {
        Error::Cluster(crate::cluster::Error::Io {
            path: cx.dir().to_owned(),
            source,
        })
    })?;
    // A simulated cluster's folder (its kubeconfig, the repository it
    // fetches) is of no use once gameday exits: retained, it goes with it.
    if cx.scenario().cluster.provider == crate::scenario::model::Provider::Sim {
        cx.provider
            .cleanup
            .register_dir_in_process(cx.dir().to_owned());
    } else {
        cx.provider.cleanup.register_dir(cx.dir().to_owned());
    }

    let prepare::Prepared {
        mut target,
        baseline,
        before,
        namespaces,
        cluster_objects,
    } = prepare::prepare(cx).await?;
    let damage = disaster::disaster(cx, &mut target).await?;
    let recovery = recover::recover(cx, &mut target, &baseline, &damage).await?;
    let diff = verify::verify(cx, &target, &before, &namespaces, &cluster_objects).await?;
    target.shutdown_tooling().await;
    Ok(Outcome {
        status: Status::Passed,
        error: None,
        reasons: Vec::new(),
        recovery_ms: Some(ms(recovery)),
        diff: Some(diff),
    })
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
