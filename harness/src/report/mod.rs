//! Reports: one tree ([`tree`]), one sink per format.
//!
//! The runner builds a [`RunReport`] (with [`stats`] for the percentiles and
//! verdicts); [`write_all`] renders it into the `--out` directory in the
//! requested [`Format`]s. The live terminal view and the end-of-run summary
//! table are in [`terminal`]; they return text or draw through an injected
//! target, so the library itself never prints.

pub mod annotations;
pub mod compare;
pub mod events;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod junit_phases;
pub mod markdown;
pub mod merge;
pub mod openmetrics;
pub mod read;
pub mod stats;
pub mod terminal;
pub mod testing;
pub mod tree;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use tree::RunReport;

/// What can go wrong writing reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The output directory could not be created.
    #[error("cannot create the report directory {}: check the path and its permissions (--out)", .path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A report file could not be written.
    #[error("cannot write the report {}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The report tree could not be serialised as JSON.
    #[error("cannot serialise the report as JSON")]
    Json(#[source] serde_json::Error),
    /// The JUnit XML could not be produced.
    #[error("cannot serialise the report as JUnit XML")]
    Junit(#[source] quick_junit::SerializeError),
    /// The OpenMetrics text could not be produced.
    #[error("cannot encode the report as OpenMetrics text")]
    OpenMetrics,
}

/// Result of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A report file format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `report.json`: the report tree, for machines.
    Json,
    /// `junit.xml`: a testsuite per scenario, a testcase per repeat, for CI.
    Junit,
    /// `summary.md`: for a CI step summary (`$GITHUB_STEP_SUMMARY`).
    Md,
    /// `report.html`: self-contained, with timelines, to share.
    Html,
    /// `metrics.txt`: OpenMetrics text, for Prometheus and friends.
    OpenMetrics,
}

impl Format {
    /// Every format, in the order files are written.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Junit,
        Format::Md,
        Format::Html,
        Format::OpenMetrics,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Md => "md",
            Format::Html => "html",
            Format::OpenMetrics => "openmetrics",
        }
    }

    /// The file the format is written to, inside the output directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Junit => "junit.xml",
            Format::Md => "summary.md",
            Format::Html => "report.html",
            Format::OpenMetrics => openmetrics::FILE_NAME,
        }
    }

    /// Renders the report in this format.
    ///
    /// # Errors
    /// Serialisation errors (JSON, JUnit); not expected for a well-formed tree.
    pub fn render(self, report: &RunReport) -> Result<String> {
        match self {
            Format::Json => json::to_string(report),
            Format::Junit => junit::to_string(report),
            Format::Md => Ok(markdown::render(report)),
            Format::Html => Ok(html::render(report)),
            Format::OpenMetrics => openmetrics::to_string(report),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown `--format` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?}: expected one of json, junit, md, html, openmetrics")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "junit" | "xml" => Ok(Format::Junit),
            "md" | "markdown" => Ok(Format::Md),
            "html" => Ok(Format::Html),
            "openmetrics" | "metrics" => Ok(Format::OpenMetrics),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Checks, before any drill runs, that [`write_all`] will be able to write
/// into `dir`: the folder exists or can be created, a file can be created
/// in it, and the report files already there can be replaced. Creates the
/// folder; leaves nothing else behind.
///
/// # Errors
/// [`Error::CreateDir`] (not a folder, cannot be created) or
/// [`Error::Write`] naming the folder or the report file that is not
/// writable.
pub fn check_writable(dir: &Path, formats: &[Format]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let probe = dir.join(format!(".gameday-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
    for format in Format::ALL.into_iter().filter(|f| formats.contains(f)) {
        let path = dir.join(format.file_name());
        if path.symlink_metadata().is_ok() {
            // Append opens without changing a byte of the old report.
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
        }
    }
    Ok(())
}

/// Writes `report` into `dir` (created with its parents when missing) in each
/// of `formats` (duplicates written once), returning the files written in
/// [`Format::ALL`] order.
///
/// # Errors
/// [`Error::CreateDir`] or [`Error::Write`] naming the path, or a
/// serialisation error.
pub fn write_all(report: &RunReport, dir: &Path, formats: &[Format]) -> Result<Vec<PathBuf>> {
    write_all_with(report, dir, formats, WriteOptions::default())
}

/// How the report files are written, beyond their formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// `junit.xml` with a testcase per phase ([`junit_phases`]).
    pub junit_per_phase: bool,
}

/// [`write_all`] with [`WriteOptions`].
///
/// # Errors
/// As [`write_all`].
pub fn write_all_with(
    report: &RunReport,
    dir: &Path,
    formats: &[Format],
    options: WriteOptions,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for format in Format::ALL.into_iter().filter(|f| formats.contains(f)) {
        let path = dir.join(format.file_name());
        let text = match format {
            Format::Junit if options.junit_per_phase => junit_phases::to_string(report)?,
            f => f.render(report)?,
        };
        std::fs::write(&path, text).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        tracing::debug!(path = %path.display(), "report written");
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unwritable_out_is_found_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the folder should be.
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let err = check_writable(&file, &Format::ALL).unwrap_err();
        assert!(matches!(err, Error::CreateDir { .. }), "{err}");
        // A report that cannot be replaced (a folder in its place).
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("report.json")).unwrap();
        let err = check_writable(&out, &Format::ALL).unwrap_err();
        assert!(err.to_string().contains("report.json"), "{err}");
        assert!(check_writable(&out, &[Format::Md]).is_ok());
        // Nothing left behind but the folder.
        let fresh = dir.path().join("fresh/reports");
        check_writable(&fresh, &Format::ALL).unwrap();
        assert_eq!(std::fs::read_dir(&fresh).unwrap().count(), 0);
    }

    #[test]
    fn formats_parse_and_display_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
        assert_eq!("Markdown".parse::<Format>().unwrap(), Format::Md);
        let err = "pdf".parse::<Format>().unwrap_err().to_string();
        assert!(
            err.contains("\"pdf\"") && err.contains("json, junit, md, html, openmetrics"),
            "{err}"
        );
    }

    #[test]
    fn write_all_creates_the_directory_and_one_file_per_format() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested/out");
        let report = testing::run_report();
        let files = write_all(&report, &dir, &[Format::Html, Format::Json, Format::Html]).unwrap();
        assert_eq!(
            files,
            vec![dir.join("report.json"), dir.join("report.html")]
        );
        for f in &files {
            assert!(std::fs::metadata(f).unwrap().len() > 0, "{}", f.display());
        }
        assert!(!dir.join("junit.xml").exists());
    }

    #[test]
    fn write_errors_name_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let err = write_all(&testing::run_report(), &file.join("out"), &Format::ALL).unwrap_err();
        assert!(matches!(err, Error::CreateDir { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );
    }
}
