//! Latency profiles: how long the simulated cluster takes to do things.
//!
//! A [`Profile`] is plain data: one [`Latency`] (a uniform range) per step of
//! a workload's life, the Kubernetes timeouts that drive node-loss handling
//! and back-offs, the node shape, and the image patterns the simulated
//! registry lacks or whose containers crash. Every latency is **simulated
//! time**: the controllers sleep on [`crate::clock::Clock`], and each sample
//! is drawn with [`super::jitter::Jitter`] from the seed and the identity of
//! what is delayed, so a seed always gives the same durations.
//!
//! Three profiles are built in ([`Profile::instant`], [`Profile::kind`],
//! [`Profile::eks`]); [`ProfileBuilder`] derives others. Where a number comes
//! from is written on it; "estimate" marks numbers no public measurement
//! pins down, with the reasoning.
//!
//! The Kubernetes timeouts (node-monitor grace period, the 300 s
//! not-ready/unreachable toleration, the kubelet's 10 s → 5 min back-offs,
//! a Deployment's `progressDeadlineSeconds`) are *behaviour*, not latency:
//! every profile, `instant` included, keeps the upstream defaults.

use std::time::Duration;

use super::jitter::Jitter;
use crate::scenario::model::SimProfile;

/// A latency: uniformly distributed in `[min, max]` (a jittered sample, see
/// [`Jitter::sample`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Latency {
    /// The shortest sample.
    pub min: Duration,
    /// The longest sample.
    pub max: Duration,
}

impl Latency {
    /// No delay at all.
    pub const ZERO: Latency = Latency {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    /// Always exactly `d`.
    pub const fn fixed(d: Duration) -> Latency {
        Latency { min: d, max: d }
    }

    /// Uniform between `a` and `b` (in either order).
    pub fn between(a: Duration, b: Duration) -> Latency {
        Latency {
            min: a.min(b),
            max: a.max(b),
        }
    }

    /// Uniform between `a` and `b` seconds.
    pub fn secs(a: f64, b: f64) -> Latency {
        let d = |s: f64| Duration::from_secs_f64(s.max(0.0));
        Latency::between(d(a), d(b))
    }

    /// Uniform between `a` and `b` milliseconds.
    pub fn millis(a: u64, b: u64) -> Latency {
        Latency::between(Duration::from_millis(a), Duration::from_millis(b))
    }

    /// The sample at `u` ∈ [0, 1), rounded to whole milliseconds so that
    /// durations print and compare cleanly.
    pub fn at(self, u: f64) -> Duration {
        let span = self.max.saturating_sub(self.min);
        let d = self.min + span.mul_f64(u.clamp(0.0, 1.0));
        Duration::from_millis(d.as_millis().min(u128::from(u64::MAX)) as u64)
    }

    /// The midpoint (for documentation and estimates).
    pub fn typical(self) -> Duration {
        self.min + self.max.saturating_sub(self.min) / 2
    }
}

/// An exponential back-off: `initial`, doubled per failure, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first failure.
    pub initial: Duration,
    /// The cap.
    pub max: Duration,
}

impl Backoff {
    /// The kubelet's image-pull and crash-loop back-off: 10 s doubling to
    /// 5 min ("Kubernetes raises the delay between each attempt until it
    /// reaches a compiled-in limit, which is 300 seconds", kubernetes.io
    /// docs, *Images → ImagePullBackOff* and *Pod lifecycle → container
    /// restarts*).
    pub const KUBELET: Backoff = Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(300),
    };

    /// The delay after `failures` failures (1 → `initial`).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.initial.saturating_mul(1u32 << doublings).min(self.max)
    }
}

/// What each simulated node reports as capacity (and allocatable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeShape {
    /// `cpu` quantity, e.g. `"8"`.
    pub cpu: String,
    /// `memory` quantity, e.g. `"16Gi"`.
    pub memory: String,
    /// `ephemeral-storage` quantity.
    pub ephemeral_storage: String,
    /// `pods`: the scheduler never puts more pods on a node.
    pub pods: u32,
}

/// The latencies and timeouts of one kind of cluster. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile's name (`instant`, `kind`, `eks`, or a custom one).
    pub name: String,
    /// Creating the cluster up to an answering API server with one node
    /// (what the sim provider waits on its clock before serving).
    pub cluster_create: Latency,
    /// Extra creation time per node beyond the first.
    pub cluster_create_per_node: Latency,
    /// Deleting the cluster.
    pub cluster_delete: Latency,
    /// From a node's registration (or its kubelet's restart) to `Ready=True`.
    pub node_ready: Latency,
    /// From a pod's creation to its binding by the scheduler.
    pub schedule: Latency,
    /// From binding to a running pod sandbox with an IP (`Initialized`).
    pub pod_sandbox: Latency,
    /// Pulling one image onto one node; later pulls of the same image on
    /// that node are free (the node caches it).
    pub image_pull: Latency,
    /// How long a pull of an image the registry lacks takes to fail.
    pub image_pull_failure: Latency,
    /// From pulled images to running containers.
    pub container_start: Latency,
    /// From the first due readiness probe to `Ready=True` (the kubelet's
    /// status update). The probe's `initialDelaySeconds` always counts.
    pub readiness: Latency,
    /// Whether the first readiness probe waits for a probe tick: the
    /// kubelet probes every `periodSeconds` (default 10), so readiness lands
    /// up to one period after `initialDelaySeconds`.
    pub probe_ticks: bool,
    /// How long a Job's container runs before it succeeds.
    pub job_run: Latency,
    /// How long a container of a failing image runs before it exits 1.
    pub crash_after: Latency,
    /// `--node-monitor-grace-period` of kube-controller-manager: how long a
    /// node may stay silent before its `Ready` condition goes `Unknown`.
    pub node_monitor_grace: Duration,
    /// How often a kubelet reports (renews its Lease): a lost node's last
    /// report lies up to this long before the loss.
    pub node_status_interval: Duration,
    /// `--node-monitor-period`: how often the node lifecycle controller looks.
    pub node_monitor_period: Duration,
    /// The `tolerationSeconds` the DefaultTolerationSeconds admission plugin
    /// gives every pod for `node.kubernetes.io/not-ready` and
    /// `node.kubernetes.io/unreachable`: how long pods stay on a lost node.
    pub unreachable_toleration: Duration,
    /// The kubelet's image-pull back-off.
    pub image_pull_backoff: Backoff,
    /// The kubelet's crash-loop back-off.
    pub crash_backoff: Backoff,
    /// Images the simulated registry does not have (glob-like patterns:
    /// `*` matches any run of characters, e.g. `*:broken`,
    /// `registry.invalid/*`): pulls fail with `ErrImagePull`.
    pub missing_images: Vec<String>,
    /// Images whose containers start and then exit with code 1
    /// (`CrashLoopBackOff`, or a failed Job pod).
    pub failing_images: Vec<String>,
    /// Node capacity.
    pub node_shape: NodeShape,
}

/// Default `missing_images`.
pub const DEFAULT_MISSING: [&str; 2] = ["*:broken", "*:does-not-exist"];
/// Default `failing_images`.
pub const DEFAULT_FAILING: [&str; 1] = ["*:crashloop"];

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl Profile {
    /// No latency anywhere: for tests and benchmarks. The Kubernetes
    /// timeouts keep their defaults (see the module docs).
    pub fn instant() -> Profile {
        Profile {
            name: "instant".into(),
            cluster_create: Latency::ZERO,
            cluster_create_per_node: Latency::ZERO,
            cluster_delete: Latency::ZERO,
            node_ready: Latency::ZERO,
            schedule: Latency::ZERO,
            pod_sandbox: Latency::ZERO,
            image_pull: Latency::ZERO,
            image_pull_failure: Latency::ZERO,
            container_start: Latency::ZERO,
            readiness: Latency::ZERO,
            probe_ticks: false,
            job_run: Latency::ZERO,
            crash_after: Latency::ZERO,
            // kubernetes/kubernetes#126287: 50 s since v1.32 (40 s before).
            node_monitor_grace: secs(50),
            // kubelet nodeLease renew interval / nodeStatusUpdateFrequency.
            node_status_interval: secs(10),
            // kube-controller-manager --node-monitor-period default.
            node_monitor_period: secs(5),
            // DefaultTolerationSeconds admission plugin default.
            unreachable_toleration: secs(300),
            image_pull_backoff: Backoff::KUBELET,
            crash_backoff: Backoff::KUBELET,
            missing_images: DEFAULT_MISSING.iter().map(|s| (*s).to_owned()).collect(),
            failing_images: DEFAULT_FAILING.iter().map(|s| (*s).to_owned()).collect(),
            node_shape: NodeShape {
                cpu: "8".into(),
                memory: "16Gi".into(),
                ephemeral_storage: "100Gi".into(),
                pods: 110,
            },
        }
    }

    /// A kind cluster on a developer machine or CI runner.
    ///
    /// - `cluster_create` 12–17 s: `time kind create cluster` (one node)
    ///   took 12.5 s with kind 0.12 and 17.1 s with 0.14
    ///   (kubernetes-sigs/kind#2893).
    /// - `cluster_create_per_node` 2–5 s: estimate. kind starts the node
    ///   containers and joins the workers concurrently, so an extra node
    ///   mostly adds contention, not a full join.
    /// - `cluster_delete` 1–3 s: estimate (`docker rm -f` of the node
    ///   containers).
    /// - `node_ready` 10–25 s: estimate. `kind create cluster` returns before
    ///   the CNI is up (hence its `--wait` flag); Istio's CI saw
    ///   `--wait` report "Ready after 33s" to "1m3s" on loaded runners
    ///   (kubernetes-sigs/kind#2282).
    /// - `schedule` 5–30 ms: estimate (an idle kube-scheduler binds in
    ///   milliseconds).
    /// - `pod_sandbox` 0.3–1 s, `container_start` 0.3–1 s: estimates, within
    ///   the Kubernetes pod-startup SLO (p99 ≤ 5 s from creation to running
    ///   containers, image pulls excluded; kubernetes/community
    ///   `sig-scalability/slos/pod_startup_latency.md`).
    /// - `image_pull` 2–8 s per image and node: estimate for a 20–50 MB image
    ///   from Docker Hub or GHCR over broadband; kind nodes start with an
    ///   empty image store. (Big images take minutes:
    ///   kubernetes/kubernetes#9452 reports 1–2 min beyond 500 MB.)
    /// - `image_pull_failure` 0.5–2 s: estimate (the registry answers "not
    ///   found" after resolving the reference).
    /// - `readiness` 0–1 s after the probe: estimate (kubelet status sync).
    /// - `job_run` 2–5 s, `crash_after` 0.5–2 s: stand-ins; how long a task
    ///   runs is the workload's business.
    /// - node shape: a typical 8-core, 16 GiB laptop (kind nodes report the
    ///   host's capacity) and the kubelet's default 110 pods.
    pub fn kind() -> Profile {
        Profile {
            name: "kind".into(),
            cluster_create: Latency::secs(12.0, 17.0),
            cluster_create_per_node: Latency::secs(2.0, 5.0),
            cluster_delete: Latency::secs(1.0, 3.0),
            node_ready: Latency::secs(10.0, 25.0),
            schedule: Latency::millis(5, 30),
            pod_sandbox: Latency::secs(0.3, 1.0),
            image_pull: Latency::secs(2.0, 8.0),
            image_pull_failure: Latency::secs(0.5, 2.0),
            container_start: Latency::secs(0.3, 1.0),
            readiness: Latency::secs(0.0, 1.0),
            probe_ticks: true,
            job_run: Latency::secs(2.0, 5.0),
            crash_after: Latency::secs(0.5, 2.0),
            ..Profile::instant()
        }
    }

    /// An Amazon EKS cluster with a managed node group.
    ///
    /// - `cluster_create` 13–16 min: control-plane creation measured in 21
    ///   AWS regions ranged from 793 s (eu-west-2) to about 970 s
    ///   (us-west-1); us-west-2 took 900 s (easontechtalk.com, "Unofficial
    ///   EKS Cluster Creation Performance").
    /// - `cluster_create_per_node` 0: the node group's instances launch in
    ///   parallel; their boot is `node_ready`.
    /// - `cluster_delete` 5–15 min: "generally takes less than 5 mins"
    ///   (vmware-archive/kube-prod-runtime#512) to about 15 min with node
    ///   groups (eksctl-io/eksctl#1651).
    /// - `node_ready` 45–65 s: EC2 boot, bootstrap and join; Outreach measured
    ///   65 s and tuned it to 45 s (KubeFM, "Faster EKS Node and Pod
    ///   Startup", 2026).
    /// - `pod_sandbox` 0.5–2 s: estimate (the VPC CNI assigns a secondary IP
    ///   from its warm pool).
    /// - `image_pull` 3–10 s: estimate for a 20–50 MB image; a 413 MB image
    ///   took 57 s on average through a NAT gateway (elasticscale.com,
    ///   "Reduce AWS Fargate pull times with SOCI").
    /// - the rest as [`Profile::kind`]; node shape of an `m5.large`
    ///   (2 vCPU, 8 GiB, 29 pods: AWS `eni-max-pods.txt`).
    /// - Node-loss timeouts are the upstream defaults: EKS does not expose
    ///   kube-controller-manager flags.
    pub fn eks() -> Profile {
        Profile {
            name: "eks".into(),
            cluster_create: Latency::secs(13.0 * 60.0, 16.0 * 60.0),
            cluster_create_per_node: Latency::ZERO,
            cluster_delete: Latency::secs(5.0 * 60.0, 15.0 * 60.0),
            node_ready: Latency::secs(45.0, 65.0),
            pod_sandbox: Latency::secs(0.5, 2.0),
            image_pull: Latency::secs(3.0, 10.0),
            node_shape: NodeShape {
                cpu: "2".into(),
                memory: "7910Mi".into(),
                ephemeral_storage: "80Gi".into(),
                pods: 29,
            },
            ..Profile::kind()
        }
    }

    /// The built-in profile called `name` (`instant`, `kind`, `eks`).
    pub fn named(name: &str) -> Option<Profile> {
        match name {
            "instant" => Some(Profile::instant()),
            "kind" => Some(Profile::kind()),
            "eks" => Some(Profile::eks()),
            _ => None,
        }
    }

    /// The names [`Profile::named`] knows.
    pub const NAMES: [&'static str; 3] = ["instant", "kind", "eks"];

    /// A builder starting from this profile.
    pub fn to_builder(&self) -> ProfileBuilder {
        ProfileBuilder {
            profile: self.clone(),
        }
    }

    /// The simulated time `gameday` waits for a cluster of `nodes` nodes
    /// named `cluster` to be created (jittered by `seed`).
    pub fn cluster_create_duration(&self, seed: u64, cluster: &str, nodes: u32) -> Duration {
        let j = Jitter::new(seed);
        let mut d = j.sample(self.cluster_create, cluster, "cluster-create", 0);
        for i in 1..u64::from(nodes.max(1)) {
            d += j.sample(
                self.cluster_create_per_node,
                cluster,
                "cluster-create-node",
                i,
            );
        }
        d
    }

    /// The simulated time deleting the cluster named `cluster` takes.
    pub fn cluster_delete_duration(&self, seed: u64, cluster: &str) -> Duration {
        Jitter::new(seed).sample(self.cluster_delete, cluster, "cluster-delete", 0)
    }
}

impl From<SimProfile> for Profile {
    fn from(p: SimProfile) -> Profile {
        match p {
            SimProfile::Instant => Profile::instant(),
            SimProfile::Kind => Profile::kind(),
            SimProfile::Eks => Profile::eks(),
        }
    }
}

/// Derives a profile from another: `Profile::kind().to_builder()
/// .image_pull(Latency::secs(30.0, 60.0)).build()`.
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    profile: Profile,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $field:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $field(mut self, v: $ty) -> Self {
                self.profile.$field = v;
                self
            }
        )*
    };
}

impl ProfileBuilder {
    /// Renames the profile.
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.profile.name);
        self
    }

    setters! {
        /// Sets [`Profile::cluster_create`].
        cluster_create: Latency;
        /// Sets [`Profile::cluster_create_per_node`].
        cluster_create_per_node: Latency;
        /// Sets [`Profile::cluster_delete`].
        cluster_delete: Latency;
        /// Sets [`Profile::node_ready`].
        node_ready: Latency;
        /// Sets [`Profile::schedule`].
        schedule: Latency;
        /// Sets [`Profile::pod_sandbox`].
        pod_sandbox: Latency;
        /// Sets [`Profile::image_pull`].
        image_pull: Latency;
        /// Sets [`Profile::image_pull_failure`].
        image_pull_failure: Latency;
        /// Sets [`Profile::container_start`].
        container_start: Latency;
        /// Sets [`Profile::readiness`].
        readiness: Latency;
        /// Sets [`Profile::probe_ticks`].
        probe_ticks: bool;
        /// Sets [`Profile::job_run`].
        job_run: Latency;
        /// Sets [`Profile::crash_after`].
        crash_after: Latency;
        /// Sets [`Profile::node_monitor_grace`].
        node_monitor_grace: Duration;
        /// Sets [`Profile::node_status_interval`].
        node_status_interval: Duration;
        /// Sets [`Profile::node_monitor_period`].
        node_monitor_period: Duration;
        /// Sets [`Profile::unreachable_toleration`].
        unreachable_toleration: Duration;
        /// Sets [`Profile::image_pull_backoff`].
        image_pull_backoff: Backoff;
        /// Sets [`Profile::crash_backoff`].
        crash_backoff: Backoff;
        /// Sets [`Profile::node_shape`].
        node_shape: NodeShape;
    }

    /// Replaces the missing-image patterns.
    #[must_use]
    pub fn missing_images<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.profile.missing_images = p.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces the failing-image patterns.
    #[must_use]
    pub fn failing_images<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.profile.failing_images = p.into_iter().map(Into::into).collect();
        self
    }

    /// The profile.
    pub fn build(self) -> Profile {
        self.profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instant_has_no_latency_but_keeps_kubernetes_timeouts() {
        let p = Profile::instant();
        for l in [
            p.cluster_create,
            p.node_ready,
            p.schedule,
            p.pod_sandbox,
            p.image_pull,
            p.container_start,
            p.readiness,
        ] {
            assert_eq!(l, Latency::ZERO);
        }
        assert_eq!(p.cluster_create_duration(1, "c", 5), Duration::ZERO);
        assert_eq!(p.node_monitor_grace, secs(50));
        assert_eq!(p.unreachable_toleration, secs(300));
    }

    #[test]
    fn kind_cluster_create_is_in_the_measured_range_and_grows_with_nodes() {
        let p = Profile::kind();
        let one = p.cluster_create_duration(7, "gameday-x", 1);
        assert!(one >= secs(12) && one <= secs(17), "{one:?}");
        let three = p.cluster_create_duration(7, "gameday-x", 3);
        assert!(three >= one + secs(4) && three <= one + secs(10));
        assert_eq!(three, p.cluster_create_duration(7, "gameday-x", 3));
        assert_ne!(three, p.cluster_create_duration(8, "gameday-x", 3));
    }

    #[test]
    fn eks_is_slow_to_provision() {
        let p = Profile::eks();
        assert_eq!(p.name, "eks");
        assert!(p.cluster_create_duration(1, "c", 3) >= secs(13 * 60));
        assert!(p.cluster_delete_duration(1, "c") >= secs(5 * 60));
        assert_eq!(p.node_shape.pods, 29);
    }

    #[test]
    fn scenario_profiles_map_to_profiles() {
        assert_eq!(Profile::from(SimProfile::Instant).name, "instant");
        assert_eq!(Profile::from(SimProfile::Kind).name, "kind");
        assert_eq!(Profile::from(SimProfile::Eks).name, "eks");
        for n in Profile::NAMES {
            assert_eq!(Profile::named(n).unwrap().name, n);
        }
        assert!(Profile::named("gke").is_none());
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let b = Backoff::KUBELET;
        let got: Vec<u64> = (1..=7).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(got, vec![10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(b.delay(1000), secs(300));
    }

    #[test]
    fn builder_overrides_fields() {
        let p = Profile::kind()
            .to_builder()
            .name("slow-registry")
            .image_pull(Latency::secs(30.0, 60.0))
            .missing_images(["registry.invalid/*"])
            .build();
        assert_eq!(p.name, "slow-registry");
        assert_eq!(p.image_pull.min, secs(30));
        assert_eq!(p.missing_images, vec!["registry.invalid/*".to_owned()]);
        assert_eq!(p.node_ready, Profile::kind().node_ready);
    }

    #[test]
    fn latency_samples_are_whole_milliseconds() {
        let l = Latency::secs(1.0, 2.0);
        assert_eq!(l.at(0.0), secs(1));
        assert_eq!(l.at(0.5).subsec_nanos() % 1_000_000, 0);
        assert_eq!(l.typical(), Duration::from_millis(1500));
    }
}
