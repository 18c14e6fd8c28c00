//! Diagnostics for bad input: one message naming file, line and column, what was found
//! and what was expected there, rendered with a source snippet by miette.
//!
//! A [`Diagnostic`] is the only way bad input leaves the library: parsing, checking and
//! lowering return it, and the CLI prints it and exits with status 2.

use crate::frontend::ast::Span;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use std::fmt;

/// An error in a scenario file (or in a command-line value that refers to one). It
/// serializes whole (with the file's text), so that a share of a partitioned check
/// carries it to `simrace merge`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub path: String,
    /// 1-based line and column (columns count characters, not bytes).
    pub line: usize,
    pub column: usize,
    /// What is wrong, in one sentence: "unknown object kind `Lok`".
    pub message: String,
    /// What was expected there, shown under the snippet: "expected one of Lock, RLock, ...".
    pub help: Option<String>,
    /// Where, in the file's text (for the snippet).
    pub span: Span,
    /// The file's text, so the diagnostic renders on its own.
    source: String,
}

impl Diagnostic {
    /// A diagnostic at `span` of the file `path` whose text is `source`.
    pub fn new(path: &str, source: &str, span: Span, message: impl Into<String>) -> Diagnostic {
        let start = span.start.min(source.len());
        let end = span.end.clamp(start, source.len());
        let (line, column) = line_col(source, start);
        Diagnostic {
            path: path.to_string(),
            line,
            column,
            message: message.into(),
            help: None,
            span: Span::new(start, end),
            source: source.to_string(),
        }
    }

    /// A diagnostic about a file that could not be read at all (no snippet).
    pub fn io(path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            path: path.to_string(),
            line: 1,
            column: 1,
            message: message.into(),
            help: None,
            span: Span::default(),
            source: String::new(),
        }
    }

    /// Adds what was expected at that place.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `path:line:col: error: message`, the greppable first line.
    pub fn headline(&self) -> String {
        format!(
            "{}:{}:{}: error: {}",
            self.path, self.line, self.column, self.message
        )
    }

    /// The headline, then a snippet of the file with the place marked (no colours, so
    /// that logs and snapshots read the same everywhere).
    pub fn render(&self) -> String {
        let mut out = self.headline();
        out.push('\n');
        if self.source.is_empty() {
            if let Some(help) = &self.help {
                out.push_str(&format!("  help: {help}\n"));
            }
            return out;
        }
        let report = SnippetReport {
            message: self.message.clone(),
            help: self.help.clone(),
            label: LabeledSpan::new_primary_with_span(
                Some("here".to_string()),
                (self.span.start, self.span.end - self.span.start),
            ),
            source: NamedSource::new(&self.path, self.source.clone()),
        };
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_context_lines(1);
        let mut snippet = String::new();
        if handler.render_report(&mut snippet, &report).is_ok() {
            out.push_str(&self.header_in_characters(&snippet));
        }
        out
    }

    /// The JSON that `run`, `check` and `time` give for `file` when it does not load:
    /// `{"file", "error": {message, line, column, help}}`.
    pub fn json_for(&self, file: &str) -> serde_json::Value {
        serde_json::json!({
            "file": file,
            "error": {
                "message": self.message,
                "line": self.line,
                "column": self.column,
                "help": self.help,
            },
        })
    }

    /// The snippet's header (`╭─[file:line:column]`) counts the column in bytes; the
    /// headline, the JSON and editors count characters: the header is made to agree
    /// (they differed wherever a line has non-ASCII text before the error).
    fn header_in_characters(&self, snippet: &str) -> String {
        let at = self.span.start.min(self.source.len());
        let line_start = self.source[..at].rfind('\n').map_or(0, |i| i + 1);
        let bytes = format!("[{}:{}:{}]", self.path, self.line, at - line_start + 1);
        let chars = format!("[{}:{}:{}]", self.path, self.line, self.column);
        snippet.replacen(&bytes, &chars, 1)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// 1-based line and character column of byte offset `at` in `source`.
pub fn line_col(source: &str, at: usize) -> (usize, usize) {
    let at = at.min(source.len());
    let mut at = at;
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = source[line_start..at].chars().count() + 1;
    (line, column)
}

/// Where each line of a text starts: the line of an offset (as [`line_col`] gives it)
/// by binary search. The lowering asks for the line of every instruction it emits; a
/// scan from the start for each made 40,000 lines of code take seconds.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(source: &str) -> Lines {
        let ends = source.match_indices('\n').map(|(i, _)| i + 1);
        Lines {
            starts: std::iter::once(0).chain(ends).collect(),
        }
    }

    /// The 1-based line of byte offset `at`.
    pub fn line(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at)
    }
}

#[derive(Debug)]
struct SnippetReport {
    message: String,
    help: Option<String>,
    label: LabeledSpan,
    source: NamedSource<String>,
}

impl fmt::Display for SnippetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SnippetReport {}

impl miette::Diagnostic for SnippetReport {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(self.label.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let src = "a = 1\nbé = 2\n";
        let lines = Lines::new(src);
        for at in 0..=src.len() + 2 {
            if src.is_char_boundary(at.min(src.len())) {
                assert_eq!(lines.line(at), line_col(src, at).0, "{at}");
            }
        }
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        // 'é' is two bytes; the '=' after it is the 4th character.
        assert_eq!(line_col(src, 10), (2, 4));
    }

    #[test]
    fn render_names_file_line_and_column() {
        let src = "[objects]\nm = \"Lok\"\n";
        let d = Diagnostic::new(
            "x.toml",
            src,
            Span::new(14, 19),
            "unknown object kind `Lok`",
        )
        .with_help("expected one of Lock, RLock");
        let text = d.render();
        assert!(
            text.starts_with("x.toml:2:5: error: unknown object kind `Lok`\n"),
            "{text}"
        );
        assert!(text.contains("expected one of Lock, RLock"), "{text}");
    }
}
