//! What SOPS decryption and post-build substitution add to a
//! Kustomization's build in the emulated kustomize-controller:
//!
//! - `decrypt/secret`: one age-encrypted Secret (the secrets fixture's
//!   `web-credentials`, as the build outputs it) decrypted by the real
//!   `sops` — the time per Secret;
//! - `decrypt/sources`: the fixture's `secretGenerator` `.env` decrypted in
//!   a scratch copy of the tree, before the build;
//! - `substitute/web`: the fixture's `apps/web` objects (5) with its
//!   variables; `substitute/100 objects`: a Kustomization of 100
//!   Deployments using 3 variables each — the time per Kustomization.
//!
//! `make bench BENCH=sops`. Needs `sops` (`make tools`).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::gitops::render::render;
use gameday::gitops::render::substitute::{Variables, substitute_all};
use gameday::gitops::sops::{self, Decryptor, Keys};
use gameday::process::Lookup;
use serde_json::{Value, json};

use support::{Samples, timed};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/repos/secrets")
}

fn keys() -> Keys {
    let key = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys/age.agekey");
    Keys {
        secret: "flux-system/sops-age".into(),
        data: [(
            "age.agekey".to_owned(),
            std::fs::read(key).expect("age key"),
        )]
        .into(),
    }
}

fn variables() -> Variables {
    let mut v = Variables::new();
    v.extend([
        ("APP_ENV", "staging"),
        ("REPLICAS", "2"),
        ("APP_NAME", "web"),
    ]);
    v
}

fn decrypt(c: &mut Criterion) {
    let rt = support::runtime();
    let web = rt
        .block_on(render(&fixture(), "./apps/web"))
        .expect("render the fixture");
    let secret = web
        .objects
        .iter()
        .find(|o| o.name() == "web-credentials")
        .expect("encrypted Secret")
        .manifest
        .clone();
    let dec = rt
        .block_on(Decryptor::new(&keys(), &Lookup::default()))
        .expect("decryptor");
    let mut g = c.benchmark_group("decrypt");
    support::slow_group(&mut g, 30, 10);
    let per_secret = Samples::default();
    g.bench_function("secret", |b| {
        b.to_async(&rt).iter(|| async {
            let mut s = secret.clone();
            let (done, _) = timed(&per_secret, dec.decrypt_object(&mut s)).await;
            assert!(done.expect("decrypts"));
        })
    });
    let sources = Samples::default();
    g.bench_function("sources", |b| {
        b.to_async(&rt).iter(|| async {
            let (p, _) = timed(
                &sources,
                sops::sources::prepare(&fixture(), Path::new("apps/web"), &dec),
            )
            .await;
            assert_ne!(p.expect("decrypts").root, fixture());
        })
    });
    g.finish();
    per_secret.report("sops: decryption per Secret (age, real sops)", 1, "Secrets");
    sources.report(
        "sops: secretGenerator sources (copy + 1 .env)",
        1,
        "Kustomizations",
    );
}

fn deployments(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("app-{i}"), "namespace": "apps",
                    "labels": {"env": "${APP_ENV}", "app": format!("app-{i}")}},
                "spec": {"replicas": "${REPLICAS:=1}", "selector": {"matchLabels": {"app": format!("app-{i}")}},
                    "template": {"metadata": {"labels": {"app": format!("app-{i}")}},
                        "spec": {"containers": [{"name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.7.1",
                            "env": [{"name": "NAME", "value": "${APP_NAME}-${APP_ENV}"}]}]}}}})
        })
        .collect()
}

fn substitute(c: &mut Criterion) {
    let rt = support::runtime();
    let web: Vec<Value> = rt
        .block_on(render(&fixture(), "./apps/web"))
        .expect("render the fixture")
        .objects
        .into_iter()
        .map(|o| o.manifest)
        .filter(|m| !sops::needs_decryption(m))
        .collect();
    let hundred = deployments(100);
    let vars = variables();
    let mut g = c.benchmark_group("substitute");
    let small = Samples::default();
    let large = Samples::default();
    for (name, objects, samples) in [("web", &web, &small), ("100 objects", &hundred, &large)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut objs = objects.clone();
                let t = std::time::Instant::now();
                substitute_all(&mut objs, &vars).expect("substitutes");
                samples.record(t.elapsed());
                objs
            })
        });
    }
    g.finish();
    small.report(
        &format!(
            "substitute: per Kustomization of {} objects (web)",
            web.len()
        ),
        web.len(),
        "objects",
    );
    large.report(
        "substitute: per Kustomization of 100 Deployments",
        100,
        "objects",
    );
}

fn machine(_: &mut Criterion) {
    support::print_machine("sops");
}

criterion_group!(benches, machine, decrypt, substitute);
criterion_main!(benches);
