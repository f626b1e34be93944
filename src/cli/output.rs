//! Shared output helpers: JSON to stdout, and plain tables whose every cell is sanitised
//! (evidence strings never reach the terminal raw).

use crate::sanitize;
use std::io::Write;

pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Prints a left-aligned table; cells are sanitised and cut to `max` characters.
pub fn print_table(headers: &[&str], rows: &[Vec<String>], max: usize) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| sanitize::line(c, max)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(c.chars().count());
                format!("{c}{}", " ".repeat(pad))
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(
        out,
        "{}",
        line(headers.iter().map(|h| h.to_string()).collect())
    )?;
    for r in rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

pub fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

pub fn tri(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// The error as one line, its causes joined with ": ". A cause is left out when the text
/// already ends with it: errors that name their file as `"{path}: {source}"` also hand
/// that source on as their cause, and the reader should not see it twice.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.is_empty() {
            text = part;
        } else if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    sanitize::clean(&text, true)
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Named {
        path: String,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Named {
            path: "/x/trivy.json".into(),
            source: io,
        });
        assert_eq!(error_text(&e), "/x/trivy.json: no such file");
    }

    #[test]
    fn context_and_distinct_causes_are_all_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = anyhow::Error::new(io)
            .context("opening the store")
            .context("import");
        assert_eq!(error_text(&e), "import: opening the store: denied");
    }

    #[test]
    fn escape_sequences_in_a_cause_are_stripped() {
        let e = anyhow::anyhow!("bad \u{1b}[31mred\u{1b}[0m file");
        assert!(!error_text(&e).contains('\u{1b}'));
        assert!(error_text(&e).contains("red"));
    }
}
