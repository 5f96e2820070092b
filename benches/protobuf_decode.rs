//! Protobuf request bodies: what the simulator's API server does with each
//! body kubectl's typed `create` subcommands send — unwrap the envelope,
//! find the kind's message among Kubernetes' definitions, decode it and
//! write the JSON the store keeps. The bodies are the ones kubectl encoded
//! (`fixtures/sim/protobuf/`, captured by `harness/scripts/capture-protobuf.py`).
//!
//! Also printed once: the first decode, which loads the descriptor set
//! (every message of Kubernetes' API) into memory.

#![allow(missing_docs)]

use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gameday::sim::apiserver::protobuf::decode;

fn bodies() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sim/protobuf");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pb"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn decode_bodies(c: &mut Criterion) {
    let bodies = bodies();
    let started = Instant::now();
    decode(&bodies[0].1).unwrap();
    #[allow(clippy::print_stderr)] // the one-off figure
    {
        eprintln!(
            "first decode (loads the descriptor set): {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut g = c.benchmark_group("protobuf");
    let deployment = &bodies.iter().find(|(n, _)| n == "deployment").unwrap().1;
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_deployment", |b| {
        b.iter(|| decode(deployment).unwrap());
    });
    g.throughput(Throughput::Elements(bodies.len() as u64));
    g.bench_function("decode_every_captured_kind", |b| {
        b.iter(|| {
            for (_, body) in &bodies {
                decode(body).unwrap();
            }
        });
    });
    g.finish();
}

criterion_group!(benches, decode_bodies);
criterion_main!(benches);
