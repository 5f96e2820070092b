//! Lifecycle stages: the simulated kubelet and node lifecycle as data, in
//! the spirit of kwok's `Stage` objects.
//!
//! A [`Stage`] is a selector over an object (its kind and expressions on its
//! fields or on facts the simulator knows, `sim.*`), a delay (a sum of
//! [`DelayTerm`]s: profile latencies with seeded jitter, or delays computed
//! from the object such as `initialDelaySeconds` or a back-off), a weight
//! used when several stages match, and the [`Next`] transition that writes
//! the object's next state. The defaults (`stages/default.yaml`, embedded)
//! move Pods through sandbox, image pull, start, readiness, completion,
//! crash loops and eviction, and Nodes through Ready and Unknown.
//!
//! Transitions are a closed set implemented by the controllers; the data
//! decides *when* each happens and to which objects. The default stages'
//! selectors are mutually exclusive, so their weights never come into
//! play; a custom stage file ([`Stages::parse`], passed in
//! [`crate::sim::workloads::controllers::ControllerConfig::stages`]) can offer
//! alternatives (say, a pod that crashes one time in ten), chosen per object
//! from the seed.

mod path;

use serde::Deserialize;
use serde_json::Value;

pub use self::path::FieldPath;
use super::jitter::Jitter;

/// The stages embedded in gameday.
pub const DEFAULT_STAGES: &str = include_str!("default.yaml");

/// An error in a stage file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not valid YAML for the stage format.
    #[error("stage file is not valid: {0}")]
    Parse(#[source] serde_yaml::Error),
    /// A stage is inconsistent.
    #[error("stage {stage:?}: {problem}")]
    Invalid {
        /// The stage's name.
        stage: String,
        /// What is wrong.
        problem: String,
    },
}

/// Result of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kinds stages apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum StageKind {
    /// `v1/Pod`.
    Pod,
    /// `v1/Node`.
    Node,
}

/// A selector operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Operator {
    /// The key has a value.
    Exists,
    /// The key has no value.
    DoesNotExist,
    /// Some value of the key is one of `values`.
    In,
    /// No value of the key is one of `values` (holds when absent).
    NotIn,
}

/// One selector expression.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpression {
    key: String,
    operator: Operator,
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSelector {
    #[serde(default)]
    match_expressions: Vec<RawExpression>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: String,
    kind: StageKind,
    #[serde(default)]
    selector: RawSelector,
    #[serde(default)]
    delay: Vec<DelayTerm>,
    #[serde(default = "one")]
    weight: u64,
    next: Next,
}

fn one() -> u64 {
    1
}

/// One term of a stage's delay. Profile latencies are jittered per object,
/// stage and attempt; the others are computed by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DelayTerm {
    /// Profile `node_ready`.
    NodeReady,
    /// Profile `pod_sandbox`.
    PodSandbox,
    /// The pod's images on its node: the longest of its pulls (free when
    /// the node has the image, shared with a pull in progress, the
    /// profile's `image_pull` otherwise; `image_pull_failure` for a missing
    /// image).
    ImagePull,
    /// Profile `image_pull_failure`.
    ImagePullFailure,
    /// Profile `container_start`.
    ContainerStart,
    /// The largest `initialDelaySeconds` of the pod's readiness probes, the
    /// wait for the next probe tick (up to `periodSeconds`, when the profile
    /// has `probe_ticks`), and profile `readiness`; zero without probes.
    ReadinessProbe,
    /// Profile `job_run`.
    JobRun,
    /// Profile `crash_after`.
    CrashAfter,
    /// The kubelet re-syncing a pod after an error: 10 s plus up to 50 %
    /// jitter (the kubelet's pod-worker back-off).
    PodResync,
    /// The image-pull back-off after the pod's failed pulls so far.
    ImagePullBackOff,
    /// The crash-loop back-off after the container's restarts so far.
    CrashBackOff,
    /// How long until the node lifecycle controller notices a silent node:
    /// the grace period, minus the time since the kubelet's last report (up
    /// to `node_status_interval`), plus the wait for its next look (up to
    /// `node_monitor_period`).
    NodeMonitorGrace,
    /// Until the pod's toleration of the unreachable taint runs out,
    /// counted from the taint's `timeAdded` (default 300 s; never for pods
    /// that tolerate it without `tolerationSeconds`).
    UnreachableToleration,
}

/// The transition a stage applies (implemented by the controllers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Next {
    /// Pod: sandbox up: `Initialized`, IPs, start time, containers creating.
    Initialize,
    /// Pod: containers of available images running (ready unless probed),
    /// those of missing images `ErrImagePull`.
    Start,
    /// Pod: `ErrImagePull` → `ImagePullBackOff`.
    PullBackOff,
    /// Pod: pull again: `ErrImagePull` if still missing, else creating.
    RetryPull,
    /// Pod: probes pass: containers ready, `Ready=True`.
    Ready,
    /// Pod: containers exit 0, phase `Succeeded`.
    Complete,
    /// Pod: a failing container exits 1 (`CrashLoopBackOff`, or phase
    /// `Failed` with `restartPolicy: Never`).
    Crash,
    /// Pod: a crashed container runs again.
    Restart,
    /// Pod: `Ready=False` because its node is unreachable.
    MarkNotReady,
    /// Pod: deleted by taint-based eviction.
    Evict,
    /// Node: `Ready=True`, not-ready and unreachable taints removed.
    NodeReady,
    /// Node: conditions `Unknown`, unreachable taints added.
    NodeUnreachable,
}

impl Next {
    /// The kind this transition applies to.
    pub fn kind(self) -> StageKind {
        match self {
            Next::NodeReady | Next::NodeUnreachable => StageKind::Node,
            _ => StageKind::Pod,
        }
    }
}

/// One expression of a selector.
#[derive(Debug, Clone)]
pub struct Expression {
    /// The field path, or `sim.<fact>`.
    pub key: FieldPath,
    /// The operator.
    pub operator: Operator,
    /// The operands of `In`/`NotIn`.
    pub values: Vec<String>,
}

impl Expression {
    /// True when the expression holds for the values found at its key.
    pub fn holds(&self, found: &[String]) -> bool {
        match self.operator {
            Operator::Exists => !found.is_empty(),
            Operator::DoesNotExist => found.is_empty(),
            Operator::In => found.iter().any(|f| self.values.contains(f)),
            Operator::NotIn => !found.iter().any(|f| self.values.contains(f)),
        }
    }
}

/// One stage (see the module docs).
#[derive(Debug, Clone)]
pub struct Stage {
    /// Unique name (part of the jitter identity).
    pub name: String,
    /// The kind it applies to.
    pub kind: StageKind,
    /// All must hold.
    pub selector: Vec<Expression>,
    /// Summed.
    pub delay: Vec<DelayTerm>,
    /// Relative weight among matching stages (0: never chosen).
    pub weight: u64,
    /// The transition.
    pub next: Next,
}

/// The simulator's facts about an object (`sim.*` keys): given the fact's
/// name, its values.
pub trait Facts {
    /// The values of fact `name` (`kubelet`, `images`, `nodeUnreachable`).
    fn fact(&self, name: &str) -> Vec<String>;
}

/// Facts known names.
pub const FACTS: [&str; 3] = ["kubelet", "images", "nodeUnreachable"];

impl Stage {
    /// True when every expression holds for `obj`.
    pub fn matches(&self, obj: &Value, facts: &dyn Facts) -> bool {
        self.selector.iter().all(|e| {
            let found = if e.key.root() == Some("sim") {
                facts.fact(&e.key.rest())
            } else {
                e.key.values(obj)
            };
            e.holds(&found)
        })
    }
}

/// An ordered set of stages.
#[derive(Debug, Clone)]
pub struct Stages {
    stages: Vec<Stage>,
}

impl Stages {
    /// The embedded default stages.
    ///
    /// # Panics
    /// Never in a released build: the embedded file is checked by a unit
    /// test.
    pub fn defaults() -> Stages {
        match Stages::parse(DEFAULT_STAGES) {
            Ok(s) => s,
            Err(e) => panic!("the embedded default stages are invalid: {e}"),
        }
    }

    /// Parses a stage file (a YAML list of stages).
    ///
    /// # Errors
    /// Invalid YAML, unknown fields, duplicate names, bad field paths,
    /// unknown `sim.*` facts, a transition for another kind, `In`/`NotIn`
    /// without values.
    pub fn parse(yaml: &str) -> Result<Stages> {
        let raw: Vec<RawStage> = serde_yaml::from_str(yaml).map_err(Error::Parse)?;
        let mut stages: Vec<Stage> = Vec::with_capacity(raw.len());
        for r in raw {
            let invalid = |problem: String| Error::Invalid {
                stage: r.name.clone(),
                problem,
            };
            if stages.iter().any(|s| s.name == r.name) {
                return Err(invalid("the name is used twice".into()));
            }
            if r.next.kind() != r.kind {
                return Err(invalid(format!(
                    "transition {:?} does not apply to {:?}",
                    r.next, r.kind
                )));
            }
            let mut selector = Vec::new();
            for e in &r.selector.match_expressions {
                let key = FieldPath::parse(&e.key).map_err(&invalid)?;
                if key.root() == Some("sim") && !FACTS.contains(&key.rest().as_str()) {
                    return Err(invalid(format!(
                        "unknown fact {:?}; known: {}",
                        e.key,
                        FACTS.join(", ")
                    )));
                }
                let needs_values = matches!(e.operator, Operator::In | Operator::NotIn);
                if needs_values == e.values.is_empty() {
                    return Err(invalid(format!(
                        "{:?} on {:?}: In and NotIn need values, Exists and DoesNotExist take none",
                        e.operator, e.key
                    )));
                }
                selector.push(Expression {
                    key,
                    operator: e.operator,
                    values: e.values.clone(),
                });
            }
            stages.push(Stage {
                name: r.name,
                kind: r.kind,
                selector,
                delay: r.delay,
                weight: r.weight,
                next: r.next,
            });
        }
        Ok(Stages { stages })
    }

    /// Every stage, in file order.
    pub fn all(&self) -> &[Stage] {
        &self.stages
    }

    /// The stage named `name`.
    pub fn get(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The stage that applies to `obj` now: among the matching stages of
    /// `kind`, one chosen by weight with `jitter` from the object's
    /// `identity` and `attempt` (so the choice is the same in every run with
    /// the same seed). None when nothing matches.
    pub fn select(
        &self,
        kind: StageKind,
        obj: &Value,
        facts: &dyn Facts,
        jitter: &Jitter,
        identity: &str,
        attempt: u64,
    ) -> Option<&Stage> {
        let matching: Vec<&Stage> = self
            .stages
            .iter()
            .filter(|s| s.kind == kind && s.matches(obj, facts))
            .collect();
        match matching.len() {
            0 => None,
            1 => matching.first().copied().filter(|s| s.weight > 0),
            _ => {
                let weights: Vec<u64> = matching.iter().map(|s| s.weight).collect();
                let names: Vec<&str> = matching.iter().map(|s| s.name.as_str()).collect();
                let mut parts = vec![identity, "choose"];
                parts.extend(names);
                jitter
                    .pick(&weights, &parts, attempt)
                    .and_then(|i| matching.get(i).copied())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    struct F(&'static str, &'static [&'static str], bool);
    impl Facts for F {
        fn fact(&self, name: &str) -> Vec<String> {
            match name {
                "kubelet" => vec![self.0.to_owned()],
                "images" => self.1.iter().map(|s| (*s).to_owned()).collect(),
                "nodeUnreachable" if self.2 => vec!["true".into()],
                _ => vec![],
            }
        }
    }
    const UP: F = F("running", &["Available"], false);

    fn pick(obj: &Value, facts: &F) -> Option<String> {
        Stages::defaults()
            .select(StageKind::Pod, obj, facts, &Jitter::new(1), "ns/p", 0)
            .map(|s| s.name.clone())
    }

    #[test]
    fn defaults_parse_and_cover_both_kinds() {
        let s = Stages::defaults();
        assert!(s.all().iter().any(|s| s.kind == StageKind::Node));
        assert!(s.get("pod-ready").is_some());
    }

    #[test]
    fn a_pod_moves_through_the_default_stages() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Always"}});
        assert_eq!(
            pick(&pod, &UP),
            None,
            "unscheduled pods belong to the scheduler"
        );
        pod["spec"]["nodeName"] = json!("n1");
        assert_eq!(pick(&pod, &UP).as_deref(), Some("pod-initialize"));
        assert_eq!(
            pick(&pod, &F("stopped", &[], false)),
            None,
            "a dead kubelet does nothing"
        );
        pod["status"] = json!({"phase": "Pending", "conditions": [{"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]});
        assert_eq!(pick(&pod, &UP).as_deref(), Some("pod-start"));
        pod["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "ErrImagePull"}});
        assert_eq!(
            pick(&pod, &F("running", &["Missing"], false)).as_deref(),
            Some("pod-image-back-off")
        );
        pod["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "ImagePullBackOff"}});
        assert_eq!(
            pick(&pod, &F("running", &["Missing"], false)).as_deref(),
            Some("pod-image-retry")
        );
        pod["status"]["phase"] = json!("Running");
        pod["status"]["containerStatuses"][0]["state"] = json!({"running": {"startedAt": "t"}});
        assert_eq!(pick(&pod, &UP).as_deref(), Some("pod-ready"));
        pod["status"]["conditions"][1]["status"] = json!("True");
        assert_eq!(pick(&pod, &UP), None, "a ready pod of a Deployment stays");
        pod["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(pick(&pod, &UP).as_deref(), Some("pod-complete"));
        assert_eq!(
            pick(&pod, &F("stopped", &["Available"], true)).as_deref(),
            Some("pod-mark-not-ready")
        );
        pod["status"]["conditions"][1]["status"] = json!("False");
        assert_eq!(
            pick(&pod, &F("stopped", &["Available"], true)).as_deref(),
            Some("pod-evict")
        );
    }

    #[test]
    fn weights_choose_among_matching_stages() {
        let yaml = r#"
- {name: a, kind: Node, delay: [nodeReady], weight: 1, next: nodeReady}
- {name: b, kind: Node, delay: [nodeReady], weight: 3, next: nodeUnreachable}
- {name: never, kind: Node, weight: 0, next: nodeReady}
"#;
        let s = Stages::parse(yaml).unwrap();
        let j = Jitter::new(9);
        let picks: Vec<String> = (0..400)
            .map(|i| {
                s.select(StageKind::Node, &json!({}), &UP, &j, "n", i)
                    .unwrap()
                    .name
                    .clone()
            })
            .collect();
        let a = picks.iter().filter(|n| *n == "a").count();
        assert!((50..150).contains(&a), "{a}");
        assert!(!picks.iter().any(|n| n == "never"));
        // Same identity and attempt: same choice.
        let again = s
            .select(StageKind::Node, &json!({}), &UP, &j, "n", 3)
            .unwrap();
        assert_eq!(again.name, picks[3]);
    }

    #[test]
    fn invalid_stage_files_are_rejected_with_the_stage_named() {
        let bad = [
            ("- {name: x, kind: Pod, next: nodeReady}", "does not apply"),
            (
                "- {name: x, kind: Pod, next: ready, selector: {matchExpressions: [{key: sim.nope, operator: Exists}]}}",
                "unknown fact",
            ),
            (
                "- {name: x, kind: Pod, next: ready, selector: {matchExpressions: [{key: a, operator: In}]}}",
                "need values",
            ),
            (
                "- {name: x, kind: Pod, next: ready}\n- {name: x, kind: Pod, next: ready}",
                "twice",
            ),
            (
                "- {name: x, kind: Pod, next: ready, delay: [forever]}",
                "forever",
            ),
        ];
        for (yaml, want) in bad {
            let err = Stages::parse(yaml).unwrap_err().to_string();
            let chain = match Stages::parse(yaml).unwrap_err() {
                Error::Parse(e) => e.to_string(),
                other => other.to_string(),
            };
            assert!(err.contains(want) || chain.contains(want), "{yaml}: {err}");
        }
    }
}
