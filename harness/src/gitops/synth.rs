//! Synthetic GitOps repositories of any size, for tests and benchmarks.
//!
//! [`generate`] writes a tree laid out as a Flux repository:
//!
//! ```text
//! clusters/<cluster>/namespaces.yaml     the Namespaces
//! clusters/<cluster>/ks-0000.yaml        one Flux Kustomization per app (K > 0)
//! apps/app-0000/objects-000.yaml          the app's objects, 100 per file
//! ```
//!
//! With `helm_releases: H`, the last H apps are Helm releases instead:
//! `clusters/<cluster>/hr-N.yaml` is a `HelmRelease` whose chart is the
//! app's folder, made a chart (`apps/app-N/Chart.yaml`, the same object
//! files under `templates/`), from the `flux-system` GitRepository — the
//! same objects, installed by Helm instead of applied by kustomize.
//!
//! With `kustomizations: 0`, the objects go under `clusters/<cluster>/objects/`
//! instead, so rendering the root path gives everything (for `direct`
//! bootstraps). Kustomization `ks-N` has `path: ./apps/app-N`,
//! `sourceRef: {kind: GitRepository, name: flux-system}` (the names
//! `flux bootstrap` uses) and `prune: true`.
//!
//! Object kinds follow [`Mix`] weights, interleaved deterministically
//! (smooth weighted round robin), and objects are spread over the
//! namespaces round robin: the same spec always writes the same bytes.
//! [`SynthSpec::flux_benchmark`] gives the shape of fluxcd/flux-benchmark:
//! K apps of four objects (a Deployment scaled to zero, a ServiceAccount, a
//! Service and an Ingress).
//!
//! Make the tree a repository with [`crate::gitops::repo::Repo::init`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Objects written per file.
const PER_FILE: usize = 100;

/// Image of generated Deployments.
pub const IMAGE: &str = "ghcr.io/stefanprodan/podinfo:6.7.1";

/// Relative weights of the object kinds (default: ConfigMaps only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    /// Weight of ConfigMaps.
    pub config_maps: u32,
    /// Weight of Secrets.
    pub secrets: u32,
    /// Weight of Services.
    pub services: u32,
    /// Weight of Deployments.
    pub deployments: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            config_maps: 1,
            secrets: 0,
            services: 0,
            deployments: 0,
        }
    }
}

/// The shape of the objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `objects` objects in the [`Mix`] proportions, spread over the apps.
    Mix(Mix),
    /// Per app: a Deployment (0 replicas), a ServiceAccount, a Service and
    /// an Ingress, all named `app-N`, as in fluxcd/flux-benchmark.
    FluxBenchmark,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSpec {
    /// Number of objects (Namespaces and Kustomizations not counted).
    /// Ignored by [`Shape::FluxBenchmark`], which makes four per app.
    pub objects: usize,
    /// Number of namespaces `synth-0`, `synth-1`… (at least 1).
    pub namespaces: usize,
    /// Number of Flux Kustomizations (apps); 0 puts every object in the
    /// cluster path.
    pub kustomizations: usize,
    /// The kinds of the objects.
    pub shape: Shape,
    /// The cluster folder name (`clusters/<cluster>`).
    pub cluster: String,
    /// Replicas of generated Deployments (not flux-benchmark's, always 0).
    pub replicas: u32,
    /// Bytes of payload in each ConfigMap and Secret.
    pub payload_bytes: usize,
    /// `spec.wait` of the Kustomizations.
    pub wait: bool,
    /// `spec.interval` of the Kustomizations.
    pub interval: String,
    /// How many of the apps (the last ones) are HelmReleases of a chart
    /// in Git rather than Kustomizations (at most `kustomizations`).
    pub helm_releases: usize,
}

impl Default for SynthSpec {
    fn default() -> Self {
        SynthSpec {
            objects: 100,
            namespaces: 1,
            kustomizations: 0,
            shape: Shape::Mix(Mix::default()),
            cluster: "synth".into(),
            replicas: 1,
            payload_bytes: 64,
            wait: true,
            interval: "10m".into(),
            helm_releases: 0,
        }
    }
}

impl SynthSpec {
    /// `objects` ConfigMaps over `kustomizations` Kustomizations, one namespace.
    pub fn config_maps(objects: usize, kustomizations: usize) -> Self {
        SynthSpec {
            objects,
            kustomizations,
            ..SynthSpec::default()
        }
    }

    /// The fluxcd/flux-benchmark shape with `apps` Kustomizations.
    pub fn flux_benchmark(apps: usize) -> Self {
        SynthSpec {
            objects: apps * 4,
            kustomizations: apps,
            shape: Shape::FluxBenchmark,
            ..SynthSpec::default()
        }
    }

    /// The shape of the scale drills (`gameday synth`, the `drill_scale`
    /// bench): `objects` objects, 60 % ConfigMaps, 20 % Secrets, 15 %
    /// Services and 5 % Deployments of one replica, in `objects / 100`
    /// Kustomizations (at least 1) over 10 namespaces, 50 above 10,000
    /// objects.
    pub fn scale(objects: usize) -> Self {
        SynthSpec {
            objects,
            namespaces: if objects > 10_000 { 50 } else { 10 },
            kustomizations: (objects / 100).max(1),
            shape: Shape::Mix(Mix {
                config_maps: 60,
                secrets: 20,
                services: 15,
                deployments: 5,
            }),
            replicas: 1,
            ..SynthSpec::default()
        }
    }

    /// The cluster path, as a Kustomization's `spec.path` (`clusters/<cluster>`).
    pub fn cluster_path(&self) -> String {
        format!("clusters/{}", self.cluster)
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The cluster path (render it, or point the root Kustomization at it).
    pub cluster_path: String,
    /// The namespaces created.
    pub namespaces: Vec<String>,
    /// `(name, path)` of each Kustomization, all in namespace `flux-system`.
    pub kustomizations: Vec<(String, String)>,
    /// `(name, chart path)` of each HelmRelease, all in `flux-system`.
    pub helm_releases: Vec<(String, String)>,
    /// Objects per kind (Namespaces and Kustomizations not included).
    pub by_kind: BTreeMap<String, usize>,
    /// Total objects (Namespaces and Kustomizations not included).
    pub objects: usize,
    /// Files written.
    pub files: usize,
}

/// Writes the repository tree described by `spec` into `dir` (created if
/// missing; existing files with the same names are overwritten).
///
/// # Errors
/// An I/O error naming the file that could not be written.
pub fn generate(dir: &Path, spec: &SynthSpec) -> std::io::Result<Summary> {
    let namespaces: Vec<String> = (0..spec.namespaces.max(1))
        .map(|i| format!("synth-{i}"))
        .collect();
    let cluster_path = spec.cluster_path();
    let apps = spec.kustomizations;
    let mut summary = Summary {
        cluster_path: cluster_path.clone(),
        namespaces: namespaces.clone(),
        kustomizations: Vec::new(),
        helm_releases: Vec::new(),
        by_kind: BTreeMap::new(),
        objects: 0,
        files: 0,
    };
    let mut writer = Writer {
        root: dir,
        files: 0,
    };

    let mut ns_yaml = String::new();
    for ns in &namespaces {
        let _ = write!(
            ns_yaml,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
        );
    }
    writer.write(&format!("{cluster_path}/namespaces.yaml"), &ns_yaml)?;

    let width = digits(apps.max(1));
    let first_release = apps - spec.helm_releases.min(apps);
    let is_release = |k: usize| k >= first_release;
    for k in 0..apps {
        let name = format!("app-{k:0width$}");
        let path = format!("./apps/{name}");
        if is_release(k) {
            let yaml = format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: flux-system\n\
                 spec:\n  interval: {interval}\n  timeout: 5m\n  chart:\n    spec:\n      chart: {path}\n\
                 \x20     sourceRef:\n        kind: GitRepository\n        name: flux-system\n",
                interval = spec.interval,
            );
            writer.write(&format!("{cluster_path}/hr-{k:0width$}.yaml"), &yaml)?;
            writer.write(
                &format!("apps/{name}/Chart.yaml"),
                &format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\ndescription: synthetic app {k}, its objects as a chart\n"),
            )?;
            summary.helm_releases.push((name, path));
            continue;
        }
        let yaml = format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\n\
             spec:\n  interval: {interval}\n  path: {path}\n  prune: true\n  wait: {wait}\n  timeout: 5m\n\
             \x20 sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
            interval = spec.interval,
            wait = spec.wait,
        );
        writer.write(&format!("{cluster_path}/ks-{k:0width$}.yaml"), &yaml)?;
        summary.kustomizations.push((name, path));
    }

    // Where each object goes: app k (its chart's templates when it is a
    // HelmRelease), or the cluster path when K = 0.
    let folder = |app: usize| -> String {
        if apps == 0 {
            format!("{cluster_path}/objects")
        } else if is_release(app) {
            format!("apps/app-{app:0width$}/templates")
        } else {
            format!("apps/app-{app:0width$}")
        }
    };
    match spec.shape {
        Shape::FluxBenchmark => {
            for k in 0..apps {
                let name = format!("app-{k:0width$}");
                let ns = &namespaces[k % namespaces.len()];
                let mut text = String::new();
                flux_benchmark_app(&mut text, &name, ns);
                writer.write(&format!("{}/objects-000.yaml", folder(k)), &text)?;
                for kind in ["Deployment", "ServiceAccount", "Service", "Ingress"] {
                    *summary.by_kind.entry(kind.into()).or_default() += 1;
                }
                summary.objects += 4;
            }
        }
        Shape::Mix(mix) => {
            let kinds = interleave(mix, spec.objects);
            let groups = apps.max(1);
            let owidth = digits(spec.objects.max(1));
            // Objects are dealt to apps in contiguous runs, so each app gets
            // objects.len()/K (the first ones one more).
            let mut start = 0;
            for g in 0..groups {
                let count = spec.objects / groups + usize::from(g < spec.objects % groups);
                let ids: Vec<usize> = (start..start + count).collect();
                start += count;
                for (f, chunk) in ids.chunks(PER_FILE).enumerate() {
                    let mut text = String::new();
                    for &i in chunk {
                        let ns = &namespaces[i % namespaces.len()];
                        let kind = kinds[i];
                        object(&mut text, kind, i, owidth, ns, spec);
                        *summary.by_kind.entry(kind.name().into()).or_default() += 1;
                        summary.objects += 1;
                    }
                    writer.write(&format!("{}/objects-{f:03}.yaml", folder(g)), &text)?;
                }
            }
        }
    }
    summary.files = writer.files;
    Ok(summary)
}

/// Simulated nodes for what [`generate`] wrote with `replicas` per
/// Deployment: one per 80 pods (a node takes 110), at least 6.
#[must_use]
pub fn nodes_for(summary: &Summary, replicas: u32) -> u32 {
    let deployments = summary.by_kind.get("Deployment").copied().unwrap_or(0);
    let pods = deployments.saturating_mul(usize::try_from(replicas).unwrap_or(usize::MAX));
    u32::try_from(pods / 80).unwrap_or(u32::MAX).clamp(6, 5000)
}

/// How a `cluster-loss` scenario for a generated repository runs
/// ([`scenario`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioSpec {
    /// `metadata.name`.
    pub name: String,
    /// `spec.source.fixture`: the repository folder, as the scenario file
    /// should name it (relative to the scenario file, or absolute).
    pub fixture: String,
    /// Simulated nodes.
    pub nodes: u32,
    /// The simulator's seed.
    pub seed: u64,
}

/// The `cluster-loss` scenario of a repository [`generate`] wrote: the
/// simulator with the `instant` profile, a Flux bootstrap, every
/// Kustomization Ready and every workload of the generated namespaces
/// ready before and after, the whole cluster lost and rebuilt from Git.
/// The RTO (1 h) is there to be reached; the figures are the point.
#[must_use]
pub fn scenario(summary: &Summary, spec: &ScenarioSpec) -> String {
    let objects = summary.objects;
    let namespaces = summary.namespaces.join(", ");
    format!(
        "# Written by `gameday synth`: {objects} objects in {ks} Flux Kustomizations and {hr} HelmReleases over {ns} namespaces.
apiVersion: gameday/v1alpha1
kind: Scenario
metadata:
  name: {name}
  description: The whole cluster is lost; {objects} objects come back from Git.
spec:
  cluster:
    provider: sim
    sim: {{ profile: instant, nodes: {nodes}, seed: {seed} }}
  source:
    fixture: {fixture}
    branch: main
    path: {path}
  bootstrap:
    method: flux
  steadyState:
    timeout: 30m
    checks:
      - kustomizations: all
{releases}      - workloads: {{ namespaces: [{namespaces}] }}
  disaster:
    - fault: cluster-loss
  recovery: {{ method: rebuild }}
  rto:
    total: 1h
",
        ks = summary.kustomizations.len(),
        hr = summary.helm_releases.len(),
        ns = summary.namespaces.len(),
        name = spec.name,
        nodes = spec.nodes,
        seed = spec.seed,
        fixture = spec.fixture,
        path = summary.cluster_path,
        releases = summary
            .helm_releases
            .iter()
            .map(|(n, _)| format!(
                "      - object: {{ apiVersion: helm.toolkit.fluxcd.io/v2, kind: HelmRelease, namespace: flux-system, name: {n}, condition: Ready }}\n"
            ))
            .collect::<String>(),
    )
}

struct Writer<'a> {
    root: &'a Path,
    files: usize,
}

impl Writer<'_> {
    fn write(&mut self, rel: &str, text: &str) -> std::io::Result<()> {
        let path: PathBuf = self.root.join(rel);
        let annotate =
            |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(annotate)?;
        }
        std::fs::write(&path, text).map_err(annotate)?;
        self.files += 1;
        Ok(())
    }
}

fn digits(n: usize) -> usize {
    n.saturating_sub(1).max(1).to_string().len().max(4)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ConfigMap,
    Secret,
    Service,
    Deployment,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::Service => "Service",
            Kind::Deployment => "Deployment",
        }
    }
}

/// `n` kinds in the proportions of `mix`, interleaved by smooth weighted
/// round robin (nginx's): deterministic, and every prefix is close to the
/// proportions. All-zero weights mean ConfigMaps only.
fn interleave(mix: Mix, n: usize) -> Vec<Kind> {
    let mut weights = vec![
        (Kind::ConfigMap, i64::from(mix.config_maps)),
        (Kind::Secret, i64::from(mix.secrets)),
        (Kind::Service, i64::from(mix.services)),
        (Kind::Deployment, i64::from(mix.deployments)),
    ];
    weights.retain(|(_, w)| *w > 0);
    if weights.is_empty() {
        return vec![Kind::ConfigMap; n];
    }
    let total: i64 = weights.iter().map(|(_, w)| w).sum();
    let mut current = vec![0i64; weights.len()];
    (0..n)
        .map(|_| {
            for (c, (_, w)) in current.iter_mut().zip(&weights) {
                *c += w;
            }
            let best = (0..weights.len())
                .max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
                .unwrap_or(0);
            current[best] -= total;
            weights[best].0
        })
        .collect()
}

fn payload(i: usize, bytes: usize) -> String {
    let seed = format!("object-{i}-");
    seed.chars().cycle().take(bytes).collect()
}

fn object(out: &mut String, kind: Kind, i: usize, width: usize, ns: &str, spec: &SynthSpec) {
    let labels = "    app.kubernetes.io/part-of: synth\n";
    match kind {
        Kind::ConfigMap => {
            let _ = write!(
                out,
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:0width$}\n  namespace: {ns}\n  labels:\n{labels}\
                 data:\n  index: \"{i}\"\n  payload: \"{}\"\n",
                payload(i, spec.payload_bytes)
            );
        }
        Kind::Secret => {
            use base64::Engine as _;
            let data =
                base64::engine::general_purpose::STANDARD.encode(payload(i, spec.payload_bytes));
            let _ = write!(
                out,
                "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-{i:0width$}\n  namespace: {ns}\n  labels:\n{labels}\
                 type: Opaque\ndata:\n  payload: \"{data}\"\n"
            );
        }
        Kind::Service => {
            let _ = write!(
                out,
                "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i:0width$}\n  namespace: {ns}\n  labels:\n{labels}\
                 spec:\n  type: ClusterIP\n  selector:\n    app: svc-{i:0width$}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n    protocol: TCP\n"
            );
        }
        Kind::Deployment => deployment(out, &format!("deploy-{i:0width$}"), ns, spec.replicas),
    }
}

fn deployment(out: &mut String, name: &str, ns: &str, replicas: u32) {
    let _ = write!(
        out,
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: {name}\n\
         spec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n\
         \x20   spec:\n      containers:\n      - name: app\n        image: {IMAGE}\n        ports:\n        - name: http\n          containerPort: 9898\n\
         \x20         protocol: TCP\n        resources:\n          requests:\n            cpu: 10m\n            memory: 16Mi\n"
    );
}

fn flux_benchmark_app(out: &mut String, name: &str, ns: &str) {
    deployment(out, name, ns, 0);
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n\
         ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  type: ClusterIP\n  selector:\n    app: {name}\n\
         \x20 ports:\n  - name: http\n    port: 9898\n    targetPort: http\n    protocol: TCP\n\
         ---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  rules:\n  - host: {name}.example.com\n\
         \x20   http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: {name}\n            port:\n              number: 9898\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_in_proportion() {
        let mix = Mix {
            config_maps: 2,
            secrets: 1,
            services: 1,
            deployments: 0,
        };
        let kinds = interleave(mix, 8);
        let count = |k| kinds.iter().filter(|x| **x == k).count();
        assert_eq!(count(Kind::ConfigMap), 4);
        assert_eq!(count(Kind::Secret), 2);
        assert_eq!(count(Kind::Service), 2);
        assert_eq!(
            kinds[..4].iter().filter(|k| **k == Kind::ConfigMap).count(),
            2
        );
        assert_eq!(
            interleave(
                Mix {
                    config_maps: 0,
                    ..mix
                },
                3
            )
            .len(),
            3
        );
    }

    #[test]
    fn same_spec_writes_same_bytes() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let spec = SynthSpec {
            objects: 250,
            kustomizations: 3,
            namespaces: 2,
            ..SynthSpec::default()
        };
        let sa = generate(a.path(), &spec).unwrap();
        let sb = generate(b.path(), &spec).unwrap();
        assert_eq!(sa, sb);
        let f = "apps/app-0000/objects-000.yaml";
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap()
        );
        assert_eq!(sa.objects, 250);
        // 84 + 83 + 83 objects: one file each, plus 3 Kustomizations and namespaces.
        assert_eq!(sa.files, 3 + 3 + 1);
    }

    #[test]
    fn the_last_apps_can_be_helm_releases_of_the_same_objects() {
        let t = tempfile::tempdir().unwrap();
        let spec = SynthSpec {
            objects: 300,
            kustomizations: 3,
            helm_releases: 1,
            ..SynthSpec::default()
        };
        let s = generate(t.path(), &spec).unwrap();
        assert_eq!(s.kustomizations.len(), 2);
        assert_eq!(
            s.helm_releases,
            [("app-0002".to_owned(), "./apps/app-0002".to_owned())]
        );
        assert_eq!(s.objects, 300);
        let hr = std::fs::read_to_string(t.path().join("clusters/synth/hr-0002.yaml")).unwrap();
        let hr: serde_json::Value = serde_yaml::from_str(&hr).unwrap();
        assert_eq!(hr["kind"], "HelmRelease");
        assert_eq!(hr["spec"]["chart"]["spec"]["chart"], "./apps/app-0002");
        assert!(t.path().join("apps/app-0002/Chart.yaml").is_file());
        assert!(
            t.path()
                .join("apps/app-0002/templates/objects-000.yaml")
                .is_file()
        );
        let scenario = scenario(
            &s,
            &ScenarioSpec {
                name: "x".into(),
                fixture: "repo".into(),
                nodes: 6,
                seed: 1,
            },
        );
        assert!(
            scenario.contains(
                "kind: HelmRelease, namespace: flux-system, name: app-0002, condition: Ready"
            ),
            "{scenario}"
        );
    }
}
