//! The drill's conditions over the steady-state checks: [`Healthy`],
//! [`Broken`] (the `detect` phase), [`Converged`], and [`NodesReady`] (the
//! end of provisioning).

use std::collections::BTreeSet;

use serde_json::Value;

use super::judge::{first_not_passing, judge_checks};
use super::{Context, Entry, kustomization_kind, name_of, pod_kind};
use crate::drill::probe::observer::{Condition, GroupKind, Judgement, World};
use crate::kstatus as health;
use crate::scenario::model::NamespacedName;

/// Every steady-state check passes.
#[derive(Debug, Clone)]
pub struct Healthy(pub Context);

impl Condition for Healthy {
    fn needs(&self, _: &World) -> BTreeSet<GroupKind> {
        let mut n = self.0.needs();
        if n.contains(&GroupKind::new("apps", "Deployment")) {
            n.insert(pod_kind());
        }
        n
    }

    fn judge(&mut self, world: &World) -> Judgement {
        match first_not_passing(&self.0, world) {
            None => Judgement::Met,
            Some((_, why)) => Judgement::Pending(why),
        }
    }
}

/// Some check fails hard: what an alert would fire on (the `detect` phase).
#[derive(Debug, Clone)]
pub struct Broken(pub Context);

impl Condition for Broken {
    fn needs(&self, w: &World) -> BTreeSet<GroupKind> {
        Healthy(self.0.clone()).needs(w)
    }

    fn judge(&mut self, world: &World) -> Judgement {
        match judge_checks(&self.0, world)
            .into_iter()
            .find_map(|r| match r {
                Err((true, why)) => Some(why),
                _ => None,
            }) {
            Some(_) => Judgement::Met,
            None => Judgement::Pending("every check still passes or is only in progress".into()),
        }
    }
}

/// The desired state is applied again: with Flux, every Kustomization of the
/// baseline exists and has applied `revision`; with either method, every
/// object the tooling applied before (and applies now) exists.
#[derive(Debug, Clone)]
pub struct Converged {
    /// Shared inputs (revision, baseline, desired objects).
    cx: Context,
    /// True when Flux is the GitOps tooling.
    flux: bool,
    /// What is expected whatever the inventories say: the direct applier's
    /// objects and the baseline's.
    fixed: BTreeSet<Entry>,
    /// Their kinds.
    fixed_kinds: BTreeSet<GroupKind>,
}

impl Converged {
    /// The condition for `cx`; `flux` when Flux is the GitOps tooling.
    pub fn new(cx: Context, flux: bool) -> Converged {
        let mut fixed = cx.desired.clone();
        if let Some(b) = &cx.baseline {
            fixed.extend(b.desired.iter().cloned());
        }
        let fixed_kinds = fixed.iter().map(|e| e.kind.clone()).collect();
        Converged {
            cx,
            flux,
            fixed,
            fixed_kinds,
        }
    }

    /// Entries the inventories name beyond the fixed ones (usually none
    /// once a baseline exists, so judging costs no copies).
    fn extra<'w>(&self, world: &'w World) -> BTreeSet<&'w Entry> {
        world
            .inventories()
            .flat_map(|i| &i.entries)
            .filter(|e| !self.fixed.contains(*e))
            .collect()
    }
}

impl Condition for Converged {
    fn needs(&self, world: &World) -> BTreeSet<GroupKind> {
        let mut n = self.fixed_kinds.clone();
        n.extend(world.inventories().flat_map(|i| i.kinds.iter().cloned()));
        if self.flux {
            n.insert(kustomization_kind());
        }
        n
    }

    fn judge(&mut self, world: &World) -> Judgement {
        if self.flux {
            let kind = kustomization_kind();
            // Borrowed names: judged after every burst of events.
            let mut expected: BTreeSet<(&str, &str)> = self
                .cx
                .baseline
                .iter()
                .flat_map(|b| &b.kustomizations)
                .map(|nn| (nn.namespace.as_str(), nn.name.as_str()))
                .collect();
            expected.extend(world.objects(&kind).map(name_of));
            if expected.is_empty() {
                return Judgement::Pending("no Kustomization exists yet".into());
            }
            for &(namespace, name) in &expected {
                let nn = || NamespacedName {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                };
                let Some(k) = world.get(&kind, namespace, name) else {
                    return Judgement::Pending(format!("Kustomization {} missing", nn()));
                };
                let applied = k
                    .pointer("/status/lastAppliedRevision")
                    .and_then(Value::as_str);
                match super::judge::expected_revision(&self.cx, k) {
                    Some(rev) if applied != Some(rev) => {
                        return Judgement::Pending(format!(
                            "Kustomization {} applied {} (want {rev})",
                            nn(),
                            applied.unwrap_or("nothing yet")
                        ));
                    }
                    // Another source's revision: something of it applied.
                    None if self.cx.revision.is_some() && applied.is_none() => {
                        return Judgement::Pending(format!(
                            "Kustomization {} applied nothing yet",
                            nn()
                        ));
                    }
                    _ => {}
                }
            }
        }
        let extra = self.extra(world);
        let missing = |e: &Entry| {
            world.is_unknown(&e.kind) || world.get(&e.kind, &e.namespace, &e.name).is_none()
        };
        let mut first: Option<&Entry> = None;
        let mut n = 0usize;
        for e in self.fixed.iter().chain(extra.iter().copied()) {
            if missing(e) {
                n += 1;
                // The first missing one in (kind, namespace, name) order.
                first = Some(first.map_or(e, |f| f.min(e)));
            }
        }
        match first {
            None => Judgement::Met,
            Some(first) => {
                let total = self.fixed.len() + extra.len();
                Judgement::Pending(format!(
                    "{}/{total} desired objects present; waiting for {}",
                    total - n,
                    first.display()
                ))
            }
        }
    }
}

/// Every node Ready (and at least one node): the end of provisioning.
#[derive(Debug, Clone, Default)]
pub struct NodesReady;

impl Condition for NodesReady {
    fn needs(&self, _: &World) -> BTreeSet<GroupKind> {
        BTreeSet::from([GroupKind::new("", "Node")])
    }

    fn judge(&mut self, world: &World) -> Judgement {
        let nodes: Vec<&Value> = world.objects(&GroupKind::new("", "Node")).collect();
        if nodes.is_empty() {
            return Judgement::Pending("no node registered yet".into());
        }
        let not_ready: Vec<&str> = nodes
            .iter()
            .filter(|n| health::condition_status(n, "Ready") != Some("True"))
            .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        match not_ready.first() {
            None => Judgement::Met,
            Some(first) => Judgement::Pending(format!(
                "{}/{} nodes Ready; waiting for {first}",
                nodes.len() - not_ready.len(),
                nodes.len()
            )),
        }
    }
}
