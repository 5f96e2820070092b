//! Helm repository indexes (`index.yaml`): reading one, choosing a chart
//! version in it as Flux's source-controller does, and writing one for a
//! folder of chart archives as `helm repo index` would (a mirror folder
//! without an `index.yaml`).
//!
//! Version choice (source-controller `internal/helm/repository`): an exact
//! version string wins; `""` and `*` mean the latest stable version; any
//! other text is a Masterminds semver constraint
//! ([`crate::gitops::fetch::semver`]: `1.x`, `>=1.0.0-alpha`, `~1.2`,
//! `||`…), pre-releases matching only constraints that mention one; the
//! highest match wins, and between equal versions the newest `created`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::archive;
use crate::gitops::fetch::semver::{Constraint, Version};

/// One chart version of an index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Chart name.
    #[serde(default)]
    pub name: String,
    /// Chart version.
    #[serde(default)]
    pub version: String,
    /// `appVersion`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    /// `apiVersion` of the chart (`v2`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `description`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Where the archive is (absolute, or relative to the repository URL).
    #[serde(default)]
    pub urls: Vec<String>,
    /// `sha256` hex of the archive.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// When it was indexed (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
}

/// A repository index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// `v1`.
    #[serde(default)]
    pub api_version: String,
    /// Chart name → its versions.
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<Entry>>,
    /// When it was generated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generated: String,
}

impl Index {
    /// Parses an `index.yaml`.
    ///
    /// # Errors
    /// The YAML error, or `no API version specified` as Helm says.
    pub fn parse(bytes: &[u8]) -> Result<Index, String> {
        let index: Index = serde_yaml::from_slice(bytes).map_err(|e| e.to_string())?;
        if index.api_version.is_empty() {
            return Err("no API version specified".into());
        }
        Ok(index)
    }

    /// The version of `chart` that `version` selects (see the module docs).
    ///
    /// # Errors
    /// Flux's messages: `no chart name found`, `no '<chart>' chart with
    /// version matching '<version>' found`, an improper constraint.
    pub fn select(&self, chart: &str, version: &str) -> Result<&Entry, String> {
        let versions = self
            .entries
            .get(chart)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("no chart name found for '{chart}' in the index"))?;
        if let Some(exact) = versions.iter().find(|e| e.version == version) {
            return Ok(exact);
        }
        let wanted = if version.trim().is_empty() {
            "*"
        } else {
            version
        };
        let constraint = Constraint::parse(wanted)?;
        versions
            .iter()
            .filter_map(|e| Version::parse(&e.version).map(|v| (v, e)))
            .filter(|(v, _)| constraint.matches(v))
            .max_by(|(va, a), (vb, b)| va.cmp(vb).then_with(|| a.created.cmp(&b.created)))
            .map(|(_, e)| e)
            .ok_or_else(|| format!("no '{chart}' chart with version matching '{version}' found"))
    }
}

/// The URL of an entry's archive: its first URL, resolved against the
/// repository URL when relative (as Helm does).
///
/// # Errors
/// When the entry has no URL.
pub fn chart_url(repo_url: &str, entry: &Entry) -> Result<String, String> {
    let first = entry.urls.first().ok_or_else(|| {
        format!(
            "chart '{}' version '{}' has no downloadable URLs",
            entry.name, entry.version
        )
    })?;
    if first.contains("://") {
        return Ok(first.clone());
    }
    Ok(format!(
        "{}/{}",
        repo_url.trim_end_matches('/'),
        first.trim_start_matches("./")
    ))
}

/// An index of the chart archives (`*.tgz`) of `dir`, as `helm repo index`
/// writes one: each archive's `Chart.yaml`, its digest, its file name as
/// URL (relative to the repository), `created` from its modification time.
///
/// # Errors
/// A message naming the archive that could not be read.
pub async fn of_folder(dir: &Path) -> Result<Index, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "tgz"))
        .collect();
    files.sort();
    let mut index = Index {
        api_version: "v1".into(),
        ..Index::default()
    };
    for file in files {
        let meta = archive::chart_yaml(&file).await?;
        let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let created = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .map(|t| t.to_string())
            .unwrap_or_default();
        let name = file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let field = |f: &str| {
            meta.get(f)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let entry = Entry {
            name: field("name"),
            version: field("version"),
            app_version: field("appVersion"),
            api_version: field("apiVersion"),
            description: field("description"),
            urls: vec![name],
            digest: hex(&ring::digest::digest(&ring::digest::SHA256, &bytes)),
            created,
        };
        if entry.name.is_empty() || entry.version.is_empty() {
            return Err(format!(
                "{}: Chart.yaml has no name or version",
                file.display()
            ));
        }
        index
            .entries
            .entry(entry.name.clone())
            .or_default()
            .push(entry);
    }
    for versions in index.entries.values_mut() {
        versions.sort_by(|a, b| {
            let v = |e: &Entry| Version::parse(&e.version);
            v(b).cmp(&v(a))
        });
    }
    Ok(index)
}

/// Lowercase hex of a digest.
pub fn hex(d: &ring::digest::Digest) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "apiVersion: v1
entries:
  podinfo:
  - name: podinfo
    version: 6.0.0
    urls: [podinfo-6.0.0.tgz]
    created: '2024-01-01T00:00:00Z'
  - name: podinfo
    version: 6.1.2
    urls: [https://cdn.example.com/podinfo-6.1.2.tgz]
    created: '2024-02-01T00:00:00Z'
  - name: podinfo
    version: 7.0.0-rc.1
    urls: [podinfo-7.0.0-rc.1.tgz]
  - name: podinfo
    version: 1.0.0
    urls: [podinfo-1.0.0.tgz]
  - name: podinfo
    version: latest-build
    urls: [podinfo-latest-build.tgz]
";

    fn pick(version: &str) -> Result<String, String> {
        let i = Index::parse(INDEX.as_bytes()).unwrap();
        i.select("podinfo", version).map(|e| e.version.clone())
    }

    #[test]
    fn versions_are_chosen_as_flux_chooses_them() {
        assert_eq!(pick("").unwrap(), "6.1.2");
        assert_eq!(pick("*").unwrap(), "6.1.2");
        assert_eq!(pick("6.x").unwrap(), "6.1.2");
        assert_eq!(pick("6.0.x").unwrap(), "6.0.0");
        assert_eq!(pick(">=1.0.0-alpha").unwrap(), "7.0.0-rc.1");
        assert_eq!(pick("<2.0.0 || ~6.0").unwrap(), "6.0.0");
        assert_eq!(pick("1.0.0").unwrap(), "1.0.0");
        // An exact string wins even when it is not a version.
        assert_eq!(pick("latest-build").unwrap(), "latest-build");
        assert_eq!(
            pick("9.x").unwrap_err(),
            "no 'podinfo' chart with version matching '9.x' found"
        );
        let i = Index::parse(INDEX.as_bytes()).unwrap();
        assert!(
            i.select("nginx", "*")
                .unwrap_err()
                .contains("no chart name found")
        );
    }

    #[test]
    fn chart_urls_resolve_against_the_repository() {
        let i = Index::parse(INDEX.as_bytes()).unwrap();
        let e = i.select("podinfo", "6.0.0").unwrap();
        assert_eq!(
            chart_url("https://charts.example.com/", e).unwrap(),
            "https://charts.example.com/podinfo-6.0.0.tgz"
        );
        let e = i.select("podinfo", "6.1.2").unwrap();
        assert_eq!(
            chart_url("https://charts.example.com", e).unwrap(),
            "https://cdn.example.com/podinfo-6.1.2.tgz"
        );
    }

    #[test]
    fn an_index_without_api_version_is_refused() {
        assert_eq!(
            Index::parse(b"entries: {}\n").unwrap_err(),
            "no API version specified"
        );
        assert!(Index::parse(b"apiVersion: [").is_err());
    }
}
