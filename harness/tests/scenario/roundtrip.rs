//! proptest: any internal scenario written out in the file format and
//! loaded back is equal to itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use gameday::scenario::capabilities;
use gameday::scenario::model::*;
use gameday::scenario::{self};
use proptest::prelude::*;

use crate::common::fixtures;

/// Paths that exist, so the loader's filesystem checks pass.
fn a_dir() -> PathBuf {
    fixtures().join("scenarios/repo")
}
fn a_file() -> PathBuf {
    fixtures().join("kind/three-nodes.yaml")
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|s| s.trim().to_owned())
}

fn secs(max: u64) -> impl Strategy<Value = Duration> {
    (1..=max).prop_map(Duration::from_secs)
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![secs(7200), (1u64..5000).prop_map(Duration::from_millis)]
}

fn object_ref(optional_version: bool) -> impl Strategy<Value = ObjectRef> {
    (
        prop_oneof![Just("v1".to_owned()), Just("apps/v1".to_owned())],
        any::<bool>(),
        prop_oneof![Just("ConfigMap"), Just("Deployment"), Just("Secret")],
        proptest::option::of(name()),
        name(),
    )
        .prop_map(move |(v, keep, kind, namespace, name)| ObjectRef {
            api_version: (keep || !optional_version).then_some(v),
            kind: kind.to_owned(),
            namespace,
            name,
        })
}

fn check() -> impl Strategy<Value = Check> {
    prop_oneof![
        Just(Check::Kustomizations(None)),
        proptest::collection::vec((name(), name()), 1..3).prop_map(|v| Check::Kustomizations(
            Some(
                v.into_iter()
                    .map(|(namespace, name)| NamespacedName { namespace, name })
                    .collect()
            )
        )),
        proptest::option::of(proptest::collection::vec(name(), 1..3)).prop_map(Check::Workloads),
        (object_ref(false), proptest::option::of(name()))
            .prop_map(|(object, condition)| Check::Object { object, condition }),
    ]
}

fn setup_step() -> impl Strategy<Value = SetupStep> {
    prop_oneof![
        Just(SetupStep::Apply(a_file())),
        Just(SetupStep::Apply(a_dir())),
        object_ref(true).prop_map(SetupStep::Delete),
        duration().prop_map(SetupStep::Sleep),
    ]
}

fn source() -> impl Strategy<Value = Source> {
    let reference = prop_oneof![
        (name(), proptest::option::of("[0-9a-f]{40}")).prop_map(|(b, c)| GitRef {
            branch: Some(b),
            tag: None,
            commit: c
        }),
        "v[0-9]\\.[0-9]\\.[0-9]".prop_map(|t| GitRef {
            branch: None,
            tag: Some(t),
            commit: None
        }),
        "[0-9a-f]{7,40}".prop_map(|c| GitRef {
            branch: None,
            tag: None,
            commit: Some(c)
        }),
    ];
    let location = prop_oneof![
        Just(SourceLocation::Fixture(a_dir())),
        name().prop_map(|n| SourceLocation::Url(format!("https://git.example/{n}.git"))),
    ];
    let path = prop_oneof![
        Just(".".to_owned()),
        (name(), name()).prop_map(|(a, b)| format!("{a}/{b}"))
    ];
    (location, reference, path).prop_map(|(location, reference, path)| Source {
        location,
        reference,
        path,
    })
}

fn bootstrap() -> impl Strategy<Value = Bootstrap> {
    let flux = (
        prop_oneof![
            Just(None),
            Just(Some("https://example.com/install.yaml".to_owned())),
            Just(Some(a_file().to_string_lossy().into_owned()))
        ],
        duration(),
    )
        .prop_map(|(manifests, interval)| {
            BootstrapMethod::Flux(FluxSettings {
                manifests,
                interval,
            })
        });
    let direct = (duration(), any::<bool>(), 1u32..64, name()).prop_map(
        |(interval, prune, concurrency, namespace)| {
            BootstrapMethod::Direct(DirectSettings {
                interval,
                prune,
                concurrency,
                namespace,
            })
        },
    );
    let secret = (name(), name(), name()).prop_map(|(namespace, name, key)| SecretSource {
        namespace,
        name,
        from_file: a_file(),
        key,
    });
    (
        prop_oneof![flux, direct],
        proptest::collection::vec(secret, 0..3),
    )
        .prop_map(|(method, secrets)| Bootstrap { method, secrets })
}

/// A disaster and a recovery method that fit a provider.
fn disaster_and_recovery(
    provider: Provider,
) -> impl Strategy<Value = (Vec<Fault>, RecoveryMethod)> {
    let single = prop_oneof![
        Just(Fault::ClusterLoss),
        name().prop_map(|namespace| Fault::NamespaceLoss { namespace }),
        (object_ref(false), any::<bool>()).prop_map(|(o, by_name)| Fault::ResourceLoss {
            api_version: o.api_version.unwrap_or_default(),
            kind: o.kind,
            namespace: o.namespace,
            target: if by_name {
                ResourceTarget::Name(o.name)
            } else {
                ResourceTarget::Selector(format!("app={}", o.name))
            },
        }),
        Just(Fault::ControllerLoss),
        (1u32..3).prop_map(|count| Fault::NodeLoss { count }),
        (
            name(),
            prop_oneof![
                (
                    0u32..3,
                    proptest::collection::btree_map(
                        "[a-z.]{1,20}",
                        prop_oneof![
                            "[a-z:/.-]{1,20}".prop_map(serde_json::Value::from),
                            (0i64..100).prop_map(serde_json::Value::from),
                            any::<bool>().prop_map(serde_json::Value::from),
                        ],
                        1..3
                    )
                )
                    .prop_map(|(document, fields)| FileChange::Set { document, fields }),
                text().prop_map(FileChange::Replace),
                Just(FileChange::Delete),
            ],
            text()
        )
            .prop_map(|(file, change, message)| Fault::BadCommit {
                file: format!("apps/{file}.yaml"),
                change,
                message: if message.is_empty() {
                    "bad".into()
                } else {
                    message
                },
            }),
        secs(600).prop_map(|duration| Fault::ApiOutage { duration }),
        proptest::collection::vec("terraform_data\\.[a-z]{1,8}", 0..3)
            .prop_map(|targets| Fault::InfraLoss { targets }),
    ];
    (single, proptest::option::of(text()), any::<bool>()).prop_filter_map(
        "fault the provider cannot inject",
        move |(fault, instructions, trigger)| {
            if !capabilities::provider_faults(provider).contains(&fault.kind()) {
                return None;
            }
            let method = match capabilities::fault_recoveries(fault.kind())
                [usize::from(trigger) % 2.min(capabilities::fault_recoveries(fault.kind()).len())]
            {
                "rebuild" => RecoveryMethod::Rebuild,
                "reconcile" => RecoveryMethod::Reconcile { trigger },
                "git-revert" => RecoveryMethod::GitRevert,
                _ => RecoveryMethod::Manual {
                    instructions: instructions.filter(|i| !i.is_empty()),
                },
            };
            Some((vec![fault], method))
        },
    )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let provider = prop_oneof![
        Just(Provider::Sim),
        Just(Provider::Kind),
        Just(Provider::Terraform)
    ];
    provider.prop_flat_map(|provider| {
        (
            (
                name(),
                text(),
                3u32..6,
                any::<u64>(),
                prop_oneof![
                    Just(SimProfile::Instant),
                    Just(SimProfile::Kind),
                    Just(SimProfile::Eks)
                ],
            ),
            (
                proptest::option::of("kindest/node:v1\\.3[0-9]\\.[0-9]"),
                duration(),
                any::<bool>(),
            ),
            (
                source(),
                bootstrap(),
                duration(),
                proptest::collection::vec(check(), 0..4),
            ),
            proptest::collection::vec(setup_step(), 0..3),
            disaster_and_recovery(provider),
            (
                secs(3600),
                proptest::collection::vec((0usize..7, 1u64..=100), 0..4),
                duration(),
                0usize..5,
            ),
            (proptest::collection::vec(object_ref(true), 0..3), 1u32..10),
        )
            .prop_map(
                move |(
                    meta,
                    kind,
                    (source, bootstrap, timeout, checks),
                    setup,
                    (disaster, method),
                    rto,
                    (lost, repeat),
                )| {
                    let (name, description, nodes, seed, profile) = meta;
                    let flux = matches!(bootstrap.method, BootstrapMethod::Flux(_));
                    let checks: Vec<Check> = if checks.is_empty() {
                        if flux {
                            vec![Check::Kustomizations(None), Check::Workloads(None)]
                        } else {
                            vec![Check::Workloads(None)]
                        }
                    } else {
                        checks
                            .into_iter()
                            .filter(|c| flux || !matches!(c, Check::Kustomizations(_)))
                            .chain(std::iter::once(Check::Workloads(None)))
                            .collect()
                    };
                    let (total, budgets, recovery_timeout, quantile) = rto;
                    let kinds: Vec<FaultKind> = disaster.iter().map(Fault::kind).collect();
                    let phases = capabilities::recovery_phases(&method, &kinds, provider);
                    let phases: BTreeMap<Phase, Duration> = budgets
                        .into_iter()
                        .map(|(i, pct)| (phases[i % phases.len()], total * pct as u32 / 100))
                        .collect();
                    Scenario {
                        file: PathBuf::new(),
                        name,
                        description,
                        cluster: Cluster {
                            provider,
                            sim: SimSettings {
                                profile,
                                nodes,
                                seed,
                                images: Vec::new(),
                                skip_verify: seed % 2 == 0,
                            },
                            kind: KindSettings {
                                config: kind.2.then(a_file),
                                image: kind.0,
                                wait: kind.1,
                            },
                            terraform: (provider == Provider::Terraform).then(|| {
                                TerraformSettings {
                                    dir: a_dir(),
                                    vars: BTreeMap::from([(
                                        "region".to_owned(),
                                        "local".to_owned(),
                                    )]),
                                    kubeconfig_output: "kubeconfig".into(),
                                    workspace: None,
                                    timeout: Duration::from_secs(1800),
                                }
                            }),
                            existing: None,
                        },
                        source,
                        // Mirrors are the simulator's only.
                        mirrors: if provider == Provider::Sim && seed % 2 == 0 {
                            gameday::gitops::mirror::Mirrors::new(vec![
                                gameday::gitops::mirror::Mirror::new(
                                    "https://charts.example.com",
                                    a_dir(),
                                )
                                .unwrap(),
                            ])
                        } else {
                            gameday::gitops::mirror::Mirrors::default()
                        },
                        bootstrap,
                        steady_state: SteadyState { timeout, checks },
                        setup,
                        disaster,
                        recovery: Recovery {
                            method,
                            timeout: recovery_timeout,
                        },
                        rto: Rto {
                            total,
                            phases,
                            quantile: [
                                Quantile::P50,
                                Quantile::P90,
                                Quantile::P95,
                                Quantile::P99,
                                Quantile::Max,
                            ][quantile],
                        },
                        expect: Expect { lost },
                        repeat,
                    }
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn internal_to_file_and_back_is_identity(mut s in scenario()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{}.yaml", s.name));
        s.file = path.clone();
        let yaml = scenario::to_yaml(&s).unwrap();
        let back = match scenario::load_one_str(&yaml, &path) {
            Ok(back) => back,
            Err(d) => return Err(TestCaseError::fail(format!("{d}\n--- yaml:\n{yaml}"))),
        };
        prop_assert_eq!(back, s);
    }
}
