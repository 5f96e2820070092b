//! A whole artifact pulled as Flux's OCIRepository pulls it, for gameday's
//! own use: a scenario whose `spec.source` is an OCI artifact (`flux push
//! artifact`) is rendered, scanned and judged from the artifact's files,
//! at the revision the cluster's OCIRepository must reach.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::{Error, Oci, Ref, highest_tag, pack};

/// What an artifact source follows: OCIRepository's `spec.ref.tag` or
/// `spec.ref.semver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ArtifactRef {
    /// A tag (`latest`, `v1.2.0`).
    Tag(String),
    /// A semver range over the repository's tags; the highest match.
    Semver(String),
}

impl ArtifactRef {
    /// `spec.ref` of an OCIRepository following it.
    pub fn flux_ref(&self) -> Value {
        match self {
            ArtifactRef::Tag(t) => json!({"tag": t}),
            ArtifactRef::Semver(s) => json!({"semver": s}),
        }
    }
}

impl std::fmt::Display for ArtifactRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArtifactRef::Tag(t) => write!(f, "tag {t}"),
            ArtifactRef::Semver(s) => write!(f, "semver {s}"),
        }
    }
}

/// An artifact pulled and extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    /// Flux's revision of it: `<tag>@sha256:<manifest digest>`.
    pub revision: String,
    /// The tag it was pulled at.
    pub tag: String,
}

impl Oci {
    /// Pulls the artifact `reference` selects at `url` and extracts its
    /// content layer (Flux's, else the first) into `dir`, every step
    /// within `timeout`.
    ///
    /// # Errors
    /// [`Error`] naming the URL: the registry failed or cannot be
    /// reached, no tag matches the range, the artifact has no layer, or
    /// the layer does not extract.
    pub async fn pull_artifact(
        &self,
        url: &str,
        reference: &ArtifactRef,
        dir: &Path,
        timeout: Duration,
    ) -> Result<Pulled, Error> {
        let tag = match reference {
            ArtifactRef::Tag(t) => t.clone(),
            ArtifactRef::Semver(range) => {
                let tags = self.tags(url, false, timeout).await?;
                let failed = |message: String| Error::Registry {
                    url: url.to_owned(),
                    message,
                };
                highest_tag(&tags, range, None, false)
                    .map_err(failed)?
                    .ok_or_else(|| {
                        failed(format!(
                            "no tag matches semver '{range}' (tags: {})",
                            shorten(&tags)
                        ))
                    })?
            }
        };
        let manifest = self
            .manifest(url, &Ref::Tag(tag.clone()), false, timeout)
            .await?;
        let at = format!("{url}:{tag}");
        let layer = manifest
            .layers
            .iter()
            .find(|l| l.media_type == pack::FLUX_CONTENT)
            .or_else(|| manifest.layers.first())
            .ok_or_else(|| Error::Registry {
                url: at.clone(),
                message: "the artifact has no layer".to_owned(),
            })?;
        let blob = self.layer(url, layer, false, timeout).await?;
        pack::extract(&blob, dir).map_err(|message| Error::Registry {
            url: at,
            message: format!("failed to extract the artifact: {message}"),
        })?;
        Ok(Pulled {
            revision: format!("{tag}@{}", manifest.digest),
            tag,
        })
    }
}

/// The first tags, for a message.
fn shorten(tags: &[String]) -> String {
    if tags.is_empty() {
        return "none".to_owned();
    }
    let mut s = tags.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
    if tags.len() > 10 {
        s.push_str(&format!(", … {} more", tags.len() - 10));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_written_as_flux_s_spec_ref() {
        assert_eq!(
            ArtifactRef::Tag("v1".into()).flux_ref(),
            json!({"tag": "v1"})
        );
        assert_eq!(
            ArtifactRef::Semver("1.x".into()).flux_ref(),
            json!({"semver": "1.x"})
        );
        assert_eq!(shorten(&[]), "none");
        let many: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert!(shorten(&many).ends_with(", … 2 more"));
    }
}
