//! Reading a `report.json` back, for the commands that work on finished
//! runs (`gameday report merge`, `gameday compare`, `run --baseline`).

use std::path::{Path, PathBuf};

use super::tree::{REPORT_FORMAT, RunReport};

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file (or the folder's `report.json`) could not be read.
    #[error("cannot read the report {}: give a report.json or the folder holding one (--out of gameday run)", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a report gameday can read.
    #[error("{} is not a gameday report ({REPORT_FORMAT}): regenerate it with this version of gameday", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The report is of another format version.
    #[error("{} is a report of format {found:?}; this gameday reads {REPORT_FORMAT}: regenerate it with this version of gameday", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// Its `format`.
        found: String,
    },
}

/// The file a report path names: `path` itself, or `path/report.json`
/// when `path` is a folder.
pub fn report_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(super::Format::Json.file_name())
    } else {
        path.to_owned()
    }
}

/// Reads the report at `path` (a `report.json`, or a folder holding one).
///
/// # Errors
/// [`ReadError`] naming the file.
pub fn read(path: &Path) -> Result<RunReport, ReadError> {
    let file = report_file(path);
    let text = std::fs::read_to_string(&file).map_err(|source| ReadError::Io {
        path: file.clone(),
        source,
    })?;
    // serde_json refuses nesting past 128 levels on its own.
    let report: RunReport = serde_json::from_str(&text).map_err(|source| ReadError::Parse {
        path: file.clone(),
        source,
    })?;
    if report.format != REPORT_FORMAT {
        return Err(ReadError::Format {
            path: file,
            found: report.format,
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{json, testing};

    #[test]
    fn reads_a_file_or_a_folder_and_names_the_file_when_it_cannot() {
        let dir = tempfile::tempdir().unwrap();
        let report = testing::run_report();
        std::fs::write(
            dir.path().join("report.json"),
            json::to_string(&report).unwrap(),
        )
        .unwrap();
        assert_eq!(read(dir.path()).unwrap(), report);
        assert_eq!(read(&dir.path().join("report.json")).unwrap(), report);

        let missing = read(&dir.path().join("nope.json")).unwrap_err();
        assert!(matches!(missing, ReadError::Io { .. }), "{missing}");
        assert!(missing.to_string().contains("nope.json"), "{missing}");

        std::fs::write(dir.path().join("bad.json"), "{\"format\": 1}").unwrap();
        let bad = read(&dir.path().join("bad.json")).unwrap_err().to_string();
        assert!(
            bad.contains("bad.json") && bad.contains("not a gameday report"),
            "{bad}"
        );

        let mut other = report.clone();
        other.format = "gameday.report/v0".to_owned();
        std::fs::write(dir.path().join("v0.json"), json::to_string(&other).unwrap()).unwrap();
        let v0 = read(&dir.path().join("v0.json")).unwrap_err().to_string();
        assert!(v0.contains("\"gameday.report/v0\""), "{v0}");
    }
}
