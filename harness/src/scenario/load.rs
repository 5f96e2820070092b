//! Reading a scenario file: size and emptiness checks, YAML syntax, the
//! `apiVersion`/`kind` dispatch, strict decoding with line:column and field
//! paths, then conversion to the model.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::convert;
use super::diagnostic::{Diagnostic, Diagnostics, Location};
use super::file::{API_VERSION, KIND, ScenarioFile};
use super::model::Scenario;

/// Largest scenario file read. Scenarios are a page or two of YAML; a much
/// larger file is a mistake (a wrong path, a generated dump).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Loads and validates one scenario file: the drills it declares (one, or
/// one per `spec.disasters` alternative).
///
/// # Errors
/// [`Diagnostics`] listing every problem found: I/O, syntax and type
/// errors (one at a time, with line:column), then all semantic problems at
/// once (with field paths).
pub fn load(path: &Path) -> Result<Vec<Scenario>, Diagnostics> {
    let text = read(path)?;
    load_str(&text, path)
}

/// Validates scenario text as if it were the file `path` (relative paths
/// inside resolve against `path`'s folder).
///
/// # Errors
/// As [`load`].
pub fn load_str(text: &str, path: &Path) -> Result<Vec<Scenario>, Diagnostics> {
    let file = parse(text, path)?;
    let base_dir = base_dir(path);
    convert::convert_all(&file, path, &base_dir).map_err(|items| Diagnostics {
        file: path.to_owned(),
        items,
    })
}

/// [`load`] for a file that declares exactly one drill.
///
/// # Errors
/// As [`load`]; a file with alternatives is a file-level diagnostic.
pub fn load_one(path: &Path) -> Result<Scenario, Diagnostics> {
    let text = read(path)?;
    load_one_str(&text, path)
}

/// [`load_str`] for text that declares exactly one drill (what `gameday
/// init` and ad-hoc drills write).
///
/// # Errors
/// As [`load`]; a file with alternatives is a file-level diagnostic.
pub fn load_one_str(text: &str, path: &Path) -> Result<Scenario, Diagnostics> {
    let mut drills = load_str(text, path)?;
    if drills.len() == 1 {
        return Ok(drills.remove(0));
    }
    Err(Diagnostics::one(
        path,
        Diagnostic::file(format!(
            "declares {} drills; one was expected",
            drills.len()
        ))
        .help("keep one entry in spec.disasters (or use spec.disaster); `gameday run` runs a file of several"),
    ))
}

fn base_dir(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned())
}

fn read(path: &Path) -> Result<String, Diagnostics> {
    let fail = |message: String, help: &str| {
        Diagnostics::one(path, Diagnostic::file(message).help(help.to_owned()))
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(
            format!("cannot read: {e}"),
            "give the path of a scenario file (*.yaml) or of a folder holding them",
        )
    })?;
    if meta.is_dir() {
        return Err(fail(
            "is a folder".into(),
            "give a scenario file, or pass the folder to validate every *.yaml in it",
        ));
    }
    if !meta.is_file() {
        // A FIFO would block the read forever, a device (`/dev/zero`) never
        // ends: only regular files are scenario files.
        return Err(fail(
            format!("is not a regular file (it is {})", file_kind(&meta)),
            "give a scenario file saved on disk; devices, pipes and sockets are not read",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(
            format!(
                "is {:.1} MiB; scenario files are limited to {} KiB",
                meta.len() as f64 / (1024.0 * 1024.0),
                MAX_FILE_BYTES / 1024
            ),
            "a scenario is a page of YAML: check that this is the file you meant",
        ));
    }
    // Bounded even if the file grows between the check and the read.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(format!("cannot read: {e}"), "check the file's permissions"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(
            format!("grew past {} KiB while it was read", MAX_FILE_BYTES / 1024),
            "a scenario is a page of YAML: check that this is the file you meant",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "save the file as UTF-8",
        )
    })
}

/// What a non-regular file is, for the message.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Parses the text into the file format, strictly.
fn parse(text: &str, path: &Path) -> Result<ScenarioFile, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics::one(path, d);
    if text.trim().is_empty() || is_only_comments(text) {
        return Err(one(
            Diagnostic::file("is empty").help(format!(
                "a scenario starts with `apiVersion: {API_VERSION}` and `kind: {KIND}`; see scenarios/README.md"
            )),
        ));
    }
    if let Err(e) = crate::nesting::check(text.as_bytes(), crate::nesting::MAX_DEPTH) {
        let d = Diagnostic {
            location: Location::Position {
                line: e.line,
                column: e.column,
                path: String::new(),
            },
            message: format!("the YAML {e}"),
            help: Some(
                "a scenario nests a few levels; check that this is the file you meant".into(),
            ),
        };
        return Err(one(d));
    }
    // First as untyped YAML: syntax errors, the document's shape, and the
    // version dispatch, so an unknown apiVersion is reported as such rather
    // than as a field mismatch.
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = <serde_yaml::Value as serde::Deserialize>::deserialize(doc)
            .map_err(|e| one(with_syntax_help(yaml_error(&e, ""), &e, text)))?;
        docs.push(value);
    }
    let docs: Vec<serde_yaml::Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let value = match docs.as_slice() {
        [] => {
            return Err(one(Diagnostic::file("holds no YAML document").help(
                format!("a scenario starts with `apiVersion: {API_VERSION}`"),
            )));
        }
        [v] => v,
        _ => {
            return Err(one(Diagnostic::file(format!(
                "holds {} YAML documents; a scenario file holds exactly one",
                docs.len()
            ))
            .help("split it into one file per scenario")));
        }
    };
    let Some(map) = value.as_mapping() else {
        return Err(one(
            Diagnostic::file(format!("the document is {}, not a mapping", describe(value))).help(format!(
                "a scenario is a mapping with apiVersion, kind, metadata and spec; it starts with `apiVersion: {API_VERSION}`"
            )),
        ));
    };
    match map.get("apiVersion") {
        None => {
            return Err(one(Diagnostic::field("apiVersion", "is missing")
                .help(format!("add `apiVersion: {API_VERSION}`"))));
        }
        Some(serde_yaml::Value::String(v)) if v == API_VERSION => {}
        Some(other) => {
            return Err(one(Diagnostic::field(
                "apiVersion",
                format!(
                    "unknown apiVersion {}: this gameday reads {API_VERSION}",
                    render(other)
                ),
            )
            .help(format!("set `apiVersion: {API_VERSION}`"))));
        }
    }
    match map.get("kind") {
        None => {
            return Err(one(
                Diagnostic::field("kind", "is missing").help(format!("add `kind: {KIND}`"))
            ));
        }
        Some(serde_yaml::Value::String(k)) if k == KIND => {}
        Some(other) => {
            return Err(one(Diagnostic::field(
                "kind",
                format!("unknown kind {}: expected {KIND}", render(other)),
            )
            .help(format!("set `kind: {KIND}`"))));
        }
    }
    // Then strictly, from the text, so errors keep their line and column.
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, ScenarioFile>(de).map_err(|e| {
        let path = e.path().to_string();
        one(yaml_error(e.inner(), &path))
    })
}

fn is_only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

fn describe(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Null => "empty",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Tagged(_) => "a tagged value",
    }
}

fn render(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::String(s) => format!("{s:?}"),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| describe(other).to_owned()),
    }
}

/// A serde_yaml error as a diagnostic: its position, the field path (when
/// serde_path_to_error found one), and a message without serde_yaml's own
/// path prefix and position suffix.
fn yaml_error(e: &serde_yaml::Error, path: &str) -> Diagnostic {
    let mut message = strip_positions(&e.to_string());
    // serde_yaml prefixes its own (shorter) path: "spec.disaster: unknown field".
    if let Some((prefix, rest)) = message.split_once(": ")
        && !prefix.contains(' ')
        && !prefix.is_empty()
        && (path.starts_with(prefix) || prefix == ".")
    {
        message = rest.to_owned();
    }
    let message = polish(&message);
    let path = if path == "." || path == "?" {
        String::new()
    } else {
        path.to_owned()
    };
    let location = match e.location() {
        Some(loc) => Location::Position {
            line: loc.line(),
            column: loc.column(),
            path,
        },
        None if path.is_empty() => Location::File,
        None => Location::Field(path),
    };
    Diagnostic {
        location,
        message,
        help: None,
    }
}

/// Removes serde_yaml's " at line N column M" fragments: the position is
/// reported separately, in the `file:line:column` prefix.
fn strip_positions(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        // Skip "<n> column <m>".
        let mut words = after.splitn(3, ' ');
        let (line, col_word, tail) = (words.next(), words.next(), words.next().unwrap_or(""));
        if line.is_some_and(|l| l.chars().all(|c| c.is_ascii_digit())) && col_word == Some("column")
        {
            let digits = tail.chars().take_while(char::is_ascii_digit).count();
            rest = &tail[digits..];
        } else {
            out.push_str(" at line ");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Advice for YAML syntax errors, based on the offending line.
fn with_syntax_help(d: Diagnostic, e: &serde_yaml::Error, text: &str) -> Diagnostic {
    let Some(loc) = e.location() else { return d };
    let line = text.lines().nth(loc.line().saturating_sub(1)).unwrap_or("");
    if line.contains('\t') {
        d.help("YAML indentation must use spaces; this line contains a tab")
    } else {
        d.help(format!(
            "a YAML syntax error: check the indentation, brackets and quotes on line {} and the lines just above",
            loc.line()
        ))
    }
}

/// Rewrites serde's generic wording where a user would not understand it.
fn polish(message: &str) -> String {
    if message.contains("expected map with a single key") {
        return "each entry takes exactly one key, e.g. `- kustomizations: all` or `- apply: file.yaml`".into();
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return format!("unknown field {rest}");
    }
    if message.starts_with("missing field `fault`") {
        return "missing field `fault`: each disaster entry starts with `fault: <name>`, e.g. `- fault: cluster-loss`"
            .into();
    }
    message
        .replace("expected u32", "expected a whole number")
        .replace("expected u64", "expected a whole number")
}
