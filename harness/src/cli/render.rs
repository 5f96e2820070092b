//! Rendering errors for people: a headline, then the "Caused by:" chain.

use std::fmt::Write;

/// `error: <headline>` then each source on its own numbered line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = format!("error: {err}\n");
    let mut source = err.source();
    if source.is_some() {
        out.push_str("Caused by:\n");
    }
    let mut i = 0;
    while let Some(cause) = source {
        let text = cause.to_string().replace('\n', "\n     ");
        let _ = writeln!(out, "  {i}: {text}");
        i += 1;
        source = cause.source();
    }
    out
}

/// Renders rows as left-aligned columns separated by two spaces; the last
/// column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                l.push_str(cell);
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}
