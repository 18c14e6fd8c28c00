//! Where code comes from: a code string of a scenario file, decoded, and the map from each
//! of its bytes back to the byte of the *file* it came from.
//!
//! A thread's `code` is a TOML string, so what the lexer reads is not what the file holds:
//! TOML may have trimmed a newline after `"""`, decoded escapes, and the parser first
//! removes the common indentation. A [`CodeSource`] keeps the way back, so that every span
//! in the syntax tree (and in every error) is a byte range of the file, and a diagnostic
//! points at the character the user wrote.
//!
//! Choices a user may notice:
//! - The common leading indentation is removed first, like `textwrap.dedent`, except that
//!   blank and comment-only lines do not count when finding it.
//! - If decoding a basic string's escapes here ever disagrees with TOML's own decoding,
//!   each line maps to its raw line when the line counts agree, else every place in the
//!   code maps to the string's start: an error is then reported at the string, not inside.

use crate::frontend::ast::Span;
use crate::frontend::diag::Diagnostic;
use std::ops::Range;

/// A piece of code and where it sits in the scenario file.
#[derive(Clone, Debug)]
pub struct CodeSource<'a> {
    /// The file as the user named it (for diagnostics).
    pub path: &'a str,
    /// The whole file text; spans index into it.
    pub file: &'a str,
    /// The decoded string: the code itself.
    pub content: String,
    /// `offsets[i]`: the file byte offset of content byte `i`; one more entry for the end.
    offsets: Vec<usize>,
}

/// The body of a TOML string as it is written in the file, between its delimiters.
struct TomlBody<'r> {
    text: &'r str,
    /// Where `text` starts in the raw string (delimiter and trimmed newline skipped).
    offset: usize,
    /// A literal string (`'...'`, `'''...'''`): no escapes.
    literal: bool,
    /// A multi-line string (`"""..."""`, `'''...'''`).
    multiline: bool,
}

impl<'a> CodeSource<'a> {
    /// Code whose content byte `i` sits at file offset `map(i)` (`i` up to and including
    /// `content.len()`, which should map to just past the code).
    pub fn new(
        path: &'a str,
        file: &'a str,
        content: impl Into<String>,
        map: impl Fn(usize) -> usize,
    ) -> CodeSource<'a> {
        let content = content.into();
        let offsets = (0..=content.len()).map(map).collect();
        CodeSource {
            path,
            file,
            content,
            offsets,
        }
    }

    /// Code that is the file's text from `range` verbatim.
    /// (A range that is not in the file gives empty code at its start.)
    #[cfg(test)]
    pub fn verbatim(path: &'a str, file: &'a str, range: Range<usize>) -> CodeSource<'a> {
        let content = file.get(range.clone()).unwrap_or("");
        let start = range.start.min(file.len());
        CodeSource::new(path, file, content, |i| start + i)
    }

    /// Code that is the whole file (for tests and command-line expressions).
    #[cfg(test)]
    pub fn whole(path: &'a str, text: &'a str) -> CodeSource<'a> {
        CodeSource::verbatim(path, text, 0..text.len())
    }

    /// The TOML string value whose raw text (quotes included) is `file[span]` and whose
    /// decoded value is `decoded`.
    ///
    /// Literal strings, and basic strings without escapes, are verbatim in the file. Escapes
    /// are decoded here again to map each character back to its place; if that ever
    /// disagrees with `decoded`, each line maps to its raw line when the line counts agree,
    /// else everything maps to the string's start.
    pub fn from_toml_string(
        path: &'a str,
        file: &'a str,
        span: Range<usize>,
        decoded: &str,
    ) -> CodeSource<'a> {
        let fallback = |at: usize| CodeSource::new(path, file, decoded, move |_| at);
        let Some(raw) = file.get(span.clone()) else {
            return fallback(span.start.min(file.len()));
        };
        let Some(body) = toml_string_body(raw) else {
            return fallback(span.start);
        };
        let start = span.start + body.offset;
        if body.text == decoded {
            return CodeSource::new(path, file, decoded, |i| start + i);
        }
        if !body.literal
            && let Some((text, offs)) = decode_basic(body.text, body.multiline)
            && text == decoded
        {
            return CodeSource::new(path, file, decoded, |i| start + offs[i]);
        }
        match line_by_line_offsets(body.text, decoded, start) {
            Some(offsets) => CodeSource {
                path,
                file,
                content: decoded.to_string(),
                offsets,
            },
            None => fallback(span.start),
        }
    }

    /// The file offset of content offset `i`.
    pub fn file_offset(&self, i: usize) -> usize {
        match self.offsets.get(i) {
            Some(&o) => o,
            None => self.offsets.last().copied().unwrap_or(0),
        }
    }

    /// The file offset of each content byte, and of the end.
    pub(super) fn file_offsets(&self) -> Vec<usize> {
        (0..=self.content.len())
            .map(|i| self.file_offset(i))
            .collect()
    }

    /// The content with its common indentation removed, and the file offset of each of
    /// its bytes (and of its end).
    pub(super) fn dedented(&self) -> (String, Vec<usize>) {
        let (text, content_offsets) = dedent(&self.content);
        let map = content_offsets
            .iter()
            .map(|&i| self.file_offset(i))
            .collect();
        (text, map)
    }

    /// A diagnostic at `span` of the file.
    pub(super) fn diag(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.path, self.file, span, message)
    }
}

/// The body of the TOML string written `raw` (delimiters included), or `None` if `raw` is
/// not a whole TOML string. A newline right after an opening `"""` or `'''` is not part of
/// the body: TOML trims it.
fn toml_string_body(raw: &str) -> Option<TomlBody<'_>> {
    let (delim, multiline, literal) = if raw.starts_with("'''") {
        (3, true, true)
    } else if raw.starts_with("\"\"\"") {
        (3, true, false)
    } else if raw.starts_with('\'') {
        (1, false, true)
    } else if raw.starts_with('"') {
        (1, false, false)
    } else {
        return None;
    };
    let mut text = raw.get(delim..raw.len().saturating_sub(delim).max(delim))?;
    if raw.len() < 2 * delim {
        return None;
    }
    let mut offset = delim;
    if multiline {
        if let Some(rest) = text.strip_prefix('\n') {
            text = rest;
            offset += 1;
        } else if let Some(rest) = text.strip_prefix("\r\n") {
            text = rest;
            offset += 2;
        }
    }
    Some(TomlBody {
        text,
        offset,
        literal,
        multiline,
    })
}

/// Offsets that map each line of `decoded` to the same line of `body` (which starts at
/// file offset `start`): byte by byte where the two lines are equal, else to the raw
/// line's start. `None` if the two do not have the same number of lines.
fn line_by_line_offsets(body: &str, decoded: &str, start: usize) -> Option<Vec<usize>> {
    let raw_lines: Vec<&str> = body.split('\n').collect();
    let dec_lines: Vec<&str> = decoded.split('\n').collect();
    if raw_lines.len() != dec_lines.len() {
        return None;
    }
    let mut offsets = Vec::with_capacity(decoded.len() + 1);
    let mut raw_at = start;
    for (i, (r, d)) in raw_lines.iter().zip(&dec_lines).enumerate() {
        for j in 0..d.len() {
            offsets.push(if r == d { raw_at + j } else { raw_at });
        }
        if i + 1 < dec_lines.len() {
            offsets.push(raw_at + r.len()); // the '\n'
        }
        raw_at += r.len() + 1;
    }
    offsets.push(start + body.len());
    Some(offsets)
}

/// Decodes the body of a TOML basic string, returning the text and, for each byte of it,
/// the offset in `body` of the character or escape it came from (plus one for the end).
fn decode_basic(body: &str, multiline: bool) -> Option<(String, Vec<usize>)> {
    let mut out = String::new();
    let mut offs = Vec::new();
    let b = body.as_bytes();
    let mut i = 0;
    let push = |out: &mut String, offs: &mut Vec<usize>, c: char, at: usize| {
        let before = out.len();
        out.push(c);
        offs.extend(std::iter::repeat_n(at, out.len() - before));
    };
    while i < b.len() {
        let c = body[i..].chars().next()?;
        if c != '\\' {
            push(&mut out, &mut offs, c, i);
            i += c.len_utf8();
            continue;
        }
        let at = i;
        let e = *b.get(i + 1)?;
        i += 2;
        let decoded = match e {
            b'b' => '\u{8}',
            b't' => '\t',
            b'n' => '\n',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b'"' => '"',
            b'\\' => '\\',
            b'x' | b'u' | b'U' => {
                let n = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = body.get(i..i + n)?;
                let v = u32::from_str_radix(hex, 16).ok()?;
                i += n;
                char::from_u32(v)?
            }
            b' ' | b'\t' | b'\n' | b'\r' if multiline => {
                // Line-ending backslash: skip whitespace and newlines.
                i -= 1;
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            _ => return None,
        };
        push(&mut out, &mut offs, decoded, at);
    }
    offs.push(body.len());
    Some((out, offs))
}

/// Removes the common leading indentation (ignoring blank and comment-only lines).
/// Returns the text and, for each of its byte offsets (and its end), the content offset.
fn dedent(content: &str) -> (String, Vec<usize>) {
    let mut margin: Option<&str> = None;
    for line in content.split('\n') {
        let body = line.trim_end_matches('\r');
        let stripped = body.trim_start_matches([' ', '\t', '\u{c}']);
        if stripped.is_empty() || stripped.starts_with('#') {
            continue;
        }
        let indent = &body[..body.len() - stripped.len()];
        margin = Some(match margin {
            None => indent,
            Some(m) => {
                let common = m
                    .bytes()
                    .zip(indent.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &m[..common]
            }
        });
    }
    let margin = margin.unwrap_or("");
    let mut text = String::with_capacity(content.len());
    let mut map = Vec::with_capacity(content.len() + 1);
    let mut at = 0;
    for line in content.split_inclusive('\n') {
        let skip = if !margin.is_empty() && line.starts_with(margin) {
            margin.len()
        } else {
            0
        };
        text.push_str(&line[skip..]);
        map.extend(at + skip..at + line.len());
        at += line.len();
    }
    map.push(content.len());
    (text, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mapping from a TOML string back to the file.
    #[test]
    fn toml_string_mapping() {
        // file, raw string span, decoded content, offset of a marker in content and file.
        let check = |file: &str, decoded: &str| {
            let start = file.find("code = ").unwrap() + 7;
            let end = file.rfind(['"', '\'']).unwrap() + 1;
            let src = CodeSource::from_toml_string("f", file, start..end, decoded);
            let at_content = decoded.find('@').unwrap();
            let at_file = file.find('@').unwrap();
            assert_eq!(src.file_offset(at_content), at_file, "{file:?}");
        };
        check("code = \"\"\"\nx = 1\ny = @\n\"\"\"", "x = 1\ny = @\n");
        check("code = \"\"\"x = 1\ny = @\n\"\"\"", "x = 1\ny = @\n");
        check("code = '''\r\nx = 1\r\ny = @\n'''", "x = 1\r\ny = @\n");
        check("code = 'x = @'", "x = @");
        check("code = \"x = \\\"a\\\"\\n\\ty = @\"", "x = \"a\"\n\ty = @");
        check("code = \"\"\"\nx = \\u00e9\\\n   y = @\"\"\"", "x = éy = @");
        // Escapes the decoder does not know: each line maps to its raw line, or, when the
        // lines do not correspond, everything maps to the string's start.
        let file = "code = \"\"\"\nx = \\q1\ny = @\"\"\"";
        let src = CodeSource::from_toml_string("f", file, 7..file.len(), "x = ?1\ny = @");
        assert_eq!(src.file_offset(2), 11); // line 1 differs: its start
        assert_eq!(src.file_offset(11), file.find('@').unwrap()); // line 2 is verbatim
        let file = "code = \"a\\qb\\n@\"";
        let src = CodeSource::from_toml_string("f", file, 7..file.len(), "a?b\n@");
        assert_eq!(src.file_offset(4), 7);
    }
}
