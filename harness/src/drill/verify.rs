//! Verification, after recovery: is Git really the backup? The objects now
//! against the snapshot taken before the disaster; what did not come back
//! is named in the diff (objects the scenario expects to lose excepted).

use std::collections::BTreeSet;

use super::context::Context;
use super::error::Result;
use super::snapshot::{self, Snapshot};
use super::target::Target;
use crate::report::tree::{PhaseGroup, StateDiff};

/// Snapshots `namespaces` (and the source's `cluster_objects`) again and
/// diffs them against `before`.
///
/// # Errors
/// When the cluster is gone or the snapshot fails.
pub(super) async fn verify(
    cx: &Context,
    target: &Target,
    before: &Snapshot,
    namespaces: &BTreeSet<String>,
    cluster_objects: &BTreeSet<snapshot::ObjectKey>,
) -> Result<StateDiff> {
    let t = cx.timeline();
    t.begin("verify", PhaseGroup::Verification, None);
    // What the cluster still does at this instant (a controller's
    // reconcile in flight — a Terraform apply writing its outputs — when
    // the checks passed) finishes first: which of it and the snapshot the
    // machine ran first must not decide the diff.
    drop(cx.clock().settle().await);
    let acting = cx.clock().busy();
    let after =
        snapshot::collect_with(&target.cluster()?.client(), namespaces, cluster_objects).await?;
    let diff = snapshot::diff(before, &after, &cx.scenario().expect.lost);
    t.operation(&format!(
        "{} lost, {} changed, {} extra of {} objects",
        diff.lost.len(),
        diff.changed.len(),
        diff.extra.len(),
        diff.compared
    ));
    drop(acting);
    t.end();
    Ok(diff)
}
