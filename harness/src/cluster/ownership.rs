//! Ownership: how gameday proves a cluster is its own before deleting it.
//!
//! Right after creating a kind cluster, gameday writes a marker into it: the
//! ConfigMap `kube-system/gameday-owner`, labelled
//! `gameday.dev/run-id=<run id>`, naming the cluster. A cluster is deleted
//! only when its name starts with `gameday-` **and** the marker is there
//! ([`check_deletable`], used by the run's teardown and by `gameday gc`).
//! Anything else is refused with an error that says why and what to do.
//!
//! One exception, for the run that creates the cluster: between `kind create
//! cluster` starting and the marker being written (a create that fails or
//! is interrupted), the evidence is [`Evidence::CreatedByThisRun`]: this
//! process checked that no cluster of that name existed and then created
//! it. `gameday gc`, a different process, never has that evidence.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, PostParams};
use std::collections::BTreeMap;

/// Every cluster gameday creates has a name starting with this.
pub const NAME_PREFIX: &str = "gameday-";
/// Namespace of the marker.
pub const MARKER_NAMESPACE: &str = "kube-system";
/// Name of the marker ConfigMap.
pub const MARKER_NAME: &str = "gameday-owner";
/// Label holding the run id on the marker.
pub const RUN_ID_LABEL: &str = "gameday.dev/run-id";
/// `app.kubernetes.io/managed-by` value on the marker.
pub const MANAGED_BY: &str = "gameday";

/// What the marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The run that created the cluster.
    pub run_id: String,
    /// The cluster's name, as created.
    pub cluster: String,
    /// The scenario it was created for.
    pub scenario: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// What is known about who owns a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// The marker was read.
    Marker(Marker),
    /// The cluster answered and has no marker.
    NoMarker,
    /// A `gameday-owner` ConfigMap exists but is not a valid marker.
    Malformed(String),
    /// The marker could not be read (the API did not answer…).
    Unreadable(String),
    /// This very run created the cluster and has not written the marker
    /// yet (see the module docs).
    CreatedByThisRun,
}

/// Why gameday refuses to delete a cluster.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The name lacks the prefix.
    #[error(
        "refusing to delete cluster {name}: its name does not start with `gameday-`, so gameday did not create it"
    )]
    NotGamedayName {
        /// The cluster.
        name: String,
    },
    /// No marker.
    #[error(
        "refusing to delete cluster {name}: it has no ownership marker (ConfigMap {MARKER_NAMESPACE}/{MARKER_NAME} labelled {RUN_ID_LABEL}){detail}, so gameday cannot prove it created it; if it is yours, delete it yourself: kind delete cluster --name {name}"
    )]
    NoMarker {
        /// The cluster.
        name: String,
        /// What was found instead, if anything (`: …`).
        detail: String,
    },
    /// The marker could not be read.
    #[error(
        "refusing to delete cluster {name}: its ownership marker could not be read ({why}); check that the cluster runs (`kubectl --context kind-{name} get nodes`), then try again or delete it yourself: kind delete cluster --name {name}"
    )]
    Unreadable {
        /// The cluster.
        name: String,
        /// Why.
        why: String,
    },
    /// The marker names another cluster.
    #[error(
        "refusing to delete cluster {name}: its ownership marker was written for cluster {marker_cluster}"
    )]
    WrongCluster {
        /// The cluster.
        name: String,
        /// The name in the marker.
        marker_cluster: String,
    },
    /// The marker belongs to another run.
    #[error(
        "refusing to delete cluster {name}: it belongs to gameday run {owner}, not to this run ({run_id}); `gameday gc` deletes leftovers of finished runs"
    )]
    OtherRun {
        /// The cluster.
        name: String,
        /// The run in the marker.
        owner: String,
        /// This run.
        run_id: String,
    },
}

/// The one check before gameday deletes a cluster: the name starts with
/// `gameday-` and the evidence proves ownership. `run_id` is the deleting
/// run's id (teardown: the marker must carry it) or `None` (`gameday gc`:
/// any run's marker will do, and only a marker will do).
///
/// # Errors
/// The [`Refusal`] saying why the cluster must not be deleted.
pub fn check_deletable(
    name: &str,
    evidence: &Evidence,
    run_id: Option<&str>,
) -> Result<(), Refusal> {
    if !name.starts_with(NAME_PREFIX) {
        return Err(Refusal::NotGamedayName {
            name: name.to_owned(),
        });
    }
    match (evidence, run_id) {
        (Evidence::Marker(m), _) if m.cluster != name => Err(Refusal::WrongCluster {
            name: name.to_owned(),
            marker_cluster: m.cluster.clone(),
        }),
        (Evidence::Marker(m), Some(run)) if m.run_id != run => Err(Refusal::OtherRun {
            name: name.to_owned(),
            owner: m.run_id.clone(),
            run_id: run.to_owned(),
        }),
        (Evidence::Marker(_), _) | (Evidence::CreatedByThisRun, Some(_)) => Ok(()),
        (Evidence::NoMarker | Evidence::CreatedByThisRun, _) => Err(Refusal::NoMarker {
            name: name.to_owned(),
            detail: String::new(),
        }),
        (Evidence::Malformed(why), _) => Err(Refusal::NoMarker {
            name: name.to_owned(),
            detail: format!(": {why}"),
        }),
        (Evidence::Unreadable(why), _) => Err(Refusal::Unreadable {
            name: name.to_owned(),
            why: why.clone(),
        }),
    }
}

/// The marker as a ConfigMap.
pub fn marker_object(m: &Marker) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(MARKER_NAME.to_owned()),
            namespace: Some(MARKER_NAMESPACE.to_owned()),
            labels: Some(BTreeMap::from([
                (RUN_ID_LABEL.to_owned(), m.run_id.clone()),
                (
                    "app.kubernetes.io/managed-by".to_owned(),
                    MANAGED_BY.to_owned(),
                ),
            ])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            ("cluster".to_owned(), m.cluster.clone()),
            ("runId".to_owned(), m.run_id.clone()),
            ("scenario".to_owned(), m.scenario.clone()),
            ("createdAt".to_owned(), m.created_at.clone()),
            (
                "note".to_owned(),
                "gameday created this cluster and deletes it only while this marker is present"
                    .to_owned(),
            ),
        ])),
        ..ConfigMap::default()
    }
}

/// Writes the marker.
///
/// # Errors
/// When the API refuses or does not answer.
pub async fn write_marker(client: &kube::Client, m: &Marker) -> Result<(), kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), MARKER_NAMESPACE);
    api.create(&PostParams::default(), &marker_object(m))
        .await?;
    Ok(())
}

/// Reads the marker: never an error, the failure is evidence too.
pub async fn read_marker(client: &kube::Client) -> Evidence {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), MARKER_NAMESPACE);
    match api.get_opt(MARKER_NAME).await {
        Ok(None) => Evidence::NoMarker,
        Ok(Some(cm)) => parse_marker(&cm),
        Err(e) => Evidence::Unreadable(crate::error_chain::kube_line(&e)),
    }
}

/// Interprets a `gameday-owner` ConfigMap.
pub fn parse_marker(cm: &ConfigMap) -> Evidence {
    let label = cm
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(RUN_ID_LABEL))
        .filter(|v| !v.is_empty());
    let Some(run_id) = label else {
        return Evidence::Malformed(format!(
            "a ConfigMap {MARKER_NAME} exists without the {RUN_ID_LABEL} label"
        ));
    };
    let data = cm.data.clone().unwrap_or_default();
    let field = |k: &str| data.get(k).cloned().unwrap_or_default();
    let cluster = field("cluster");
    if cluster.is_empty() {
        return Evidence::Malformed(format!("the {MARKER_NAME} ConfigMap names no cluster"));
    }
    if field("runId") != *run_id {
        return Evidence::Malformed(format!(
            "the {MARKER_NAME} ConfigMap's label and data disagree on the run id"
        ));
    }
    Evidence::Marker(Marker {
        run_id: run_id.clone(),
        cluster,
        scenario: field("scenario"),
        created_at: field("createdAt"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(run: &str, cluster: &str) -> Evidence {
        Evidence::Marker(Marker {
            run_id: run.into(),
            cluster: cluster.into(),
            scenario: "s".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
        })
    }

    #[test]
    fn only_gameday_names_with_a_marker_are_deletable() {
        let name = "gameday-s-abc123";
        assert_eq!(
            check_deletable(name, &marker("abc123", name), Some("abc123")),
            Ok(())
        );
        assert_eq!(check_deletable(name, &marker("abc123", name), None), Ok(()));
        let e = check_deletable("dev", &marker("abc123", "dev"), Some("abc123")).unwrap_err();
        assert!(matches!(e, Refusal::NotGamedayName { .. }), "{e}");
        let e = check_deletable(name, &Evidence::NoMarker, None).unwrap_err();
        assert!(e.to_string().contains("no ownership marker"), "{e}");
        assert!(
            e.to_string()
                .contains("kind delete cluster --name gameday-s-abc123"),
            "{e}"
        );
    }

    #[test]
    fn a_marker_of_another_run_or_cluster_is_refused_at_teardown() {
        let name = "gameday-s-abc123";
        let e = check_deletable(name, &marker("ffffff", name), Some("abc123")).unwrap_err();
        assert!(matches!(e, Refusal::OtherRun { .. }), "{e}");
        let e =
            check_deletable(name, &marker("abc123", "gameday-other"), Some("abc123")).unwrap_err();
        assert!(matches!(e, Refusal::WrongCluster { .. }), "{e}");
    }

    #[test]
    fn only_the_creating_run_may_delete_before_the_marker_exists() {
        let name = "gameday-s-abc123";
        assert_eq!(
            check_deletable(name, &Evidence::CreatedByThisRun, Some("abc123")),
            Ok(())
        );
        assert!(check_deletable(name, &Evidence::CreatedByThisRun, None).is_err());
        assert!(check_deletable("mine", &Evidence::CreatedByThisRun, Some("abc123")).is_err());
        let e = check_deletable(
            name,
            &Evidence::Unreadable("connection refused".into()),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("connection refused"), "{e}");
    }

    #[test]
    fn marker_round_trips_and_bad_ones_are_malformed() {
        let m = Marker {
            run_id: "abc123".into(),
            cluster: "gameday-s-abc123".into(),
            scenario: "s".into(),
            created_at: "t".into(),
        };
        let cm = marker_object(&m);
        assert_eq!(parse_marker(&cm), Evidence::Marker(m));
        let mut unlabelled = cm.clone();
        unlabelled.metadata.labels = None;
        assert!(matches!(parse_marker(&unlabelled), Evidence::Malformed(_)));
        let mut mismatched = cm;
        mismatched
            .data
            .as_mut()
            .unwrap()
            .insert("runId".into(), "other".into());
        assert!(matches!(parse_marker(&mismatched), Evidence::Malformed(_)));
    }
}
