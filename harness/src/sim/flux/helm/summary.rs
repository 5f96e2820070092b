//! `Ready` of a HelmRelease, as helm-controller's `summarize`
//! (`internal/reconcile/release.go`) composes it after every action.

use serde_json::Value;

use super::reasons as hr;
use crate::sim::flux::reconcile::Pass;
use crate::sim::flux::status::{Working, types};

/// `Ready` out of `Remediated`, `TestSuccess` (when tests count) and
/// `Released`: the one of highest observed generation, in that order of
/// priority; `Remediated` and `Unknown` make it `False`; `True` removes
/// `Stalled`. A `Remediated` that a later release (and its tests) made
/// stale goes first.
pub fn summarize(pass: &mut Pass<'_>, test: bool, ignore_failures: bool) {
    let cond = |w: &Working, t: &str| -> Option<Value> {
        w.obj
            .pointer("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| c["type"] == t)
            .cloned()
    };
    let generation = |c: &Value| c["observedGeneration"].as_i64().unwrap_or(0);
    if let (Some(rem), Some(rel)) = (cond(&pass.w, hr::REMEDIATED), cond(&pass.w, hr::RELEASED))
        && rel["status"] == "True"
    {
        let over = if !test || ignore_failures {
            generation(&rel) >= generation(&rem)
        } else {
            cond(&pass.w, hr::TEST_SUCCESS)
                .is_some_and(|t| t["status"] == "True" && generation(&t) >= generation(&rem))
        };
        if over {
            pass.w.clear(hr::REMEDIATED);
        }
    }
    if !test {
        pass.w.clear(hr::TEST_SUCCESS);
    }
    let mut candidates = vec![hr::REMEDIATED];
    if test && !ignore_failures {
        candidates.push(hr::TEST_SUCCESS);
    }
    candidates.push(hr::RELEASED);
    let mut best: Option<(usize, Value)> = None;
    for (i, t) in candidates.iter().enumerate() {
        if let Some(c) = cond(&pass.w, t)
            && best
                .as_ref()
                .is_none_or(|(_, b)| generation(&c) > generation(b))
        {
            best = Some((i, c));
        }
    }
    let Some((i, c)) = best else { return };
    let mut st = c["status"].as_str().unwrap_or("False");
    if st == "Unknown" || candidates[i] == hr::REMEDIATED {
        st = "False";
    }
    if st == "True" {
        pass.w.clear(types::STALLED);
    }
    let reason = c["reason"].as_str().unwrap_or_default().to_owned();
    let message = c["message"].as_str().unwrap_or_default().to_owned();
    pass.w.mark(types::READY, st, &reason, &message);
}
