//! `bad-commit`: a change is committed to the source repository (and
//! pushed, when the source is a remote); returns the commit's SHA, which a
//! `git-revert` recovery reverts.

use super::super::context::Context;
use super::super::error::Result;
use super::super::gitops::Source;
use crate::scenario::model::FileChange;

pub(super) async fn inject(
    cx: &Context,
    source: &mut Source,
    file: &str,
    change: &FileChange,
    message: &str,
) -> Result<String> {
    let _acting = cx.clock().busy();
    let rev = source.commit_change(file, change, message).await?;
    cx.timeline().operation(&format!(
        "committed {} to {file}: {message}",
        rev.short_sha()
    ));
    Ok(rev.sha)
}
