//! The Events of the objects a failed wait names, for the report: when a
//! phase times out, its last judgement names what was not ready
//! (`Deployment/app/web: 0/2 ready pods`, `flux-system/apps: …`); the
//! cluster's Events about those objects — and about the pods of a named
//! workload, where image pulls and crash loops are recorded — say why.
//! A few lines per object, newest first.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;

/// Events quoted per object.
pub const PER_OBJECT: usize = 3;
/// Objects quoted at most.
pub const OBJECTS: usize = 5;

/// An object a judgement names: `(kind, namespace, name)`; the kind is
/// `Kustomization` for the `namespace/name` form Kustomization checks use.
type Subject = (String, String, String);

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// The objects `judgement` names, in the order it names them.
pub fn subjects(judgement: &str) -> Vec<Subject> {
    let mut out: Vec<Subject> = Vec::new();
    let tokens = judgement
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '[' | ']'));
    for t in tokens {
        let parts: Vec<&str> = t.split('/').collect();
        let s = match parts.as_slice() {
            [kind, ns, name]
                if kind.starts_with(|c: char| c.is_ascii_uppercase())
                    && is_name(ns)
                    && is_name(name) =>
            {
                ((*kind).to_owned(), (*ns).to_owned(), (*name).to_owned())
            }
            // Not a ratio (`1/2 ready`): a namespace and a name hold a letter.
            [ns, name]
                if [ns, name]
                    .iter()
                    .all(|p| is_name(p) && p.chars().any(|c| c.is_ascii_lowercase())) =>
            {
                (
                    "Kustomization".to_owned(),
                    (*ns).to_owned(),
                    (*name).to_owned(),
                )
            }
            _ => continue,
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// True when `ev` is about `subject`, or about a pod of it (a pod named
/// `<workload>-…` in its namespace).
fn concerns(ev: &Event, subject: &Subject) -> bool {
    let o = &ev.involved_object;
    let (kind, ns, name) = subject;
    if o.namespace.as_deref() != Some(ns.as_str()) {
        return false;
    }
    let oname = o.name.as_deref().unwrap_or_default();
    match o.kind.as_deref() {
        Some(k) if k == kind => oname == name,
        Some("Pod") => {
            matches!(
                kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job"
            ) && oname.starts_with(&format!("{name}-"))
        }
        _ => false,
    }
}

fn last_seen(ev: &Event) -> String {
    ev.last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| ev.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| ev.first_timestamp.as_ref().map(|t| t.0.to_string()))
        .unwrap_or_default()
}

fn line(ev: &Event) -> String {
    let o = &ev.involved_object;
    let count = ev.count.unwrap_or(1);
    let times = if count > 1 {
        format!(" (x{count})")
    } else {
        String::new()
    };
    let path = o
        .field_path
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    format!(
        "{} {} {} {}/{}{path}: {}{times}",
        last_seen(ev),
        ev.type_.as_deref().unwrap_or("Normal"),
        ev.reason.as_deref().unwrap_or_default(),
        o.kind.as_deref().unwrap_or_default(),
        o.name.as_deref().unwrap_or_default(),
        ev.message.as_deref().unwrap_or_default().trim(),
    )
}

/// The report lines quoting the Events of what `judgement` names:
/// `Events of Deployment/app/web:` then up to [`PER_OBJECT`] Events, newest
/// first, indented. Empty when it names nothing or the Events cannot be read
/// (they are an aid, never the verdict).
pub fn quote(events: &[Event], judgement: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut named = subjects(judgement);
    // A Flux applier waits on its sources: the sources whose newest Event
    // is a Warning (an index or chart that cannot be fetched, a clone that
    // fails) are quoted too, since the applier's own message only names
    // the next link of the chain.
    if named
        .iter()
        .any(|(k, _, _)| matches!(k.as_str(), "HelmRelease" | "Kustomization"))
    {
        for s in failing_sources(events) {
            if !named.contains(&s) {
                named.push(s);
            }
        }
    }
    for s in named.into_iter().take(OBJECTS) {
        let mut mine: Vec<&Event> = events.iter().filter(|e| concerns(e, &s)).collect();
        if mine.is_empty() {
            continue;
        }
        mine.sort_by_key(|e| std::cmp::Reverse(last_seen(e)));
        // Warnings first among equals would hide order; newest first only.
        let by_line: BTreeMap<usize, String> = mine
            .iter()
            .take(PER_OBJECT)
            .enumerate()
            .map(|(i, e)| (i, line(e)))
            .collect();
        out.push(format!("Events of {}/{}/{}:", s.0, s.1, s.2));
        out.extend(by_line.into_values().map(|l| format!("  {l}")));
    }
    out
}

/// Flux source kinds, whose failures stop the objects that use them.
const SOURCE_KINDS: [&str; 5] = [
    "GitRepository",
    "HelmRepository",
    "HelmChart",
    "OCIRepository",
    "Bucket",
];

/// The Flux sources whose newest Event is a Warning.
fn failing_sources(events: &[Event]) -> Vec<Subject> {
    let mut newest: BTreeMap<Subject, &Event> = BTreeMap::new();
    for e in events {
        let o = &e.involved_object;
        let Some(kind) = o.kind.as_deref().filter(|k| SOURCE_KINDS.contains(k)) else {
            continue;
        };
        let key = (
            kind.to_owned(),
            o.namespace.clone().unwrap_or_default(),
            o.name.clone().unwrap_or_default(),
        );
        let slot = newest.entry(key).or_insert(e);
        if last_seen(e) > last_seen(slot) {
            *slot = e;
        }
    }
    newest
        .into_iter()
        .filter(|(_, e)| e.type_.as_deref() == Some("Warning"))
        .map(|(s, _)| s)
        .collect()
}

/// Reads the cluster's Events and quotes those of what `judgement` names.
pub async fn fetch_and_quote(client: &kube::Client, judgement: &str) -> Vec<String> {
    if subjects(judgement).is_empty() {
        return Vec::new();
    }
    let api: Api<Event> = Api::all(client.clone());
    match api.list(&ListParams::default()).await {
        Ok(list) => quote(&list.items, judgement),
        Err(e) => {
            tracing::debug!(error = %e, "could not read the cluster's Events for the report");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(kind: &str, name: &str, reason: &str, at: &str, count: i32) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": format!("{name}.{at}"), "namespace": "app"},
            "involvedObject": {"kind": kind, "namespace": "app", "name": name,
                "fieldPath": if kind == "Pod" { "spec.containers{web}" } else { "" }},
            "reason": reason, "message": format!("{reason} happened"), "type": "Warning",
            "lastTimestamp": at, "count": count,
        }))
        .unwrap()
    }

    #[test]
    fn names_in_judgements() {
        assert_eq!(
            subjects(
                "0/1 workloads ready; waiting for Deployment/app/web: 1/2 ready pods; flux-system/apps: not ready"
            ),
            vec![
                ("Deployment".into(), "app".into(), "web".into()),
                ("Kustomization".into(), "flux-system".into(), "apps".into()),
            ]
        );
        assert!(subjects("1/2 ready").is_empty());
    }

    #[test]
    fn quotes_the_newest_events_of_a_workload_and_its_pods() {
        let events = vec![
            ev("Pod", "web-5d8-abcde", "Failed", "2026-03-01T09:00:10Z", 1),
            ev("Pod", "web-5d8-abcde", "BackOff", "2026-03-01T09:03:00Z", 7),
            ev(
                "Deployment",
                "web",
                "ScalingReplicaSet",
                "2026-03-01T09:00:00Z",
                1,
            ),
            ev("Pod", "other-1", "Failed", "2026-03-01T09:04:00Z", 1),
            ev("Pod", "web-5d8-fghij", "Failed", "2026-03-01T09:02:00Z", 1),
        ];
        let lines = quote(&events, "waiting for Deployment/app/web: 0/2 ready pods");
        assert_eq!(
            lines,
            [
                "Events of Deployment/app/web:",
                "  2026-03-01T09:03:00Z Warning BackOff Pod/web-5d8-abcde spec.containers{web}: BackOff happened (x7)",
                "  2026-03-01T09:02:00Z Warning Failed Pod/web-5d8-fghij spec.containers{web}: Failed happened",
                "  2026-03-01T09:00:10Z Warning Failed Pod/web-5d8-abcde spec.containers{web}: Failed happened",
            ]
        );
    }

    #[test]
    fn a_flux_applier_s_failing_sources_are_quoted_too() {
        let mut recovered = ev(
            "GitRepository",
            "repo",
            "NewArtifact",
            "2026-03-01T09:05:00Z",
            1,
        );
        recovered.type_ = Some("Normal".into());
        let events = vec![
            ev(
                "HelmRepository",
                "charts",
                "Failed",
                "2026-03-01T09:01:00Z",
                4,
            ),
            ev(
                "GitRepository",
                "repo",
                "GitOperationFailed",
                "2026-03-01T09:00:00Z",
                1,
            ),
            recovered,
        ];
        let lines = quote(
            &events,
            "HelmRelease/app/edge: Ready=False (SourceNotReady: …)",
        );
        assert_eq!(
            lines,
            [
                "Events of HelmRepository/app/charts:",
                "  2026-03-01T09:01:00Z Warning Failed HelmRepository/charts: Failed happened (x4)",
            ],
            "the GitRepository recovered since its warning"
        );
        // A workload's wait does not quote sources.
        assert!(quote(&events, "Deployment/app/web: 0/2 ready pods").is_empty());
    }
}
