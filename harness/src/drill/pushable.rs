//! Before a drill starts: a drill that pushes to its source (a
//! `bad-commit` fault, a `git-revert` recovery) needs a `url:` that
//! accepts pushes. A normal checkout with the branch checked out refuses
//! them (`receive.denyCurrentBranch`), which would only show once a
//! cluster was built and the fault injected; it is refused up front, as
//! invalid input, with the fix.

use crate::gitops::repo::{GitRef, GitSettings, push_refusal};
use crate::scenario::diagnostic::{Diagnostic, Diagnostics};
use crate::scenario::model::{Fault, RecoveryMethod, Scenario, SourceLocation};

/// True when the drill commits to its source and pushes the commit.
pub fn pushes_to_source(s: &Scenario) -> bool {
    s.disaster
        .iter()
        .any(|f| matches!(f, Fault::BadCommit { .. }))
        || s.recovery.method == RecoveryMethod::GitRevert
}

/// Checks that the scenario's `url:` source accepts the pushes its drill
/// makes.
///
/// # Errors
/// A diagnostic on `spec.source.url` naming the checkout, the branch and
/// the fix.
pub async fn check(s: &Scenario) -> Result<(), Diagnostics> {
    let SourceLocation::Url(url) = &s.source.location else {
        return Ok(());
    };
    if !pushes_to_source(s) {
        return Ok(());
    }
    let r = &s.source.reference;
    let reference = GitRef::from_parts(r.branch.clone(), r.tag.clone(), r.commit.clone());
    let Some(branch) = reference.moving_branch() else {
        return Ok(());
    };
    match push_refusal(&GitSettings::default(), url, branch).await {
        None => Ok(()),
        Some(refused) => Err(Diagnostics::one(
            &s.file,
            Diagnostic::field(
                "spec.source.url",
                format!(
                    "{refused}, and this drill pushes to it ({})",
                    what_pushes(s)
                ),
            )
            .help(refused.help()),
        )),
    }
}

fn what_pushes(s: &Scenario) -> &'static str {
    if s.disaster
        .iter()
        .any(|f| matches!(f, Fault::BadCommit { .. }))
    {
        "the bad-commit fault"
    } else {
        "the git-revert recovery"
    }
}
