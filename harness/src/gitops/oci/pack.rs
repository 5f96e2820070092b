//! OCI artifacts as Flux and Helm lay them out, made from a mirror's tag
//! folder, and their layers unpacked.
//!
//! - A folder holding one chart archive (`<chart>-<version>.tgz`) and
//!   nothing else is a Helm chart, as `helm push` pushes it: config
//!   [`HELM_CONFIG`] (the chart's `Chart.yaml` as JSON), one layer
//!   [`HELM_CHART`] (the archive as is).
//! - Any other folder is a Flux artifact, as `flux push artifact` pushes
//!   it: config [`FLUX_CONFIG`], one layer [`FLUX_CONTENT`], the folder's
//!   files in a gzipped tar with relative names and no owners or times (the
//!   same files give the same digest on every machine).

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::Value;

/// Config media type of a Flux artifact.
pub const FLUX_CONFIG: &str = "application/vnd.cncf.flux.config.v1+json";
/// Layer media type of a Flux artifact.
pub const FLUX_CONTENT: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// Config media type of a Helm chart.
pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
/// Layer media type of a Helm chart.
pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The media type of charts pushed by old Helm versions.
pub const HELM_CHART_LEGACY: &str = "application/tar+gzip";

/// The creation time recorded in the artifacts gameday builds: fixed, so
/// a folder's artifact has the same digest on every run.
pub const CREATED: &str = "1970-01-01T00:00:00Z";

/// An artifact built from a folder: one config blob and one layer.
#[derive(Debug, Clone)]
pub struct Built {
    /// The config's media type.
    pub config_media_type: &'static str,
    /// The config blob.
    pub config: Vec<u8>,
    /// The layer's media type.
    pub layer_media_type: &'static str,
    /// The layer blob (a gzipped tar).
    pub layer: Vec<u8>,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// The one chart archive of `dir`, when that is all it holds (hidden
/// files aside).
fn lone_chart(dir: &Path) -> io::Result<Option<std::path::PathBuf>> {
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if !e.file_name().to_string_lossy().starts_with('.') {
            entries.push(e);
        }
    }
    Ok(match entries.as_slice() {
        [one]
            if one.file_type()?.is_file()
                && one.file_name().to_string_lossy().ends_with(".tgz") =>
        {
            Some(one.path())
        }
        _ => None,
    })
}

/// The artifact of a mirror's tag folder (see the module docs), for the
/// repository at `url`.
///
/// # Errors
/// A message naming the folder or file that could not be read, or the
/// chart archive that is not one.
pub fn build(dir: &Path, url: &str, tag: &str) -> Result<Built, String> {
    let named = |e: io::Error| format!("{}: {e}", dir.display());
    let mut annotations = BTreeMap::from([
        (
            "org.opencontainers.image.created".to_owned(),
            CREATED.to_owned(),
        ),
        ("org.opencontainers.image.source".to_owned(), url.to_owned()),
    ]);
    if let Some(chart) = lone_chart(dir).map_err(named)? {
        let layer = std::fs::read(&chart).map_err(|e| format!("{}: {e}", chart.display()))?;
        let meta = chart_yaml(&layer).map_err(|e| format!("{}: {e}", chart.display()))?;
        for (k, f) in [
            ("org.opencontainers.image.title", "name"),
            ("org.opencontainers.image.version", "version"),
            ("org.opencontainers.image.description", "description"),
        ] {
            if let Some(v) = meta.get(f).and_then(Value::as_str) {
                annotations.insert(k.to_owned(), v.to_owned());
            }
        }
        annotations.remove("org.opencontainers.image.source");
        return Ok(Built {
            config_media_type: HELM_CONFIG,
            config: serde_json::to_vec(&meta).map_err(|e| e.to_string())?,
            layer_media_type: HELM_CHART,
            layer,
            annotations,
        });
    }
    annotations.insert(
        "org.opencontainers.image.revision".to_owned(),
        tag.to_owned(),
    );
    Ok(Built {
        config_media_type: FLUX_CONFIG,
        config: b"{}".to_vec(),
        layer_media_type: FLUX_CONTENT,
        layer: tar_gz(dir).map_err(named)?,
        annotations,
    })
}

/// The files and folders under `dir` as a gzipped tar: names relative to
/// `dir`, sorted, without owners or times; `.git` folders and symbolic
/// links are left out.
///
/// # Errors
/// When a file cannot be read.
pub fn tar_gz(dir: &Path) -> io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() && e.file_name() != ".git" {
                files.push((e.path(), true));
                stack.push(e.path());
            } else if t.is_file() {
                files.push((e.path(), false));
            }
        }
    }
    files.sort();
    for (path, is_dir) in files {
        let rel = path.strip_prefix(dir).map_err(io::Error::other)?;
        let mut h = tar::Header::new_gnu();
        if is_dir {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            h.set_mtime(0);
            tar.append_data(&mut h, rel, io::empty())?;
        } else {
            let data = std::fs::read(&path)?;
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(data.len() as u64);
            h.set_mtime(0);
            tar.append_data(&mut h, rel, data.as_slice())?;
        }
    }
    tar.into_inner()?.finish()
}

/// Unpacks a gzipped tar layer into `dir` (created). Entries that would
/// land outside `dir` are refused, links are not created.
///
/// # Errors
/// A message saying what is wrong with the layer.
pub fn extract(layer: &[u8], dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    tar.set_preserve_permissions(false);
    tar.set_overwrite(true);
    let entries = tar
        .entries()
        .map_err(|e| format!("the layer is not a gzipped tar: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("the layer is not a gzipped tar: {e}"))?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        let ok = entry
            .unpack_in(dir)
            .map_err(|e| format!("failed to extract the layer: {e}"))?;
        if !ok {
            let name = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Err(format!("the layer has an entry outside its root: '{name}'"));
        }
    }
    Ok(())
}

/// The top-level `Chart.yaml` of a chart archive (`<chart>/Chart.yaml`),
/// parsed.
///
/// # Errors
/// A message: not a gzipped tar, no `Chart.yaml` at its top folder, YAML
/// that does not parse.
pub fn chart_yaml(tgz: &[u8]) -> Result<Value, String> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let entries = tar
        .entries()
        .map_err(|e| format!("not a chart archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a chart archive: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("not a chart archive: {e}"))?
            .into_owned();
        let parts: Vec<_> = path.components().collect();
        if parts.len() == 2 && path.file_name().is_some_and(|f| f == "Chart.yaml") {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| format!("Chart.yaml: {e}"))?;
            return serde_yaml::from_str(&text)
                .map_err(|e| format!("Chart.yaml does not parse: {e}"));
        }
    }
    Err("not a chart archive: no Chart.yaml at its top folder".to_owned())
}

/// Writes `data` to `path` through a temporary file next to it (a reader
/// never sees half a file).
///
/// # Errors
/// When writing fails.
pub fn write_atomically(path: &Path, data: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("partial");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_packs_the_same_bytes_every_time_and_unpacks_to_the_same_files() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        std::fs::create_dir_all(src.join("apps/web")).unwrap();
        std::fs::create_dir_all(src.join(".git")).unwrap();
        std::fs::write(src.join(".git/HEAD"), "x").unwrap();
        std::fs::write(src.join("apps/web/deploy.yaml"), "kind: Deployment\n").unwrap();
        std::fs::write(src.join("kustomization.yaml"), "resources: []\n").unwrap();
        let a = build(&src, "oci://r.example/x", "1.0.0").unwrap();
        // A later mtime does not change the digest.
        std::fs::write(src.join("kustomization.yaml"), "resources: []\n").unwrap();
        let b = build(&src, "oci://r.example/x", "1.0.0").unwrap();
        assert_eq!(a.layer, b.layer);
        assert_eq!(a.layer_media_type, FLUX_CONTENT);
        assert_eq!(a.annotations["org.opencontainers.image.revision"], "1.0.0");
        let out = t.path().join("out");
        extract(&a.layer, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("apps/web/deploy.yaml")).unwrap(),
            "kind: Deployment\n"
        );
        assert!(!out.join(".git").exists());
    }

    #[test]
    fn a_lone_chart_archive_is_a_helm_chart() {
        let t = tempfile::tempdir().unwrap();
        let chart = t.path().join("chart");
        std::fs::create_dir_all(chart.join("edge/templates")).unwrap();
        std::fs::write(
            chart.join("edge/Chart.yaml"),
            "apiVersion: v2\nname: edge\nversion: 1.2.0\n",
        )
        .unwrap();
        let tgz = tar_gz(&chart).unwrap();
        let tag = t.path().join("1.2.0");
        std::fs::create_dir_all(&tag).unwrap();
        std::fs::write(tag.join("edge-1.2.0.tgz"), &tgz).unwrap();
        let b = build(&tag, "oci://r.example/charts/edge", "1.2.0").unwrap();
        assert_eq!(b.layer_media_type, HELM_CHART);
        assert_eq!(b.layer, tgz);
        let config: Value = serde_json::from_slice(&b.config).unwrap();
        assert_eq!(config["version"], "1.2.0");
        assert_eq!(b.annotations["org.opencontainers.image.title"], "edge");
    }

    #[test]
    fn a_layer_escaping_its_root_is_refused() {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        // Written raw: the builder itself refuses `..`.
        h.as_gnu_mut().unwrap().name[..10].copy_from_slice(b"../evil.tx");
        h.set_cksum();
        tar.append(&h, &b"x"[..]).unwrap();
        let layer = tar.into_inner().unwrap().finish().unwrap();
        let t = tempfile::tempdir().unwrap();
        let e = extract(&layer, &t.path().join("out")).unwrap_err();
        assert!(e.contains("outside its root"), "{e}");
        assert!(!t.path().join("evil.tx").exists());
        let e = extract(b"not gzip", &t.path().join("out2")).unwrap_err();
        assert!(e.contains("not a gzipped tar"), "{e}");
    }
}
