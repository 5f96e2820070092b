//! `gameday init`'s planning: from a repository to a first catalogue of
//! drills.
//!
//! - [`origin`]: the repository `--source` names, a folder or a cloned URL;
//! - [`layout`]: which path Flux syncs (a Flux `clusters/<name>/`
//!   folder, Kustomize overlays, plain folders);
//! - [`plan`]: what the drills need to know about the scanned source
//!   (its largest workload namespaces, a Deployment to lose, an image a
//!   commit can break) and the drills themselves;
//! - [`write`]: each drill as a commented scenario file.
//!
//! Measuring the drills (`--measure`) runs them, which is the drill
//! layer's: the command does it and hands the measured budgets back here.

pub mod layout;
pub mod origin;
pub mod plan;
pub mod write;

use std::path::Path;

use crate::gitops::render::RenderOptions;
use crate::gitops::tree::{self, Tree};

/// Scans `path` of the checkout at `root` as Flux builds it and surveys it.
pub async fn survey(root: &Path, path: &str) -> (Tree, plan::Survey) {
    let tree = tree::scan(
        root,
        path,
        crate::lint::SOURCE_NAME,
        &RenderOptions::default(),
    )
    .await;
    let survey = plan::Survey::of(&tree, root);
    (tree, survey)
}
