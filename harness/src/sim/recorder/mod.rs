//! The Event recorder the simulated controllers, scheduler, kubelets and
//! Flux controllers share: client-go's `tools/record` on the simulated
//! clock.
//!
//! A [`Recorder`] is made per component (`kubelet`, `default-scheduler`,
//! `replicaset-controller`, `kustomize-controller`, …) and writes core/v1
//! Events through the store (so they are served at `core/v1` and
//! `events.k8s.io/v1` alike), after the [`correlator`] decided: dropped by
//! the spam filter, combined with similar ones, or counted into an
//! identical one (`count`, `firstTimestamp`, `lastTimestamp`). The API
//! server expires them after an hour of simulated time and caps how many
//! a cluster holds (see [`crate::sim::storage::store::EVENT_TTL`]).
//!
//! Layering: uses only [`crate::sim::storage`]; `workloads` and `flux`
//! use it.

pub mod correlator;

use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::{Value, json};

use self::correlator::{Correlator, Decision};
use crate::sim::storage::store::{Gvr, ObjectRef, Store, WriteOptions};

/// An Event's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something may be wrong.
    Warning,
}

impl EventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Where an Event is about: an object, and optionally one of its parts
/// (`spec.containers{web}`).
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// The object (its kind, apiVersion and metadata are read).
    pub object: &'a Value,
    /// `involvedObject.fieldPath`.
    pub field_path: &'a str,
}

impl<'a> About<'a> {
    /// The whole object.
    pub fn object(object: &'a Value) -> About<'a> {
        About {
            object,
            field_path: "",
        }
    }

    /// A container of a pod, as the kubelet names it.
    pub fn container(pod: &'a Value, path: &'a str) -> About<'a> {
        About {
            object: pod,
            field_path: path,
        }
    }
}

/// Go's `time.Duration` string (`150ms`, `2.5s`, `1m3.25s`, `10m0s`,
/// `1h0m0s`), as the kubelet and Flux print durations (to the millisecond).
pub fn go_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (ms / 3_600_000, (ms / 60_000) % 60, ms % 60_000);
    let secs = format!("{}.{:03}", s / 1000, s % 1000);
    let secs = secs.trim_end_matches('0').trim_end_matches('.');
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

/// The field path of container `name` (`spec.containers{name}`).
pub fn container_path(name: &str) -> String {
    format!("spec.containers{{{name}}}")
}

/// Records Events of one component.
#[derive(Debug)]
pub struct Recorder {
    store: Store,
    component: String,
    manager: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    correlator: Correlator,
    /// Last creation instant and how many Events were named in it.
    last: Option<(Timestamp, i128)>,
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

impl Recorder {
    /// A recorder writing as `component` (the Event's `source.component`
    /// and `reportingComponent`) with field manager `manager`.
    pub fn new(store: Store, component: &str, manager: &str) -> Recorder {
        Recorder {
            store,
            component: component.to_owned(),
            manager: manager.to_owned(),
            state: Mutex::new(State::default()),
        }
    }

    /// Records an Event about `about` from this component (no host).
    pub fn record(&self, about: About<'_>, type_: EventType, reason: &str, message: &str) {
        self.record_on("", about, type_, reason, message);
    }

    /// Records an Event from this component on `host` (a node, for the
    /// kubelet).
    pub fn record_on(
        &self,
        host: &str,
        about: About<'_>,
        type_: EventType,
        reason: &str,
        message: &str,
    ) {
        let o = about.object;
        let involved = json!({
            "kind": s(o, "/kind"),
            "namespace": s(o, "/metadata/namespace"),
            "name": s(o, "/metadata/name"),
            "uid": s(o, "/metadata/uid"),
            "apiVersion": s(o, "/apiVersion"),
            "resourceVersion": s(o, "/metadata/resourceVersion"),
            "fieldPath": about.field_path,
        });
        let object_key = format!(
            "{}\u{0}{host}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            self.component,
            s(o, "/kind"),
            s(o, "/metadata/namespace"),
            s(o, "/metadata/name"),
            about.field_path,
            s(o, "/metadata/uid"),
            s(o, "/apiVersion"),
        );
        let similar = format!("{object_key}\u{0}{}\u{0}{reason}", type_.as_str());
        let now = self.store.clock().now();
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let decision = st.correlator.observe(&object_key, &similar, message, now);
        let ns = match s(o, "/metadata/namespace") {
            "" => "default",
            ns => ns,
        };
        match decision {
            Decision::Drop => {}
            Decision::Update { name, message } => {
                if !self.bump(ns, &name, &message) {
                    st.correlator.forget(&name);
                    let key = format!("{similar}\u{0}{message}");
                    self.create(&mut st, ns, host, &involved, type_, reason, &message, &key);
                }
            }
            Decision::Create { key, message } => {
                self.create(&mut st, ns, host, &involved, type_, reason, &message, &key);
            }
        }
    }

    /// One more occurrence of an existing Event; false when it is gone.
    fn bump(&self, ns: &str, name: &str, message: &str) -> bool {
        let r = ObjectRef::namespaced(Gvr::core("events"), ns, name);
        let now = self.store.now_rfc3339();
        self.store
            .mutate(&r, false, &WriteOptions::manager(&self.manager), |e| {
                let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
                e["count"] = json!(count + 1);
                e["lastTimestamp"] = json!(now);
                e["message"] = json!(message);
                Ok(())
            })
            .is_ok()
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        st: &mut State,
        ns: &str,
        host: &str,
        involved: &Value,
        type_: EventType,
        reason: &str,
        message: &str,
        key: &str,
    ) {
        let now = self.store.clock().now();
        let now_s = self.store.now_rfc3339();
        let mut source = json!({"component": self.component});
        if !host.is_empty() {
            source["host"] = json!(host);
        }
        let base = now.as_nanosecond();
        for _ in 0..16 {
            // client-go names an Event `<object>.<unix nanos in hex>`; on
            // the simulated clock many share an instant, so each gets the
            // next nanosecond.
            let n = match st.last {
                Some((t, n)) if t == now => n + 1,
                _ => 0,
            };
            st.last = Some((now, n));
            let name = format!("{}.{:x}", s(involved, "/name"), base + n);
            let ev = json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now_s,
                "lastTimestamp": now_s,
                "count": 1,
                "type": type_.as_str(),
                "eventTime": null,
                "reportingComponent": self.component,
                "reportingInstance": host,
            });
            match self.store.create(
                &Gvr::core("events"),
                Some(ns),
                ev,
                &WriteOptions::manager(&self.manager),
            ) {
                Ok(_) => {
                    st.correlator.created(key, &name, now);
                    return;
                }
                Err(e) if e.is_conflict() || e.reason == crate::sim::Reason::AlreadyExists => {}
                // A namespace being deleted takes no Events (as on a
                // real cluster: the recorder logs and drops them).
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::Clock;
    use crate::sim::storage::kinds::Registry;
    use crate::sim::storage::store::{EVENT_TTL, MAX_EVENTS, StoreOptions};

    fn store(clock: Clock) -> Store {
        let s = Store::new(Registry::with_builtins(), clock, StoreOptions::default());
        s.create(
            &Gvr::core("namespaces"),
            None,
            json!({"metadata": {"name": "app"}}),
            &WriteOptions::default(),
        )
        .unwrap();
        s
    }

    fn pod(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "app", "uid": format!("uid-{name}")}})
    }

    fn events(s: &Store, gvr: &Gvr) -> Vec<Arc<Value>> {
        s.list(gvr, Some("app"), &Default::default()).unwrap().items
    }

    use std::sync::Arc;

    #[test]
    fn durations_print_as_go_does() {
        let ms = Duration::from_millis;
        assert_eq!(go_duration(ms(2500)), "2.5s");
        assert_eq!(go_duration(ms(150)), "150ms");
        assert_eq!(go_duration(ms(63_250)), "1m3.25s");
        assert_eq!(go_duration(Duration::from_secs(600)), "10m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }

    #[tokio::test]
    async fn repeats_count_into_one_event_served_at_both_versions() {
        let clock = Clock::simulated("2026-03-01T09:00:00Z".parse().unwrap());
        let s = store(clock.clone());
        let r = Recorder::new(s.clone(), "kubelet", "kubelet");
        let p = pod("web-1");
        r.record_on(
            "node-1",
            About::container(&p, "spec.containers{app}"),
            EventType::Warning,
            "BackOff",
            "Back-off",
        );
        drop(clock.sleep(Duration::from_secs(30)).await);
        r.record_on(
            "node-1",
            About::container(&p, "spec.containers{app}"),
            EventType::Warning,
            "BackOff",
            "Back-off",
        );
        let core = events(&s, &Gvr::core("events"));
        assert_eq!(core.len(), 1, "{core:?}");
        let e = &core[0];
        assert_eq!(e["count"], 2);
        assert_eq!(e["firstTimestamp"], "2026-03-01T09:00:00Z");
        assert_eq!(e["lastTimestamp"], "2026-03-01T09:00:30Z");
        assert_eq!(
            e["source"],
            json!({"component": "kubelet", "host": "node-1"})
        );
        assert_eq!(e["involvedObject"]["fieldPath"], "spec.containers{app}");
        assert!(
            e["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("web-1.")
        );
        let v1 = events(&s, &Gvr::new("events.k8s.io", "v1", "events"));
        assert_eq!(v1.len(), 1);
        assert_eq!(v1[0]["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v1[0]["regarding"]["name"], "web-1");
        assert_eq!(v1[0]["note"], "Back-off");
        assert_eq!(v1[0]["deprecatedCount"], 2);
        assert_eq!(v1[0]["reportingController"], "kubelet");
        assert_eq!(
            v1[0]["metadata"]["resourceVersion"],
            e["metadata"]["resourceVersion"]
        );
    }

    #[tokio::test]
    async fn events_expire_after_the_ttl_of_simulated_time() {
        let clock = Clock::simulated("2026-03-01T09:00:00Z".parse().unwrap());
        let s = store(clock.clone());
        let r = Recorder::new(s.clone(), "replicaset-controller", "kcm");
        r.record(
            About::object(&pod("old")),
            EventType::Normal,
            "SuccessfulCreate",
            "Created pod: old",
        );
        drop(clock.sleep(EVENT_TTL - Duration::from_secs(60)).await);
        r.record(
            About::object(&pod("new")),
            EventType::Normal,
            "SuccessfulCreate",
            "Created pod: new",
        );
        assert_eq!(
            events(&s, &Gvr::core("events")).len(),
            2,
            "nothing has expired yet"
        );
        drop(clock.sleep(Duration::from_secs(61)).await);
        r.record(
            About::object(&pod("newest")),
            EventType::Normal,
            "SuccessfulCreate",
            "Created pod: newest",
        );
        let names: Vec<String> = events(&s, &Gvr::core("events"))
            .iter()
            .map(|e| e["involvedObject"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["new", "newest"], "the hour-old Event is gone");
    }

    #[tokio::test]
    async fn a_cluster_keeps_at_most_max_events() {
        let clock = Clock::simulated("2026-03-01T09:00:00Z".parse().unwrap());
        let s = store(clock.clone());
        let r = Recorder::new(s.clone(), "kubelet", "kubelet");
        for i in 0..MAX_EVENTS + 5 {
            r.record(
                About::object(&pod(&format!("p{i}"))),
                EventType::Normal,
                "Started",
                "Started container app",
            );
        }
        let all = events(&s, &Gvr::core("events"));
        assert_eq!(all.len(), MAX_EVENTS);
        assert!(
            !all.iter().any(|e| e["involvedObject"]["name"] == "p0"),
            "the oldest go first"
        );
    }
}
