//! `bad-commit`: a change is committed to the source repository (and
//! pushed, when the source is a remote); returns the commit's SHA, which a
//! `git-revert` recovery reverts.

use super::super::context::Context;
use super::super::error::{Error, Result};
use crate::gitops::bootstrap::Source;
use crate::gitops::repo::Change;
use crate::gitops::yaml::edit::DocSelector;
use crate::gitops::yaml::path::FieldPath;
use crate::scenario::model::FileChange;

pub(super) async fn inject(
    cx: &Context,
    source: &mut Source,
    file: &str,
    change: &FileChange,
    message: &str,
) -> Result<String> {
    let _acting = cx.clock().busy();
    let change = git_change(file, change)?;
    let rev = source.commit(&[change], message).await?;
    cx.timeline().operation(&format!(
        "committed {} to {file}: {message}",
        rev.short_sha()
    ));
    Ok(rev.sha)
}

/// The scenario's change as a change to the repository.
fn git_change(file: &str, change: &FileChange) -> Result<Change> {
    Ok(match change {
        FileChange::Set { document, fields } => {
            let mut parsed = Vec::new();
            for (path, value) in fields {
                let fp = FieldPath::parse(path).map_err(|source| Error::FieldPath {
                    path: path.clone(),
                    source,
                })?;
                parsed.push((fp, value.clone()));
            }
            Change::SetFields {
                file: file.into(),
                document: DocSelector {
                    index: Some(*document as usize),
                    ..DocSelector::default()
                },
                fields: parsed,
            }
        }
        FileChange::Replace(content) => Change::Write {
            file: file.into(),
            content: content.clone().into_bytes(),
        },
        FileChange::Delete => Change::Delete { file: file.into() },
    })
}
