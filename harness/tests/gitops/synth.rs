//! Synthetic repositories render to what they promise.

use std::collections::BTreeMap;

use gameday::gitops::render::render;
use gameday::gitops::repo::{FixtureOptions, Repo};
use gameday::gitops::synth::{Mix, Shape, SynthSpec, generate};

#[tokio::test]
async fn n_objects_over_k_kustomizations_render() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SynthSpec {
        objects: 1000,
        kustomizations: 7,
        namespaces: 3,
        ..SynthSpec::default()
    };
    let summary = generate(dir.path(), &spec).unwrap();
    assert_eq!(summary.objects, 1000);
    assert_eq!(
        summary.by_kind,
        BTreeMap::from([("ConfigMap".to_owned(), 1000)])
    );

    let cluster = render(dir.path(), &summary.cluster_path).await.unwrap();
    let ks: Vec<_> = cluster
        .objects
        .iter()
        .filter(|o| o.kind() == "Kustomization")
        .collect();
    let ns = cluster
        .objects
        .iter()
        .filter(|o| o.kind() == "Namespace")
        .count();
    assert_eq!(ks.len(), 7);
    assert_eq!(ns, 3);
    let mut total = 0;
    for k in &ks {
        assert_eq!(k.manifest["spec"]["sourceRef"]["name"], "flux-system");
        let path = k.manifest["spec"]["path"].as_str().unwrap();
        let app = render(dir.path(), path).await.unwrap();
        assert!(
            app.objects.len() == 142 || app.objects.len() == 143,
            "{path}: {}",
            app.objects.len()
        );
        total += app.objects.len();
    }
    assert_eq!(total, 1000);
}

#[tokio::test]
async fn mix_proportions_and_no_kustomizations() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SynthSpec {
        objects: 100,
        kustomizations: 0,
        shape: Shape::Mix(Mix {
            config_maps: 2,
            secrets: 1,
            services: 1,
            deployments: 1,
        }),
        ..SynthSpec::default()
    };
    let summary = generate(dir.path(), &spec).unwrap();
    let rendered = render(dir.path(), &summary.cluster_path).await.unwrap();
    let mut kinds = BTreeMap::new();
    for o in &rendered.objects {
        *kinds.entry(o.kind()).or_insert(0) += 1;
    }
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("ConfigMap", 40),
            ("Deployment", 20),
            ("Namespace", 1),
            ("Secret", 20),
            ("Service", 20)
        ])
    );
}

#[tokio::test]
async fn flux_benchmark_shape() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path(), &SynthSpec::flux_benchmark(5)).unwrap();
    assert_eq!(summary.objects, 20);
    assert_eq!(summary.kustomizations.len(), 5);
    let (name, path) = &summary.kustomizations[2];
    let app = render(dir.path(), path).await.unwrap();
    let got: Vec<String> = app
        .objects
        .iter()
        .map(|o| format!("{}/{}", o.kind(), o.name()))
        .collect();
    assert_eq!(
        got,
        [
            format!("Deployment/{name}"),
            format!("ServiceAccount/{name}"),
            format!("Service/{name}"),
            format!("Ingress/{name}")
        ]
    );
    assert_eq!(app.objects[0].manifest["spec"]["replicas"], 0);
}

#[tokio::test]
async fn generated_trees_become_reproducible_repositories() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let spec = SynthSpec::config_maps(300, 3);
    let mut heads = Vec::new();
    for dir in [&a, &b] {
        let tree = dir.path().join("synth");
        generate(&tree, &spec).unwrap();
        let repo = Repo::init(&tree, &FixtureOptions::default()).await.unwrap();
        heads.push(repo.head().await.unwrap());
    }
    assert_eq!(heads[0], heads[1]);
}
