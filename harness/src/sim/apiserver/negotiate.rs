//! Content negotiation: which representation the client asked for.

use crate::sim::storage::status::{ApiError, ApiResult, Reason};

/// The representation of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Plain JSON objects and lists.
    Json,
    /// `meta.k8s.io/v1` Table (kubectl get); `full` embeds whole objects.
    Table {
        /// `includeObject=Object`.
        full: bool,
    },
    /// `PartialObjectMetadata(List)`.
    Metadata,
    /// Aggregated discovery `apidiscovery.k8s.io/v2`.
    Aggregated,
}

struct Media<'a> {
    mime: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

fn parse(accept: &str) -> Vec<Media<'_>> {
    accept
        .split(',')
        .map(|part| {
            let mut it = part.split(';');
            let mime = it.next().unwrap_or("").trim();
            let params = it
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            Media { mime, params }
        })
        .collect()
}

/// Picks the first supported representation in `Accept`.
///
/// # Errors
/// 406 when no JSON type is acceptable.
pub fn choose(
    accept: Option<&str>,
    include_object: Option<&str>,
    discovery: bool,
) -> ApiResult<Output> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Output::Json);
    };
    for m in parse(accept) {
        let param = |k: &str| m.params.iter().find(|(pk, _)| *pk == k).map(|(_, v)| *v);
        match m.mime {
            "application/json" => match (param("as"), param("g"), param("v")) {
                (None, _, _) => return Ok(Output::Json),
                (Some("APIGroupDiscoveryList"), Some("apidiscovery.k8s.io"), Some("v2"))
                    if discovery =>
                {
                    return Ok(Output::Aggregated);
                }
                (Some("Table"), Some("meta.k8s.io"), Some("v1" | "v1beta1")) if !discovery => {
                    return Ok(Output::Table {
                        full: include_object == Some("Object"),
                    });
                }
                (
                    Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
                    Some("meta.k8s.io"),
                    Some("v1" | "v1beta1"),
                ) if !discovery => {
                    return Ok(Output::Metadata);
                }
                _ => continue,
            },
            "*/*" | "application/*" => return Ok(Output::Json),
            _ => continue,
        }
    }
    Err(ApiError::new(
        Reason::NotAcceptable,
        format!(
            "only the following media types are accepted: application/json, application/yaml (got {accept})"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_and_kube_rs_accepts() {
        let agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(choose(Some(agg), None, true).unwrap(), Output::Aggregated);
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(
            choose(Some(table), None, false).unwrap(),
            Output::Table { full: false }
        );
        assert_eq!(choose(Some(table), None, true).unwrap(), Output::Json);
        assert_eq!(choose(None, None, false).unwrap(), Output::Json);
        assert_eq!(
            choose(Some("application/vnd.kubernetes.protobuf"), None, false)
                .unwrap_err()
                .code,
            406
        );
        assert_eq!(
            choose(
                Some("application/vnd.kubernetes.protobuf, */*"),
                None,
                false
            )
            .unwrap(),
            Output::Json
        );
    }
}
