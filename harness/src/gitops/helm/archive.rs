//! Chart archives (`<chart>-<version>.tgz`, one top folder named after the
//! chart), with the system's `tar`: reading an archive's `Chart.yaml`,
//! unpacking one, packing a chart folder as `helm package` lays it out.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::process::Cmd;

const TAR_TIMEOUT: Duration = Duration::from_secs(120);

fn stderr(e: &crate::process::ProcessError) -> String {
    e.stderr()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| e.to_string())
}

/// The top-level `Chart.yaml` of a chart archive, parsed.
///
/// # Errors
/// A message naming the archive: not a gzipped tar, no `Chart.yaml` at
/// its top folder, YAML that does not parse.
pub async fn chart_yaml(tgz: &Path) -> Result<Value, String> {
    let out = Cmd::new("tar")
        .args(["-xzOf"])
        .arg(tgz)
        .args(["--wildcards", "--no-wildcards-match-slash", "*/Chart.yaml"])
        .timeout(TAR_TIMEOUT)
        .output()
        .await
        .map_err(|e| {
            format!(
                "{}: not a chart archive (no Chart.yaml at its top folder): {}",
                tgz.display(),
                stderr(&e)
            )
        })?;
    serde_yaml::from_str(&out.stdout)
        .map_err(|e| format!("{}: Chart.yaml does not parse: {e}", tgz.display()))
}

/// Unpacks a chart archive into `dir` (created), without its top folder:
/// `dir/Chart.yaml`, `dir/templates/`…
///
/// # Errors
/// A message naming the archive.
pub async fn unpack(tgz: &Path, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Cmd::new("tar")
        .arg("-xzf")
        .arg(tgz)
        .arg("-C")
        .arg(dir)
        .args([
            "--strip-components=1",
            "--no-same-owner",
            "--no-same-permissions",
        ])
        .timeout(TAR_TIMEOUT)
        .output()
        .await
        .map_err(|e| format!("{}: cannot unpack: {}", tgz.display(), stderr(&e)))?;
    Ok(())
}

/// Packs the chart folder `chart` as `tgz` with the top folder `name`
/// (reproducibly: sorted, owner 0, time 0), as `helm package` would.
/// Returns the archive's `sha256:` digest and size.
///
/// # Errors
/// A message naming the step that failed.
pub async fn pack(chart: &Path, name: &str, tgz: &Path) -> Result<(String, u64), String> {
    let parent = chart
        .parent()
        .ok_or_else(|| format!("{}: no parent folder", chart.display()))?;
    let folder = chart
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Cmd::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
        ])
        .arg(format!("--transform=s,^{},{name},", regex_escape(&folder)))
        // `gzip -n`: no name or time in the header (reproducible).
        .arg("--use-compress-program=gzip -n")
        .arg("-cf")
        .arg(tgz)
        .arg("-C")
        .arg(parent)
        .arg(&folder)
        .timeout(TAR_TIMEOUT)
        .output()
        .await
        .map_err(|e| format!("failed to package the chart: {}", stderr(&e)))?;
    let bytes = std::fs::read(tgz).map_err(|e| format!("{}: {e}", tgz.display()))?;
    let digest = super::index::hex(&ring::digest::digest(&ring::digest::SHA256, &bytes));
    Ok((format!("sha256:{digest}"), bytes.len() as u64))
}

/// `s` with the characters of a sed basic regex escaped.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.*[]^$,";
            special
                .contains(c)
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(dir: &Path) -> std::path::PathBuf {
        let c = dir.join("src/my.chart");
        std::fs::create_dir_all(c.join("templates")).unwrap();
        std::fs::create_dir_all(c.join("charts/sub")).unwrap();
        std::fs::write(
            c.join("Chart.yaml"),
            "apiVersion: v2\nname: hello\nversion: 1.2.3\n",
        )
        .unwrap();
        std::fs::write(
            c.join("charts/sub/Chart.yaml"),
            "name: sub\nversion: 9.9.9\n",
        )
        .unwrap();
        std::fs::write(c.join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
        c
    }

    #[tokio::test]
    async fn a_packed_chart_reads_back_and_unpacks_without_its_top_folder() {
        let t = tempfile::tempdir().unwrap();
        let c = chart(t.path());
        let tgz = t.path().join("hello-1.2.3.tgz");
        let (digest, size) = pack(&c, "hello", &tgz).await.unwrap();
        assert!(digest.starts_with("sha256:") && size > 0);
        // Reproducible: the same folder gives the same digest.
        let again = t.path().join("again.tgz");
        assert_eq!(pack(&c, "hello", &again).await.unwrap().0, digest);
        // The top Chart.yaml, not the subchart's.
        let meta = chart_yaml(&tgz).await.unwrap();
        assert_eq!(meta["version"], "1.2.3");
        let out = t.path().join("out");
        unpack(&tgz, &out).await.unwrap();
        assert!(out.join("Chart.yaml").is_file());
        assert!(out.join("templates/cm.yaml").is_file());
    }

    #[tokio::test]
    async fn a_file_that_is_no_chart_archive_is_named() {
        let t = tempfile::tempdir().unwrap();
        let bad = t.path().join("bad.tgz");
        std::fs::write(&bad, "not gzip").unwrap();
        let e = chart_yaml(&bad).await.unwrap_err();
        assert!(e.contains("bad.tgz: not a chart archive"), "{e}");
    }
}
