//! `bad-commit`: a change is committed to the source repository (and
//! pushed, when the source is a remote).

use super::super::error::Result;
use super::super::repeat::Drill;
use crate::scenario::model::FileChange;

pub(super) async fn inject(
    d: &mut Drill,
    file: &str,
    change: &FileChange,
    message: &str,
) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    let rev = d.source.commit_change(file, change, message).await?;
    t.operation(&format!(
        "committed {} to {file}: {message}",
        rev.short_sha()
    ));
    d.bad_commit = Some(rev.sha.clone());
    d.revision = rev.to_string();
    Ok(())
}
