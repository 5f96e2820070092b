//! The `sim` provider: an embedded simulated cluster, in this process, on
//! the drill's virtual clock.
//!
//! Creating one takes the latency profile's cluster-creation time on that
//! clock (kind's 12–17 s for the `kind` profile, minutes for `eks`), then the
//! API server starts with its nodes, controllers and Flux emulation.

use crate::scenario::model::{Scenario, SimProfile};
use crate::sim::Profile;
use crate::sim::flux::tofu::TerraformOptions;
use crate::sim::flux::{FluxEmulation, FluxOptions};
use crate::sim::{SimCluster, SimOptions};

use crate::cluster::{Backend, Cluster, Context, Error, Result};

/// The simulator's latency profile for a scenario's setting.
pub fn profile(p: SimProfile) -> Profile {
    match p {
        SimProfile::Instant => Profile::instant(),
        SimProfile::Kind => Profile::kind(),
        SimProfile::Eks => Profile::eks(),
    }
}

pub(in crate::cluster) async fn create(
    scenario: &Scenario,
    cx: &Context,
    name: &str,
) -> Result<Cluster> {
    let settings = &scenario.cluster.sim;
    let profile = profile(settings.profile);
    // Provisioning time passes on the drill's clock before the API exists.
    // Keyed by the scenario, not the cluster name (which carries the run
    // id): the same seed gives the same durations in every run.
    let base = crate::cluster::cluster_name(&scenario.name, &cx.run_id, 0);
    let identity = format!(
        "{}{}",
        scenario.name,
        name.strip_prefix(&base).unwrap_or("")
    );
    let provisioning = profile.cluster_create_duration(cx.seed, &identity, settings.nodes);
    drop(cx.clock.sleep(provisioning).await);
    let _acting = cx.clock.busy();
    let mut options = SimOptions::new(name, cx.clock.clone());
    options.seed = cx.seed;
    options.profile = profile;
    options.nodes = settings.nodes as usize;
    options.images = cx.images.clone();
    let sim = SimCluster::start(options)
        .await
        .map_err(|source| Error::Sim {
            name: name.to_owned(),
            source,
        })?;
    let kubeconfig = cx.dir.join(format!("{name}.kubeconfig"));
    sim.write_kubeconfig(&kubeconfig)
        .map_err(|source| Error::Sim {
            name: name.to_owned(),
            source,
        })?;
    let client = sim.client().await.map_err(|source| Error::Sim {
        name: name.to_owned(),
        source,
    })?;
    // Emulated Flux controllers (the Terraform controller included): idle
    // until Flux is installed, stopped again when its controller
    // Deployments are deleted.
    let flux = sim
        .enable_flux(FluxOptions {
            artifact_dir: Some(cx.dir.join(format!("{name}-flux-artifacts"))),
            terraform: Some(TerraformOptions {
                work_dir: Some(cx.dir.join(format!("{name}-tf-controller"))),
                tools: cx.tools.clone(),
            }),
            helm: crate::sim::flux::helm::HelmOptions {
                work_dir: Some(cx.dir.join(format!("{name}-helm-controller"))),
                lookup: crate::process::Lookup::new(
                    cx.tools.clone(),
                    crate::process::Lookup::default_tool_dirs(),
                ),
            },
            mirrors: scenario.mirrors.clone(),
            ..FluxOptions::default()
        })
        .await
        .map_err(|e| Error::Flux {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
    // The entry owns the Flux emulation: retained (`--retain`), the
    // cluster keeps reconciling, its clock at wall pace, until gameday
    // exits.
    let flux = std::sync::Arc::new(std::sync::Mutex::new(Some(flux)));
    let held = flux.clone();
    let handle = sim.clone();
    let clock = cx.clock.clone();
    let token = cx.cleanup.register_in_process(
        format!("simulated cluster {name}"),
        Some(format!("export KUBECONFIG={}", kubeconfig.display())),
        Some(Box::new(move || clock.follow_wall())),
        Box::new(move || {
            Box::pin(async move {
                destroy(&handle, &held).await;
                Ok(())
            })
        }),
    );
    Ok(Cluster {
        name: name.to_owned(),
        kubeconfig,
        client,
        clock: cx.clock.clone(),
        cleanup: Some(token),
        backend: Backend::Sim(sim, flux),
    })
}

/// The Flux emulation of a simulated cluster, shared by the cluster and
/// its cleanup entry: a retained cluster (`--retain`) keeps reconciling
/// after the drill dropped its handle.
pub(in crate::cluster) type SharedFlux = std::sync::Arc<std::sync::Mutex<Option<FluxEmulation>>>;

/// Destroys a simulated cluster: its Flux emulation stops, its state is
/// gone and its API stops.
pub(in crate::cluster) async fn destroy(sim: &SimCluster, flux: &SharedFlux) {
    let emulation = flux.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(f) = emulation {
        f.stop();
    }
    sim.destroy();
    sim.shutdown().await;
}
