//! `spec.recovery` → [`Recovery`]: the method with its own settings, and a
//! timeout that defaults to three times the RTO (at least ten minutes).
//! Whether the method can repair the disaster is checked in `combinations`.

use std::time::Duration;

use crate::scenario::file::{self, RecoveryMethodName};
use crate::scenario::model::{Recovery, RecoveryMethod};

pub(super) fn recovery(r: &file::RecoverySpec, total: Duration) -> Recovery {
    let method = match r.method {
        RecoveryMethodName::Rebuild => RecoveryMethod::Rebuild,
        RecoveryMethodName::Reconcile => RecoveryMethod::Reconcile {
            trigger: r.trigger.unwrap_or(false),
        },
        RecoveryMethodName::GitRevert => RecoveryMethod::GitRevert,
        RecoveryMethodName::Manual => RecoveryMethod::Manual {
            instructions: r.instructions.clone(),
        },
    };
    let timeout = r
        .timeout
        .map_or_else(|| (total * 3).max(Duration::from_secs(600)), |d| d.0);
    Recovery { method, timeout }
}
