//! OCI artifact pull and extract: one Flux artifact of 1,000 manifests,
//! pushed (from a mirror folder) into gameday's registry on 127.0.0.1,
//! then per iteration what the emulated source-controller does with it —
//! resolve the tag to its manifest, pull the layer (digest checked) and
//! extract it into a fresh folder.
//!
//! Figure asked by issue 16: the median of one pull-and-extract.

#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gameday::gitops::mirror::{Mirror, Mirrors};
use gameday::gitops::oci::{Oci, Ref, pack};

const URL: &str = "oci://registry.bench.example/fleet/apps";
const MANIFESTS: usize = 1_000;

fn mirror() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let tag = dir.path().join("fleet/apps/1.0.0");
    for i in 0..MANIFESTS {
        let app = tag.join(format!("app-{:02}", i / 50));
        std::fs::create_dir_all(&app).unwrap();
        let yaml = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:04}\n  namespace: apps\n  labels:\n    app.kubernetes.io/name: app-{:02}\ndata:\n  index: \"{i}\"\n  greeting: hello from the fleet\n",
            i / 50
        );
        std::fs::write(app.join(format!("cm-{i:04}.yaml")), yaml).unwrap();
    }
    dir
}

fn pull_and_extract(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let folder = mirror();
    let mirrors = Mirrors::new(vec![
        Mirror::new("oci://registry.bench.example", folder.path()).unwrap(),
    ]);
    let oci = Oci::new(mirrors);
    let timeout = Duration::from_secs(60);
    let tag = Ref::Tag("1.0.0".into());
    // The first resolve pushes the folder into gameday's registry.
    let manifest = rt
        .block_on(oci.manifest(URL, &tag, false, timeout))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("oci");
    g.throughput(Throughput::Elements(MANIFESTS as u64));
    g.sample_size(20);
    let mut n = 0u64;
    g.bench_function("pull_and_extract_1000_manifests", |b| {
        b.iter(|| {
            n += 1;
            let dest = out.path().join(n.to_string());
            rt.block_on(async {
                let m = oci.manifest(URL, &tag, false, timeout).await.unwrap();
                assert_eq!(m.digest, manifest.digest);
                let layer = oci.layer(URL, &m.layers[0], false, timeout).await.unwrap();
                pack::extract(&layer, &dest).unwrap();
            });
            assert!(dest.join("app-19/cm-0999.yaml").is_file());
            let _ = std::fs::remove_dir_all(&dest);
        });
    });
    g.finish();
}

criterion_group!(benches, pull_and_extract);
criterion_main!(benches);
