//! What killed runs left behind: the working copies of Terraform modules
//! (found by their [`VARS_FILE`]) and destroying what their state holds,
//! for `gameday gc`.

use std::path::{Path, PathBuf};

use super::{Error, VARS_FILE};
use crate::process::Tools;
use crate::terraform::Terraform;

/// The working copies of Terraform modules a run left in `run_dir` (those
/// holding [`VARS_FILE`]), for `gameday gc`.
pub fn leftover_states(run_dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        if dir.join(VARS_FILE).is_file() {
            out.push(dir.to_owned());
            return;
        }
        if depth == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            // Folders only, never what a symlink points to; not Terraform's own.
            if e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != ".terraform" {
                walk(&e.path(), depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    // <run dir>/<repeat>/<cluster>.terraform/[<module path>…]
    walk(run_dir, 6, &mut out);
    out.sort();
    out
}

/// Destroys what a left-over working copy's state holds (nothing to do
/// when it holds nothing), with the `-var`s it was applied with.
///
/// # Errors
/// When Terraform fails: the state must then be kept.
pub async fn destroy_leftover(dir: &Path, tools: Tools) -> Result<(), Error> {
    let vars: std::collections::BTreeMap<String, String> =
        std::fs::read_to_string(dir.join(VARS_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
    let tf = Terraform::new(dir, dir, tools);
    if tf.state_list().await.is_ok_and(|l| l.is_empty()) {
        return Ok(());
    }
    tf.destroy(&vars, &[], std::time::Duration::from_secs(30 * 60))
        .await?;
    Ok(())
}
