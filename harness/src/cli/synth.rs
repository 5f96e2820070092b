//! `gameday synth`: a synthetic Flux repository of any size and the
//! `cluster-loss` scenario that drills it, to reproduce the scale figures
//! or load-test a pipeline.

use std::path::{Path, PathBuf};

use gameday::exit;
use gameday::gitops::synth::{self, Mix, ScenarioSpec, Shape, SynthSpec};

/// Arguments of `gameday synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Objects to generate (Namespaces and Kustomizations not counted).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    objects: u64,
    /// Flux Kustomizations the objects are spread over [default: objects / 100, at least 1].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    kustomizations: Option<u64>,
    /// How many of the apps (the last ones) are HelmReleases of a chart kept
    /// in Git (the app's folder with a Chart.yaml, its objects as templates)
    /// instead of Kustomizations; the drill on the simulator needs helm.
    #[arg(long, default_value_t = 0)]
    helm_releases: u64,
    /// Namespaces `synth-0`, `synth-1`… the objects are spread over [default: 10, 50 above 10,000 objects].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    namespaces: Option<u64>,
    /// The kinds' weights, `configmaps=N,secrets=N,services=N,deployments=N`
    /// (missing kinds weigh 0) [default: configmaps=60,secrets=20,services=15,deployments=5].
    #[arg(long, value_parser = parse_mix)]
    mix: Option<Mix>,
    /// Replicas of each generated Deployment.
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// Simulated nodes of the scenario's cluster [default: one per 80 pods, at least 6; a node takes 110 pods].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=5000))]
    nodes: Option<u32>,
    /// The folder to write: `DIR/repo/` (the repository) and `DIR/scenario.yaml`.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write into a folder that is not empty (files of the same names are replaced).
    #[arg(long)]
    force: bool,
}

fn parse_mix(text: &str) -> Result<Mix, String> {
    let mut mix = Mix {
        config_maps: 0,
        secrets: 0,
        services: 0,
        deployments: 0,
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kind, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: expected KIND=WEIGHT, e.g. configmaps=60"))?;
        let weight: u32 = weight
            .trim()
            .parse()
            .map_err(|_| format!("`{part}`: the weight must be a whole number"))?;
        match kind.trim().to_ascii_lowercase().as_str() {
            "configmaps" | "configmap" => mix.config_maps = weight,
            "secrets" | "secret" => mix.secrets = weight,
            "services" | "service" => mix.services = weight,
            "deployments" | "deployment" => mix.deployments = weight,
            other => {
                return Err(format!(
                    "unknown kind `{other}`: use configmaps, secrets, services or deployments"
                ));
            }
        }
    }
    if mix.config_maps + mix.secrets + mix.services + mix.deployments == 0 {
        return Err("at least one kind needs a weight above 0".into());
    }
    Ok(mix)
}

pub fn run(args: &Args) -> u8 {
    match write(args) {
        Ok(text) => {
            print!("{text}");
            exit::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::INVALID_INPUT
        }
    }
}

fn not_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

/// Writes the repository and the scenario; returns what to print.
fn write(args: &Args) -> Result<String, String> {
    let out = &args.out;
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {}: exists and is not a folder; name a new or empty folder",
            out.display()
        ));
    }
    if not_empty(out) && !args.force {
        return Err(format!(
            "--out {}: the folder is not empty; name a new or empty folder, or pass --force to replace files of the same names",
            out.display()
        ));
    }
    let objects = usize::try_from(args.objects).map_err(|e| e.to_string())?;
    // The scale drills' shape (the README's curve), changed by the flags given.
    let mut spec = SynthSpec::scale(objects);
    if let Some(k) = args.kustomizations {
        spec.kustomizations = usize::try_from(k).unwrap_or(usize::MAX);
    }
    if let Some(n) = args.namespaces {
        spec.namespaces = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(mix) = args.mix {
        spec.shape = Shape::Mix(mix);
    }
    spec.replicas = args.replicas;
    let kustomizations = spec.kustomizations;
    if kustomizations > objects {
        return Err(format!(
            "--kustomizations {kustomizations} is more than --objects {objects}: every Kustomization needs at least one object"
        ));
    }
    let releases = usize::try_from(args.helm_releases).unwrap_or(usize::MAX);
    if releases > kustomizations {
        return Err(format!(
            "--helm-releases {releases} is more than the {kustomizations} apps: HelmReleases replace Kustomizations; pass a smaller --helm-releases or a larger --kustomizations"
        ));
    }
    spec.helm_releases = releases;
    let summary = synth::generate(&out.join("repo"), &spec).map_err(|e| e.to_string())?;
    let scenario = synth::scenario(
        &summary,
        &ScenarioSpec {
            name: format!("synth-{objects}-cluster-loss"),
            fixture: "repo".into(),
            nodes: args
                .nodes
                .unwrap_or_else(|| synth::nodes_for(&summary, args.replicas)),
            seed: 7,
        },
    );
    let file = out.join("scenario.yaml");
    std::fs::write(&file, scenario).map_err(|e| format!("{}: {e}", file.display()))?;
    let kinds: Vec<String> = summary
        .by_kind
        .iter()
        .map(|(kind, n)| format!("{n} {kind}s"))
        .collect();
    Ok(format!(
        "wrote {}: {} objects ({}) in {} Kustomizations{} over {} namespaces, {} files\nwrote {}\nrun it: gameday run {}\n",
        out.join("repo").display(),
        summary.objects,
        kinds.join(", "),
        summary.kustomizations.len(),
        match summary.helm_releases.len() {
            0 => String::new(),
            n => format!(" and {n} HelmReleases"),
        },
        summary.namespaces.len(),
        summary.files,
        file.display(),
        file.display(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_weights_and_names_bad_parts() {
        let mix = parse_mix("configmaps=3, deployments=1").unwrap();
        assert_eq!(
            (mix.config_maps, mix.secrets, mix.services, mix.deployments),
            (3, 0, 0, 1)
        );
        assert!(
            parse_mix("pods=1")
                .unwrap_err()
                .contains("unknown kind `pods`")
        );
        assert!(parse_mix("configmaps").unwrap_err().contains("KIND=WEIGHT"));
        assert!(parse_mix("configmaps=0").unwrap_err().contains("above 0"));
        assert!(parse_mix("secrets=x").unwrap_err().contains("whole number"));
    }
}
