//! Judging the steady-state checks over a world: per check, passes, or
//! why not — and whether that is a hard failure (what an alert would fire
//! on) or only progress.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Context, Entry, kind_of, kustomization_kind, name_of, pod_kind, workload_kinds};
use crate::drill::probe::observer::{GroupKind, World};
use crate::kstatus::{self as health, Health};
use crate::scenario::model::{Check, NamespacedName, ObjectRef};

/// A check's verdict: `Err((hard, why))` when it does not pass.
pub(super) type Verdict = Result<(), (bool, String)>;

/// Per-check verdicts of one world.
pub(super) fn judge_checks(cx: &Context, world: &World) -> Vec<Verdict> {
    cx.checks
        .iter()
        .map(|c| judge_check(cx, c, world))
        .collect()
}

/// The first check of `cx` that does not pass, judged in order and no
/// further (what "healthy" waits on; the checks after it are not judged).
pub(super) fn first_not_passing(cx: &Context, world: &World) -> Option<(bool, String)> {
    cx.checks
        .iter()
        .find_map(|c| judge_check(cx, c, world).err())
}

fn judge_check(cx: &Context, check: &Check, world: &World) -> Verdict {
    match check {
        Check::Kustomizations(names) => kustomizations(cx, names.as_deref(), world),
        Check::Workloads(given) => workloads(cx, given, world),
        Check::Object { object, condition } => object_check(object, condition.as_deref(), world),
    }
}

/// The named Kustomizations (or all: the baseline's and those that exist)
/// Ready at the revision.
///
/// Judged after every burst of events: names are borrowed, not copied, and
/// only the first waiting Kustomization's message is formatted.
fn kustomizations(cx: &Context, names: Option<&[NamespacedName]>, world: &World) -> Verdict {
    let kind = kustomization_kind();
    let mut expected: BTreeSet<(&str, &str)> = match names {
        Some(n) => n
            .iter()
            .map(|nn| (nn.namespace.as_str(), nn.name.as_str()))
            .collect(),
        None => cx
            .baseline
            .iter()
            .flat_map(|b| &b.kustomizations)
            .map(|nn| (nn.namespace.as_str(), nn.name.as_str()))
            .collect(),
    };
    if names.is_none() {
        expected.extend(world.objects(&kind).map(name_of));
    }
    if expected.is_empty() {
        return Err((false, "no Kustomization exists yet".into()));
    }
    let (mut count, mut first) = (0usize, None::<String>);
    let display = |namespace: &str, name: &str| {
        NamespacedName {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
        .to_string()
    };
    for &(namespace, name) in &expected {
        match world.get(&kind, namespace, name) {
            None => {
                count += 1;
                first.get_or_insert_with(|| format!("{} missing", display(namespace, name)));
            }
            Some(k) => match health::kustomization(k, expected_revision(cx, k)) {
                Health::Ready => {}
                Health::InProgress(why) => {
                    count += 1;
                    first.get_or_insert_with(|| format!("{}: {why}", display(namespace, name)));
                }
                Health::Failed(why) => {
                    return Err((
                        true,
                        format!("Kustomization {}: {why}", display(namespace, name)),
                    ));
                }
            },
        }
    }
    match first {
        None => Ok(()),
        Some(first) => Err((
            false,
            format!(
                "{}/{} Kustomizations Ready; waiting for {first}",
                expected.len() - count,
                expected.len()
            ),
        )),
    }
}

/// The revision a Kustomization must have applied: the head of the
/// drill's source for those that follow the sync source (`flux-system`, a
/// GitRepository or, for an artifact source, an OCIRepository); none for
/// those of another source (an OCIRepository, another GitRepository),
/// whose revision the drill's source does not name — Ready at their
/// generation is what they must show.
pub(super) fn expected_revision<'a>(cx: &'a Context, k: &Value) -> Option<&'a str> {
    let text = |p: &str| k.pointer(p).and_then(Value::as_str);
    let kind = text("/spec/sourceRef/kind").unwrap_or("GitRepository");
    let name = text("/spec/sourceRef/name");
    let own = text("/metadata/namespace");
    let namespace = text("/spec/sourceRef/namespace").or(own);
    let sync = crate::gitops::bootstrap::flux::sync::NAME;
    let follows_sync = kind == cx.sync_kind && name == Some(sync) && namespace == own;
    if follows_sync || name.is_none() {
        cx.revision.as_deref()
    } else {
        None
    }
}

/// Every workload of the namespaces Ready (with nodes lost: enough ready
/// pods on live nodes), none missing of those expected; failing pods say
/// "broken" before their Deployment's deadline does.
fn workloads(cx: &Context, given: &Option<Vec<String>>, world: &World) -> Verdict {
    // Judged after every burst of events: no copies of the world,
    // one message formatted per new first-in-order waiting entry.
    let namespaces = cx.workload_namespaces(given, world);
    let mut waiting = Waiting::default();
    let mut kinds = workload_kinds();
    kinds.sort();
    for kind in &kinds {
        for (namespace, name, o, health) in world.judged(kind) {
            if !namespaces.contains(namespace) {
                continue;
            }
            waiting.total += 1;
            let key = (kind, namespace, name);
            let display = || format!("{}/{namespace}/{name}", kind.kind);
            match health {
                Health::Ready => {
                    if !cx.lost_nodes.is_empty() {
                        let e = Entry {
                            kind: kind.clone(),
                            namespace: namespace.to_owned(),
                            name: name.to_owned(),
                        };
                        if let Some(why) = short_of_live_pods(cx, &e, o, world) {
                            waiting.add(key, || format!("{}: {why}", display()));
                        }
                    }
                }
                Health::InProgress(why) => {
                    waiting.add(key, || format!("{}: {why}", display()));
                }
                Health::Failed(why) => {
                    return Err((true, format!("{}: {why}", display())));
                }
            }
        }
    }
    // Expected (last healthy, applied by the tooling) and missing.
    let missing: BTreeSet<&Entry> = cx
        .baseline
        .iter()
        .flat_map(|b| &b.workloads)
        .chain(cx.desired.iter().filter(|e| e.is_workload()))
        .chain(world.inventories().flat_map(|i| &i.workloads))
        .filter(|e| namespaces.contains(&e.namespace))
        .filter(|e| world.get(&e.kind, &e.namespace, &e.name).is_none())
        .collect();
    for e in &missing {
        waiting.total += 1;
        waiting.add((&e.kind, &e.namespace, &e.name), || {
            format!("{} missing", e.display())
        });
    }
    if waiting.total > 0 {
        // Failing pods say "broken" before their Deployment's deadline does.
        for (namespace, name, _, health) in world.judged(&pod_kind()) {
            if namespaces.contains(namespace)
                && let Health::Failed(why) = health
            {
                return Err((true, format!("Pod/{namespace}/{name}: {why}")));
            }
        }
    }
    waiting.summarize("workloads ready")
}

/// One object exists (with its condition True, when one is named).
fn object_check(object: &ObjectRef, condition: Option<&str>, world: &World) -> Verdict {
    let kind = kind_of(object);
    if world.is_unknown(&kind) {
        return Err((false, format!("kind {kind} is not served (yet)")));
    }
    let ns = object.namespace.as_deref().unwrap_or("");
    match world.get(&kind, ns, &object.name) {
        None => Err((false, format!("{object} missing"))),
        Some(o) => match condition {
            None => Ok(()),
            Some(c) => match health::condition_status(o, c) {
                Some("True") => Ok(()),
                Some("False") => {
                    Err((true, format!("{object}: {c}=False{}", condition_said(o, c))))
                }
                other => Err((
                    false,
                    format!("{object}: {c}={}", other.unwrap_or("(none)")),
                )),
            },
        },
    }
}

/// ` (<reason>: <message>)` of condition `type_` of `o`, the message cut
/// at 400 characters; empty when it has neither.
fn condition_said(o: &Value, type_: &str) -> String {
    let Some(c) = o
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|l| l.iter().find(|c| c["type"] == type_))
    else {
        return String::new();
    };
    let reason = c["reason"].as_str().unwrap_or_default();
    let message = c["message"].as_str().unwrap_or_default();
    let message: String = if message.chars().count() > 400 {
        message.chars().take(400).chain("…".chars()).collect()
    } else {
        message.to_owned()
    };
    match (reason.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({reason})"),
        (true, false) => format!(" ({message})"),
        (false, false) => format!(" ({reason}: {message})"),
    }
}

/// With nodes lost, a Deployment or StatefulSet is only really ready when
/// enough of its ready pods run on live nodes.
fn short_of_live_pods(cx: &Context, e: &Entry, workload: &Value, world: &World) -> Option<String> {
    if cx.lost_nodes.is_empty() || !matches!(e.kind.kind.as_str(), "Deployment" | "StatefulSet") {
        return None;
    }
    let want = workload
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let selector = workload
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)?;
    let live = world
        .objects(&pod_kind())
        .filter(|p| {
            p.pointer("/metadata/namespace").and_then(Value::as_str) == Some(e.namespace.as_str())
        })
        .filter(|p| {
            let labels = p.pointer("/metadata/labels").and_then(Value::as_object);
            selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        })
        .filter(|p| p.pointer("/metadata/deletionTimestamp").is_none())
        .filter(|p| {
            let node = p
                .pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .unwrap_or("");
            !cx.lost_nodes.contains(node)
        })
        .filter(|p| health::condition_status(p, "Ready") == Some("True"))
        .count();
    let live = i64::try_from(live).unwrap_or(i64::MAX);
    (live < want).then(|| format!("{live}/{want} ready pods on live nodes"))
}

/// How many of `total` entries are waiting, and the message of the first
/// in (kind, namespace, name) order.
#[derive(Debug, Default)]
struct Waiting {
    total: usize,
    count: usize,
    first: Option<((GroupKind, String, String), String)>,
}

impl Waiting {
    fn add(&mut self, key: (&GroupKind, &str, &str), message: impl FnOnce() -> String) {
        self.count += 1;
        let earlier = self
            .first
            .as_ref()
            .is_none_or(|((k, ns, n), _)| key < (k, ns.as_str(), n.as_str()));
        if earlier {
            let (k, ns, n) = key;
            self.first = Some(((k.clone(), ns.to_owned(), n.to_owned()), message()));
        }
    }

    fn summarize(self, what: &str) -> Verdict {
        match self.first {
            None => Ok(()),
            Some((_, first)) => Err((
                false,
                format!(
                    "{}/{} {what}; waiting for {first}",
                    self.total - self.count,
                    self.total
                ),
            )),
        }
    }
}

/// The first hard failure of a world (for reporting what `detect` saw).
pub fn first_failure(cx: &Context, world: &World) -> Option<String> {
    judge_checks(cx, world).into_iter().find_map(|r| match r {
        Err((true, why)) => Some(why),
        _ => None,
    })
}
