//! The code language: the Python subset of `code = """..."""` strings and of `[final]` /
//! `[invariant]` assertions (see SCENARIO.md, "Code").
//!
//! [`parse_block`] reads a thread's code into statements, [`parse_expr`] reads one
//! assertion. Both take a [`CodeSource`], which knows where the decoded string sits in the
//! scenario file, so every span in the tree (and in every error) is a byte range of the
//! *file*.
//!
//! Choices a user may notice (none of them break Python code that runs):
//! - The common leading indentation is removed first, like `textwrap.dedent`, except that
//!   blank and comment-only lines do not count when finding it.
//! - `a[i] += e` is accepted (as well as `x += e`); other augmented targets are errors.
//! - Tabs count to the next multiple of 8, as in CPython; indentation that means different
//!   things with tab width 8 and tab width 1 is an error ("inconsistent use of tabs").
//! - Integer literals may be decimal, `0x`, `0o` or `0b`, with `_` separators; a literal
//!   must fit in 64 bits (`-9223372036854775808` is read as one literal).
//! - Strings: single, double or triple quoted, with `\n \t \r \0 \\ \' \" \xHH` escapes;
//!   `r"..."` raw strings and `u"..."` are accepted; f-strings and bytes are not.
//! - `with a, b:` becomes two nested `With` statements, both spanning the header line.
//! - An empty code string (only blank lines and comments) is an error: write `pass`.
//! - Nesting (blocks, or expressions) deeper than [`MAX_NESTING`] levels is an error; each
//!   operator of a chain `a + b + c` counts as a level (the tree is that deep), while
//!   `and`/`or` chains and chained comparisons are flat and do not.
//! - `-5` is `Unary { Neg, Int(5) }`, as in Python's own tree; only
//!   `-9223372036854775808` is folded into one `Int`, as it cannot be written otherwise.
//! - Spans: a compound statement's is its header line up to the `:`; a simple statement's
//!   covers the whole statement; an expression's covers it, parentheses included.
//! - The first error in the code is reported, lexical or not.
//!
//! Deeply nested input is parsed on a helper thread with a large stack (debug builds have
//! big frames); shallow input, i.e. nearly all real code, is parsed on the caller's thread.

// The API returns `Diagnostic` by value, as the rest of the crate does; it is built only on
// the error path (inside, the parser boxes it).

use crate::frontend::ast::{
    Arg, BinOp, BoolOp, CmpOp, Expr, ExprKind, Ident, ObjRef, Span, Stmt, StmtKind, Target, UnOp,
    WithItem,
};
use crate::frontend::diag::{Diagnostic, line_col};
use std::ops::Range;

/// How deeply blocks, and separately expressions, may nest.
pub const MAX_NESTING: usize = 100;

/// Python's keywords: never a name in code or in a scenario's tables.
pub const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// simrace's built-in names: not usable as variable, object or thread names.
pub const BUILTINS: &[&str] = &["tid", "choose", "range", "print", "sleep", "work", "atomic"];

/// Whether `name` is a Python keyword.
pub fn is_keyword(name: &str) -> bool {
    PYTHON_KEYWORDS.contains(&name)
}

/// Whether `name` is a keyword or a built-in, so cannot name a variable.
pub fn is_reserved(name: &str) -> bool {
    is_keyword(name) || BUILTINS.contains(&name)
}

/// Whether `name` is an identifier: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------
// Where code comes from
// ---------------------------------------------------------------------------------------

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
    pub fn verbatim(path: &'a str, file: &'a str, range: Range<usize>) -> CodeSource<'a> {
        let content = file.get(range.clone()).unwrap_or("");
        let start = range.start.min(file.len());
        CodeSource::new(path, file, content, |i| start + i)
    }

    /// Code that is the whole file (for tests and command-line expressions).
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
        let at = span.start;
        let (delim, multiline, literal) = if raw.starts_with("'''") {
            (3, true, true)
        } else if raw.starts_with("\"\"\"") {
            (3, true, false)
        } else if raw.starts_with('\'') {
            (1, false, true)
        } else if raw.starts_with('"') {
            (1, false, false)
        } else {
            return fallback(span.start);
        };
        let Some(mut body) = raw.get(delim..raw.len().saturating_sub(delim).max(delim)) else {
            return fallback(at);
        };
        if raw.len() < 2 * delim {
            return fallback(at);
        }
        let mut start = span.start + delim;
        if multiline {
            if let Some(rest) = body.strip_prefix('\n') {
                body = rest;
                start += 1;
            } else if let Some(rest) = body.strip_prefix("\r\n") {
                body = rest;
                start += 2;
            }
        }
        if body == decoded {
            return CodeSource::new(path, file, decoded, |i| start + i);
        }
        if !literal
            && let Some((text, offs)) = decode_basic(body, multiline)
            && text == decoded
        {
            return CodeSource::new(path, file, decoded, |i| start + offs[i]);
        }
        // Line by line.
        let raw_lines: Vec<&str> = body.split('\n').collect();
        let dec_lines: Vec<&str> = decoded.split('\n').collect();
        if raw_lines.len() != dec_lines.len() {
            return fallback(span.start);
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
        CodeSource {
            path,
            file,
            content: decoded.to_string(),
            offsets,
        }
    }

    /// The file offset of content offset `i`.
    pub fn file_offset(&self, i: usize) -> usize {
        match self.offsets.get(i) {
            Some(&o) => o,
            None => self.offsets.last().copied().unwrap_or(0),
        }
    }

    fn diag(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.path, self.file, span, message)
    }
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

// ---------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    /// The literal's value; more than `u64::MAX` saturates (it is out of range anyway).
    Int(u128),
    Str(String),
    Op(&'static str),
    Newline,
    Indent,
    Dedent,
    Eof,
    /// A lexical error; the parser reports it when it gets there.
    Error {
        message: String,
        help: String,
    },
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// File offsets.
    span: Span,
}

const OPS3: &[&str] = &["//=", "**=", ">>=", "<<=", "..."];
const OPS2: &[&str] = &[
    "//", "**", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "->", ":=",
    "<<", ">>", "<>",
];
const OPS1: &[&str] = &[
    "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ",", ":", ".", "=", "<", ">", ";", "&",
    "|", "^", "~", "@", "!",
];

/// Operators that are never valid: the lexer reports them with a message of their own.
fn unsupported_op(op: &str) -> Option<(String, String)> {
    let (m, h): (&str, &str) = match op {
        "/" => (
            "`/` is not supported: integer division is `//`",
            "write `a // b` (values are integers; there are no floats)",
        ),
        "/=" => (
            "`/=` is not supported: integer division is `//=`",
            "write `x //= n` (values are integers; there are no floats)",
        ),
        "**" | "**=" => (
            "`**` (power) is not supported",
            "multiply explicitly, e.g. `x * x`",
        ),
        "&" | "|" | "^" | "~" | "<<" | ">>" | "&=" | "|=" | "^=" | "<<=" | ">>=" => (
            "bit operators (`& | ^ ~ << >>`) are not supported",
            "use `and`, `or`, `not` for booleans and `+ - * // %` for integers",
        ),
        "@" => (
            "`@` (decorators, matrix multiplication) is not supported",
            "the code is a plain block of statements",
        ),
        "->" => (
            "`->` (annotations) is not supported",
            "function definitions are not supported",
        ),
        ":=" => (
            "assignment expressions (`:=`) are not supported",
            "assign with `x = e` on a line of its own",
        ),
        "<>" => ("`<>` is not an operator", "use `!=`"),
        "!" => ("`!` is not an operator", "use `not` (or `!=` to compare)"),
        "{" | "}" => (
            "dicts and sets (`{...}`) are not supported",
            "declare arrays in [shared], [atomics] or [ghost]; values are integers, booleans or None",
        ),
        "..." => ("`...` (Ellipsis) is not supported", "write `pass`"),
        _ => return None,
    };
    Some((m.to_string(), h.to_string()))
}

struct Lexer<'s> {
    /// The scenario file (for line numbers in messages).
    file: &'s str,
    text: &'s str,
    bytes: &'s [u8],
    /// Text offset to file offset.
    map: &'s [usize],
    pos: usize,
    toks: Vec<Token>,
    /// Indentation levels: (columns with tab size 8, columns with tab size 1).
    indents: Vec<(usize, usize)>,
    /// Open brackets: the byte and the text offset.
    brackets: Vec<(u8, usize)>,
    /// Expression mode: no indentation, newlines are whitespace.
    expr_mode: bool,
    at_line_start: bool,
    line_has_tokens: bool,
    /// Text offset just past the last token.
    last_end: usize,
}

impl<'s> Lexer<'s> {
    fn span(&self, start: usize, end: usize) -> Span {
        let m = |i: usize| self.map.get(i).or(self.map.last()).copied().unwrap_or(0);
        Span::new(m(start), m(end))
    }

    fn push(&mut self, tok: Tok, start: usize, end: usize) {
        let span = self.span(start, end);
        self.toks.push(Token { tok, span });
        self.last_end = end;
        self.line_has_tokens = true;
    }

    fn push_marker(&mut self, tok: Tok, at: usize) {
        let span = self.span(at, at);
        self.toks.push(Token { tok, span });
    }

    /// Records an error token and stops.
    fn error(&mut self, start: usize, end: usize, message: String, help: String) -> Vec<Token> {
        let span = self.span(start, end);
        self.toks.push(Token {
            tok: Tok::Error { message, help },
            span,
        });
        std::mem::take(&mut self.toks)
    }

    /// The file line of text offset `at`.
    fn line_of(&self, at: usize) -> usize {
        let o = self.map.get(at).or(self.map.last()).copied().unwrap_or(0);
        line_col(self.file, o).0
    }

    fn run(mut self) -> Vec<Token> {
        loop {
            if self.at_line_start && self.brackets.is_empty() && !self.expr_mode {
                self.at_line_start = false;
                // Measure the indentation.
                let (mut c8, mut c1) = (0usize, 0usize);
                let mut p = self.pos;
                while p < self.bytes.len() {
                    match self.bytes[p] {
                        b' ' => {
                            c8 += 1;
                            c1 += 1;
                        }
                        b'\t' => {
                            c8 = (c8 / 8 + 1) * 8;
                            c1 += 1;
                        }
                        b'\x0c' => {
                            c8 = 0;
                            c1 = 0;
                        }
                        _ => break,
                    }
                    p += 1;
                }
                let rest = &self.bytes[p..];
                let blank = rest.is_empty()
                    || rest[0] == b'#'
                    || rest[0] == b'\n'
                    || (rest[0] == b'\r' && rest.get(1).is_none_or(|&b| b == b'\n'));
                self.pos = p;
                if blank {
                    // A blank or comment-only line: no tokens, no indentation.
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                    if self.pos < self.bytes.len() {
                        self.pos += 1;
                        self.at_line_start = true;
                        continue;
                    }
                    break;
                }
                if let Some(toks) = self.indentation(c8, c1, p) {
                    return toks;
                }
            }
            // Whitespace.
            while self.pos < self.bytes.len() {
                match self.bytes[self.pos] {
                    b' ' | b'\t' | b'\x0c' | b'\r' => self.pos += 1,
                    _ => break,
                }
            }
            if self.pos >= self.bytes.len() {
                break;
            }
            let start = self.pos;
            let c = self.bytes[start];
            match c {
                b'#' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'\n' => {
                    self.pos += 1;
                    if self.brackets.is_empty() && !self.expr_mode {
                        if self.line_has_tokens {
                            let at = self.last_end;
                            self.push_marker(Tok::Newline, at);
                            self.line_has_tokens = false;
                        }
                        self.at_line_start = true;
                    }
                }
                b'\\' => {
                    let mut p = start + 1;
                    if self.bytes.get(p) == Some(&b'\r') {
                        p += 1;
                    }
                    if self.bytes.get(p) == Some(&b'\n') {
                        self.pos = p + 1;
                    } else if p >= self.bytes.len() {
                        self.pos = p;
                    } else {
                        return self.error(
                            start,
                            start + 1,
                            "unexpected `\\` (a backslash continues a line only at its end)".into(),
                            "remove the `\\`, or put a line break right after it".into(),
                        );
                    }
                }
                b'0'..=b'9' => {
                    if let Err((s, e, m, h)) = self.number() {
                        return self.error(s, e, m, h);
                    }
                }
                b'"' | b'\'' => {
                    if let Err((s, e, m, h)) = self.string(start, false) {
                        return self.error(s, e, m, h);
                    }
                }
                b'.' if self
                    .bytes
                    .get(start + 1)
                    .is_some_and(|b| b.is_ascii_digit()) =>
                {
                    let mut end = start + 1;
                    while end < self.bytes.len() && self.bytes[end].is_ascii_alphanumeric() {
                        end += 1;
                    }
                    return self.error(
                        start,
                        end,
                        "floating-point numbers are not supported".into(),
                        "values are integers (64-bit), booleans or None".into(),
                    );
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let mut end = start + 1;
                    while end < self.bytes.len()
                        && (self.bytes[end].is_ascii_alphanumeric() || self.bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let word = &self.text[start..end];
                    if matches!(self.bytes.get(end), Some(b'"' | b'\''))
                        && word.len() <= 2
                        && word.chars().all(|c| "rRbBuUfF".contains(c))
                    {
                        let lower = word.to_ascii_lowercase();
                        if lower.contains('f') {
                            return self.error(
                                start,
                                end + 1,
                                "f-strings are not supported".into(),
                                "print several values instead: `print(\"x =\", x)`".into(),
                            );
                        }
                        if lower.contains('b') {
                            return self.error(
                                start,
                                end + 1,
                                "bytes literals are not supported".into(),
                                "use a plain string".into(),
                            );
                        }
                        if lower == "u" || lower == "r" {
                            self.pos = end;
                            if let Err((s, e, m, h)) = self.string(start, lower == "r") {
                                return self.error(s, e, m, h);
                            }
                            continue;
                        }
                    }
                    self.pos = end;
                    self.push(Tok::Name(word.to_string()), start, end);
                }
                c if c >= 0x80 => {
                    let ch = self.text[start..].chars().next().unwrap_or('?');
                    return self.error(
                        start,
                        start + ch.len_utf8(),
                        format!("unexpected character `{ch}`"),
                        "names are ASCII letters, digits and `_`; other characters may appear only in strings and comments"
                            .into(),
                    );
                }
                _ => {
                    let rest = &self.text[start..];
                    let op = OPS3
                        .iter()
                        .chain(OPS2)
                        .chain(OPS1)
                        .find(|op| rest.starts_with(**op))
                        .copied();
                    let Some(op) = op else {
                        let ch = rest.chars().next().unwrap_or('?');
                        let shown: String = if ch.is_control() {
                            ch.escape_debug().collect()
                        } else {
                            ch.to_string()
                        };
                        return self.error(
                            start,
                            start + ch.len_utf8(),
                            format!("unexpected character `{shown}`"),
                            "this character has no meaning in the code".into(),
                        );
                    };
                    let end = start + op.len();
                    if let Some((m, h)) = unsupported_op(op) {
                        return self.error(start, end, m, h);
                    }
                    match op {
                        "(" | "[" => self.brackets.push((op.as_bytes()[0], start)),
                        ")" | "]" => {
                            let want = if op == ")" { b'(' } else { b'[' };
                            match self.brackets.pop() {
                                None => {
                                    return self.error(
                                        start,
                                        end,
                                        format!("unmatched `{op}`"),
                                        "remove it, or add the opening bracket".into(),
                                    );
                                }
                                Some((open, at)) if open != want => {
                                    let line = self.line_of(at);
                                    return self.error(
                                        start,
                                        end,
                                        format!(
                                            "`{op}` does not match the `{}` on line {line}",
                                            open as char
                                        ),
                                        format!(
                                            "close the `{}` with `{}`",
                                            open as char,
                                            if open == b'(' { ")" } else { "]" }
                                        ),
                                    );
                                }
                                Some(_) => {}
                            }
                        }
                        _ => {}
                    }
                    self.pos = end;
                    self.push(Tok::Op(op), start, end);
                }
            }
        }
        let end = self.bytes.len();
        if let Some(&(open, at)) = self.brackets.last() {
            return self.error(
                at,
                at + 1,
                format!("`{}` was never closed", open as char),
                format!(
                    "add the matching `{}`",
                    if open == b'(' { ")" } else { "]" }
                ),
            );
        }
        if self.line_has_tokens && !self.expr_mode {
            let at = self.last_end;
            self.push_marker(Tok::Newline, at);
        }
        while self.indents.len() > 1 {
            self.indents.pop();
            self.push_marker(Tok::Dedent, end);
        }
        self.push_marker(Tok::Eof, end);
        self.toks
    }

    /// Handles the indentation of a line whose first token is at `p`. Returns the tokens
    /// (ending in an error) when the indentation is wrong.
    fn indentation(&mut self, c8: usize, c1: usize, p: usize) -> Option<Vec<Token>> {
        let tab_error = |this: &mut Self| {
            let line_start = this.text[..p].rfind('\n').map_or(0, |i| i + 1);
            Some(this.error(
                line_start,
                p,
                "inconsistent use of tabs and spaces in indentation".into(),
                "indent with spaces only (or tabs only)".into(),
            ))
        };
        let &(t8, t1) = self.indents.last().unwrap_or(&(0, 0));
        if c8 == t8 {
            if c1 != t1 {
                return tab_error(self);
            }
        } else if c8 > t8 {
            if c1 <= t1 {
                return tab_error(self);
            }
            self.indents.push((c8, c1));
            // The Indent carries the first token's place (for "unexpected indent").
            let end = self.text[p..]
                .find(|c: char| c.is_whitespace())
                .map_or(self.text.len(), |i| p + i);
            let span = self.span(p, end.max(p + 1).min(self.text.len()));
            self.toks.push(Token {
                tok: Tok::Indent,
                span,
            });
        } else {
            while self.indents.last().is_some_and(|&(t8, _)| t8 > c8) {
                self.indents.pop();
                self.push_marker(Tok::Dedent, p);
            }
            let &(t8, t1) = self.indents.last().unwrap_or(&(0, 0));
            if t8 != c8 {
                let line_start = self.text[..p].rfind('\n').map_or(0, |i| i + 1);
                return Some(self.error(
                    line_start,
                    p,
                    "unindent does not match any outer indentation level".into(),
                    "indent this line exactly as far as the block it continues".into(),
                ));
            }
            if t1 != c1 {
                return tab_error(self);
            }
        }
        None
    }

    #[allow(clippy::type_complexity)]
    fn number(&mut self) -> Result<(), (usize, usize, String, String)> {
        let start = self.pos;
        let b = self.bytes;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        let word = &self.text[start..end];
        let fail = |m: &str, h: &str| Err((start, end, m.to_string(), h.to_string()));
        // A float: digits followed by `.`, or an exponent.
        if b.get(end) == Some(&b'.') && !word.starts_with("0x") && !word.starts_with("0X") {
            let mut e = end + 1;
            while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
                e += 1;
            }
            return Err((
                start,
                e,
                "floating-point numbers are not supported".into(),
                "values are integers (64-bit), booleans or None".into(),
            ));
        }
        let lower = word.to_ascii_lowercase();
        let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
            (16, d)
        } else if let Some(d) = lower.strip_prefix("0o") {
            (8, d)
        } else if let Some(d) = lower.strip_prefix("0b") {
            (2, d)
        } else {
            (10, lower.as_str())
        };
        if radix == 10 {
            if word.ends_with('j') || word.ends_with('J') {
                return fail(
                    "complex numbers are not supported",
                    "values are integers (64-bit), booleans or None",
                );
            }
            if word.bytes().any(|c| c == b'e' || c == b'E')
                && word
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '_')
                    .starts_with(['e', 'E'])
            {
                return fail(
                    "floating-point numbers are not supported",
                    "values are integers (64-bit), booleans or None",
                );
            }
        }
        let digits_ok = !digits.is_empty()
            && !digits.starts_with('_')
            && !digits.ends_with('_')
            && !digits.contains("__")
            && digits.chars().all(|c| c == '_' || c.is_digit(radix));
        if !digits_ok {
            let what = match radix {
                16 => "hexadecimal",
                8 => "octal",
                2 => "binary",
                _ => "decimal",
            };
            return fail(
                &format!("invalid {what} integer literal `{word}`"),
                "an integer is digits with optional `_` between them, e.g. `1_000` or `0xff`",
            );
        }
        if radix == 10
            && digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().any(|c| c != b'0' && c != b'_')
        {
            return fail(
                "leading zeros in decimal integer literals are not permitted",
                "write the number without leading zeros (or `0o17` for octal)",
            );
        }
        let mut value: u128 = 0;
        for c in digits.chars().filter(|&c| c != '_') {
            let d = c.to_digit(radix).unwrap_or(0) as u128;
            value = value
                .checked_mul(radix as u128)
                .and_then(|v| v.checked_add(d))
                .unwrap_or(u128::MAX);
        }
        self.pos = end;
        self.push(Tok::Int(value), start, end);
        Ok(())
    }

    /// A string literal whose prefix (if any) starts at `start`; `self.pos` is at the quote.
    #[allow(clippy::type_complexity)]
    fn string(&mut self, start: usize, raw: bool) -> Result<(), (usize, usize, String, String)> {
        let b = self.bytes;
        let q = b[self.pos];
        let triple = b.get(self.pos + 1) == Some(&q) && b.get(self.pos + 2) == Some(&q);
        let mut p = self.pos + if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            if p >= b.len() {
                return Err((
                    start,
                    self.pos + 1,
                    "unterminated string literal".into(),
                    format!(
                        "close the string with {}",
                        if triple {
                            format!("`{0}{0}{0}`", q as char)
                        } else {
                            format!("`{}` on the same line", q as char)
                        }
                    ),
                ));
            }
            let c = b[p];
            if c == q && (!triple || (b.get(p + 1) == Some(&q) && b.get(p + 2) == Some(&q))) {
                p += if triple { 3 } else { 1 };
                break;
            }
            if c == b'\n' && !triple {
                return Err((
                    start,
                    self.pos + 1,
                    "unterminated string literal".into(),
                    format!("close the string with `{}` on the same line", q as char),
                ));
            }
            if c == b'\\' && p + 1 < b.len() {
                let e = b[p + 1];
                if raw {
                    out.push('\\');
                    let ch = self.text[p + 1..].chars().next().unwrap_or('\\');
                    out.push(ch);
                    p += 1 + ch.len_utf8();
                    continue;
                }
                let simple = match e {
                    b'\\' => Some('\\'),
                    b'\'' => Some('\''),
                    b'"' => Some('"'),
                    b'n' => Some('\n'),
                    b't' => Some('\t'),
                    b'r' => Some('\r'),
                    b'0' => Some('\0'),
                    b'a' => Some('\u{7}'),
                    b'b' => Some('\u{8}'),
                    b'f' => Some('\u{c}'),
                    b'v' => Some('\u{b}'),
                    _ => None,
                };
                if let Some(ch) = simple {
                    out.push(ch);
                    p += 2;
                    continue;
                }
                if e == b'\n' {
                    p += 2;
                    continue;
                }
                if e == b'x' {
                    let v = self
                        .text
                        .get(p + 2..p + 4)
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    let Some(v) = v else {
                        return Err((
                            p,
                            (p + 4).min(b.len()),
                            "invalid `\\x` escape".into(),
                            "write `\\x` and two hexadecimal digits, e.g. `\\x41`".into(),
                        ));
                    };
                    out.push(v as char);
                    p += 4;
                    continue;
                }
                // Unknown escapes keep their backslash, as in Python.
                out.push('\\');
                p += 1;
                continue;
            }
            let ch = self.text[p..].chars().next().unwrap_or('?');
            out.push(ch);
            p += ch.len_utf8();
        }
        self.pos = p;
        self.push(Tok::Str(out), start, p);
        Ok(())
    }
}

fn lex(file: &str, text: &str, map: &[usize], expr_mode: bool) -> Vec<Token> {
    Lexer {
        file,
        text,
        bytes: text.as_bytes(),
        map,
        pos: 0,
        toks: Vec::new(),
        indents: vec![(0, 0)],
        brackets: Vec::new(),
        expr_mode,
        at_line_start: true,
        line_has_tokens: false,
        last_end: 0,
    }
    .run()
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

/// Parses a thread's `code` string into statements.
pub fn parse_block(src: &CodeSource) -> Result<Vec<Stmt>, Diagnostic> {
    let (text, dmap) = dedent(&src.content);
    let map: Vec<usize> = dmap.iter().map(|&i| src.file_offset(i)).collect();
    let toks = lex(src.file, &text, &map, false);
    run_parser(src, toks, |p| p.file_input())
}

/// Parses one expression (a `[final]` or `[invariant]` assertion).
pub fn parse_expr(src: &CodeSource) -> Result<Expr, Diagnostic> {
    let map: Vec<usize> = (0..=src.content.len())
        .map(|i| src.file_offset(i))
        .collect();
    let toks = lex(src.file, &src.content, &map, true);
    run_parser(src, toks, |p| p.expr_input())
}

/// Inputs whose [`nesting_bound`] is at most this are parsed on the caller's stack.
const INLINE_NESTING: usize = 16;

/// The stack the parser runs on for deeper inputs. Nesting is bounded by [`MAX_NESTING`],
/// but a debug build's frames are large (the deepest legal input needs a few MB there);
/// the memory is only reserved, and touched as far as the input is deep.
const PARSER_STACK: usize = 64 << 20;

fn run_parser<T: Send>(
    src: &CodeSource,
    mut toks: Vec<Token>,
    parse: fn(&mut Parser) -> PResult<T>,
) -> Result<T, Diagnostic> {
    if toks.is_empty() {
        let end = src.file_offset(src.content.len());
        toks.push(Token {
            tok: Tok::Eof,
            span: Span::new(end, end),
        });
    }
    let go = || parse(&mut Parser::new(src, &toks)).map_err(|d| *d);
    if nesting_bound(&toks) <= INLINE_NESTING {
        go()
    } else {
        with_parser_stack(&go)
    }
}

/// An upper bound on how deeply the parser recurses on `toks`: every level of recursion
/// is opened by an indent, an open bracket, or a prefix operator, `if` or `else` of the
/// current logical line.
fn nesting_bound(toks: &[Token]) -> usize {
    let (mut blocks, mut brackets, mut line, mut max) = (0usize, 0usize, 0usize, 0usize);
    for t in toks {
        match &t.tok {
            Tok::Indent => blocks += 1,
            Tok::Dedent => blocks = blocks.saturating_sub(1),
            Tok::Newline => line = 0,
            Tok::Op("(" | "[") => brackets += 1,
            Tok::Op(")" | "]") => brackets = brackets.saturating_sub(1),
            Tok::Op("-" | "+") => line += 1,
            Tok::Name(n) if matches!(n.as_str(), "not" | "if" | "else" | "elif" | "while") => {
                line += 1
            }
            _ => {}
        }
        max = max.max(blocks + brackets + line);
    }
    max
}

/// Runs `f` on a thread with a [`PARSER_STACK`] stack (or here, if none can be started).
fn with_parser_stack<T: Send>(f: &(dyn Fn() -> T + Sync)) -> T {
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("simrace-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(s, f)
        {
            Ok(h) => match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => f(),
        }
    })
}

/// Errors are boxed inside the parser: it keeps the recursive functions' frames small.
type PResult<T> = Result<T, Box<Diagnostic>>;

struct Parser<'s, 'a> {
    src: &'s CodeSource<'a>,
    /// Never empty: it ends with `Eof` or `Error`.
    toks: &'s [Token],
    pos: usize,
    block_depth: usize,
    expr_depth: usize,
}

const AUG_OPS: &[(&str, BinOp)] = &[
    ("+=", BinOp::Add),
    ("-=", BinOp::Sub),
    ("*=", BinOp::Mul),
    ("//=", BinOp::FloorDiv),
    ("%=", BinOp::Mod),
];

impl<'s, 'a> Parser<'s, 'a> {
    fn new(src: &'s CodeSource<'a>, toks: &'s [Token]) -> Self {
        Parser {
            src,
            toks,
            pos: 0,
            block_depth: 0,
            expr_depth: 0,
        }
    }

    /// One whole expression, up to the end of the input.
    fn expr_input(&mut self) -> PResult<Expr> {
        if matches!(self.peek(), Tok::Eof) {
            return Err(self.err(
                self.span(),
                "the expression is empty",
                "write an expression such as `counter == 2`",
            ));
        }
        let e = self.test()?;
        if !matches!(self.peek(), Tok::Eof) {
            let help = if self.is_op("=") && matches!(self.peek_at(1), Tok::Op(">")) {
                "did you mean `>=`?"
            } else if self.is_op("=") {
                "to compare, use `==`"
            } else {
                "an assertion is one expression, e.g. `counter == 2`"
            };
            let found = self.describe();
            return Err(self.err(
                self.span(),
                format!("unexpected {found} after the expression"),
                help,
            ));
        }
        Ok(e)
    }

    // -- tokens --------------------------------------------------------------------------

    fn cur(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek(&self) -> &Tok {
        &self.cur().tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.cur().span
    }

    fn bump(&mut self) -> Token {
        let t = self.cur().clone();
        if self.pos < self.toks.len() - 1 && !matches!(t.tok, Tok::Error { .. }) {
            self.pos += 1;
        }
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == kw)
    }

    fn eat_op(&mut self, op: &str) -> Option<Span> {
        if self.is_op(op) {
            Some(self.bump().span)
        } else {
            None
        }
    }

    fn expect_op(&mut self, op: &str, message: &str, help: &str) -> PResult<Span> {
        if let Some(s) = self.eat_op(op) {
            return Ok(s);
        }
        let help = if op == ":" && self.is_op("=") {
            format!("{help}; to compare, use `==`")
        } else {
            help.to_string()
        };
        Err(self.err(self.span(), message, help))
    }

    /// The line (1-based) of a file offset.
    fn line(&self, at: usize) -> usize {
        line_col(self.src.file, at).0
    }

    /// What the current token is, for messages.
    fn describe(&self) -> String {
        match self.peek() {
            Tok::Name(n) if is_keyword(n) => format!("keyword `{n}`"),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Int(_) => "an integer".into(),
            Tok::Str(_) => "a string".into(),
            Tok::Op(o) => format!("`{o}`"),
            Tok::Newline => "the end of the line".into(),
            Tok::Indent => "an indented line".into(),
            Tok::Dedent => "the end of the block".into(),
            Tok::Eof => "the end of the code".into(),
            Tok::Error { .. } => "an error".into(),
        }
    }

    /// An error at `span`; a lexical error at the current token takes precedence.
    #[cold]
    #[inline(never)]
    fn err(
        &self,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Box<Diagnostic> {
        if let Tok::Error { message, help } = self.peek() {
            return Box::new(
                self.src
                    .diag(self.span(), message.clone())
                    .with_help(help.clone()),
            );
        }
        Box::new(self.src.diag(span, message).with_help(help))
    }

    fn enter_expr(&mut self) -> PResult<()> {
        self.expr_depth += 1;
        if self.expr_depth > MAX_NESTING {
            return Err(self.err(
                self.span(),
                format!(
                    "expression nested too deeply or too long (more than {MAX_NESTING} levels)"
                ),
                "split the expression, using local variables",
            ));
        }
        Ok(())
    }

    // -- statements ----------------------------------------------------------------------

    fn file_input(&mut self) -> PResult<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Tok::Eof => break,
                Tok::Newline => {
                    self.bump();
                }
                Tok::Indent => {
                    return Err(self.err(
                        self.span(),
                        "unexpected indent",
                        "the lines of a block start at the same column; indent only after a line ending in `:`",
                    ));
                }
                Tok::Dedent => {
                    self.bump();
                }
                _ => self.statement(&mut out)?,
            }
        }
        if out.is_empty() {
            return Err(self.err(
                self.span(),
                "the code is empty",
                "write at least one statement, e.g. `pass`",
            ));
        }
        Ok(out)
    }

    fn statement(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        let Tok::Name(word) = self.peek().clone() else {
            return self.simple_stmts(out);
        };
        // `pass = 1`, `if += 2`: keywords are not names.
        if is_keyword(&word)
            && let Tok::Op(op) = self.peek_at(1)
            && (*op == "=" || AUG_OPS.iter().any(|(o, _)| o == op))
        {
            return Err(self.err(
                self.span(),
                format!("cannot assign to `{word}`: it is a Python keyword"),
                "choose another name",
            ));
        }
        match word.as_str() {
            "if" => out.push(self.if_stmt()?),
            "while" => out.push(self.while_stmt()?),
            "for" => out.push(self.for_stmt()?),
            "with" => out.push(self.with_stmt()?),
            "elif" | "else" => {
                return Err(self.err(
                    self.span(),
                    format!("`{word}` without a matching `if`"),
                    format!("`{word}` must line up with an `if` at the same indentation"),
                ));
            }
            _ => return self.simple_stmts(out),
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn unsupported_statement(&self, word: &str) -> Option<Box<Diagnostic>> {
        let (m, h) = match word {
            "def" => (
                "function definitions (`def`) are not supported",
                "each thread's code is one block; repeat the code, or use a loop",
            ),
            "class" => (
                "classes are not supported",
                "declare shared state in [shared] and objects in [objects]",
            ),
            "lambda" => ("`lambda` is not supported", "write the expression inline"),
            "import" | "from" => (
                "`import` is not supported",
                "the threading objects are declared in [objects]; nothing needs importing",
            ),
            "try" | "except" | "finally" => (
                "`try`/`except`/`finally` is not supported",
                "nothing raises into the scenario: what would raise is an `error` finding",
            ),
            "raise" => (
                "`raise` is not supported",
                "use `assert` to report a failure",
            ),
            "return" => (
                "`return` is not supported",
                "the code is not a function; use `break` to leave a loop",
            ),
            "yield" => ("`yield` is not supported", "generators are not supported"),
            "del" => ("`del` is not supported", "assign a new value instead"),
            "nonlocal" => (
                "`nonlocal` is not supported",
                "names in [shared], [atomics] and [ghost] are visible everywhere",
            ),
            "async" | "await" => (
                "`async`/`await` is not supported",
                "the code runs in threads: use the objects in [objects]",
            ),
            _ => return None,
        };
        Some(self.err(self.span(), m, h))
    }

    fn simple_stmts(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        loop {
            out.push(self.small_stmt()?);
            if self.eat_op(";").is_some() {
                if matches!(self.peek(), Tok::Newline | Tok::Eof) {
                    break;
                }
                continue;
            }
            break;
        }
        match self.peek() {
            Tok::Newline => {
                self.bump();
                Ok(())
            }
            Tok::Eof | Tok::Dedent => Ok(()),
            _ => {
                let found = self.describe();
                let help = if self.is_op("=") {
                    "to compare, use `==`; to assign, the left side is a name or `name[index]`"
                } else if self.is_op(":") {
                    "a `:` ends only the first line of `if`, `elif`, `else`, `while`, `for` and `with`"
                } else {
                    "a statement ends at the end of its line (or at `;`)"
                };
                Err(self.err(
                    self.span(),
                    format!("unexpected {found} after the statement"),
                    help,
                ))
            }
        }
    }

    fn small_stmt(&mut self) -> PResult<Stmt> {
        let start = self.span();
        if let Tok::Name(word) = self.peek().clone() {
            if let Some(d) = self.unsupported_statement(&word) {
                return Err(d);
            }
            match word.as_str() {
                "pass" => {
                    self.bump();
                    return Ok(Stmt {
                        kind: StmtKind::Pass,
                        span: start,
                    });
                }
                "break" => {
                    self.bump();
                    return Ok(Stmt {
                        kind: StmtKind::Break,
                        span: start,
                    });
                }
                "continue" => {
                    self.bump();
                    return Ok(Stmt {
                        kind: StmtKind::Continue,
                        span: start,
                    });
                }
                "global" => return self.global_stmt(),
                "assert" => return self.assert_stmt(),
                "if" | "while" | "for" | "with" | "elif" | "else" => {
                    return Err(self.err(
                        start,
                        format!("`{word}` cannot follow `:` or `;` on the same line"),
                        format!("start the `{word}` on a line of its own"),
                    ));
                }
                _ => {}
            }
        }
        self.expr_stmt()
    }

    fn global_stmt(&mut self) -> PResult<Stmt> {
        let start = self.bump().span;
        let mut names = Vec::new();
        loop {
            let Tok::Name(n) = self.peek().clone() else {
                return Err(self.err(
                    self.span(),
                    "expected a name after `global`",
                    "write `global a, b`",
                ));
            };
            let span = self.bump().span;
            self.check_assignable(&n, span)?;
            names.push(Ident { name: n, span });
            if self.eat_op(",").is_none() {
                break;
            }
        }
        let end = names.last().map_or(start, |n| n.span);
        Ok(Stmt {
            kind: StmtKind::Global(names),
            span: start.to(end),
        })
    }

    fn assert_stmt(&mut self) -> PResult<Stmt> {
        let start = self.bump().span;
        if matches!(self.peek(), Tok::Newline | Tok::Eof) || self.is_op(";") {
            return Err(self.err(
                self.span(),
                "expected a condition after `assert`",
                "write `assert condition` or `assert condition, \"message\"`",
            ));
        }
        let cond = self.test()?;
        let mut end = cond.span;
        let mut message = None;
        if self.eat_op(",").is_some() {
            let m = self.test()?;
            end = m.span;
            match m.kind {
                ExprKind::Str(s) => message = Some(s),
                _ => {
                    return Err(self.err(
                        m.span,
                        "the `assert` message must be a string literal",
                        "write `assert condition, \"message\"`; use `print(...)` to show values",
                    ));
                }
            }
        }
        Ok(Stmt {
            kind: StmtKind::Assert { cond, message },
            span: start.to(end),
        })
    }

    fn expr_stmt(&mut self) -> PResult<Stmt> {
        if self.is_op("*") {
            return Err(self.err(
                self.span(),
                "starred expressions are not supported",
                "assign one name at a time",
            ));
        }
        let e = self.test()?;
        if self.is_op(",") {
            return Err(self.tuple_error());
        }
        if self.is_op(":") {
            return Err(self.err(
                self.span(),
                "type annotations are not supported",
                "write `x = value` (names have no declared types)",
            ));
        }
        if self.eat_op("=").is_some() {
            let target = self.to_target(e, "=")?;
            let value = self.test()?;
            if self.is_op(",") {
                return Err(self.tuple_error());
            }
            if self.is_op("=") {
                return Err(self.err(
                    self.span(),
                    "chained assignment (`a = b = value`) is not supported",
                    "assign each name on a line of its own",
                ));
            }
            let span = target.span.to(value.span);
            return Ok(Stmt {
                kind: StmtKind::Assign { target, value },
                span,
            });
        }
        if let Tok::Op(o) = self.peek().clone()
            && let Some(&(sym, op)) = AUG_OPS.iter().find(|(s, _)| *s == o)
        {
            self.bump();
            let target = self.to_target(e, sym)?;
            let value = self.test()?;
            if self.is_op(",") {
                return Err(self.tuple_error());
            }
            let span = target.span.to(value.span);
            return Ok(Stmt {
                kind: StmtKind::AugAssign { target, op, value },
                span,
            });
        }
        let span = e.span;
        Ok(Stmt {
            kind: StmtKind::Expr(e),
            span,
        })
    }

    #[cold]
    #[inline(never)]
    fn tuple_error(&self) -> Box<Diagnostic> {
        self.err(
            self.span(),
            "tuples are not supported (no tuple assignment or unpacking)",
            "write one value or one assignment per statement",
        )
    }

    fn check_assignable(&self, name: &str, span: Span) -> PResult<()> {
        if is_keyword(name) {
            return Err(self.err(
                span,
                format!("cannot assign to `{name}`: it is a Python keyword"),
                "choose another name",
            ));
        }
        if name == "tid" {
            return Err(self.err(
                span,
                "cannot assign to `tid`: it is this instance's index",
                "choose another name",
            ));
        }
        if BUILTINS.contains(&name) {
            return Err(self.err(
                span,
                format!("cannot assign to `{name}`: it is a built-in"),
                "choose another name",
            ));
        }
        Ok(())
    }

    /// The left side of `=` or `op=` (at `op_span`).
    fn to_target(&self, e: Expr, op: &str) -> PResult<Target> {
        let what = match &e.kind {
            ExprKind::Name(n) => {
                self.check_assignable(n, e.span)?;
                return Ok(Target {
                    name: Ident {
                        name: n.clone(),
                        span: e.span,
                    },
                    index: None,
                    span: e.span,
                });
            }
            ExprKind::Index { name, .. } => {
                self.check_assignable(&name.name, name.span)?;
                let ExprKind::Index { name, index } = e.kind else {
                    unreachable!()
                };
                return Ok(Target {
                    name,
                    index: Some(*index),
                    span: e.span,
                });
            }
            ExprKind::Tid => "`tid` (this instance's index)".to_string(),
            ExprKind::Bool(b) => format!("`{}`, a constant", if *b { "True" } else { "False" }),
            ExprKind::None => "`None`, a constant".into(),
            ExprKind::Int(_) | ExprKind::Str(_) => "a literal".into(),
            ExprKind::Call { .. } | ExprKind::Method { .. } => "a function call".into(),
            ExprKind::Compare { .. } => "a comparison".into(),
            _ => "an expression".into(),
        };
        let help = if matches!(e.kind, ExprKind::Compare { .. }) && op == "=" {
            "to compare, use `==`".to_string()
        } else {
            format!("the left side of `{op}` is a name or `name[index]`")
        };
        Err(self.err(e.span, format!("cannot assign to {what}"), help))
    }

    /// After a compound statement's `:`: a block, or simple statements on the same line.
    fn suite(&mut self, what: &str, header: Span) -> PResult<Vec<Stmt>> {
        let mut body = Vec::new();
        if !matches!(self.peek(), Tok::Newline) {
            if matches!(self.peek(), Tok::Eof) {
                return Err(self.missing_block(what, header, self.span()));
            }
            self.simple_stmts(&mut body)?;
            return Ok(body);
        }
        let nl = self.bump().span;
        if !matches!(self.peek(), Tok::Indent) {
            let at = if matches!(self.peek(), Tok::Eof | Tok::Dedent) {
                nl
            } else {
                self.span()
            };
            return Err(self.missing_block(what, header, at));
        }
        self.bump();
        self.block_depth += 1;
        if self.block_depth > MAX_NESTING {
            return Err(self.err(
                self.span(),
                format!("blocks nested too deeply (more than {MAX_NESTING} levels)"),
                "flatten the code",
            ));
        }
        loop {
            match self.peek() {
                Tok::Dedent => {
                    self.bump();
                    break;
                }
                Tok::Eof => break,
                Tok::Indent => {
                    return Err(self.err(
                        self.span(),
                        "unexpected indent",
                        "the lines of a block start at the same column; indent only after a line ending in `:`",
                    ));
                }
                Tok::Newline => {
                    self.bump();
                }
                _ => self.statement(&mut body)?,
            }
        }
        self.block_depth -= 1;
        Ok(body)
    }

    fn missing_block(&self, what: &str, header: Span, at: Span) -> Box<Diagnostic> {
        self.err(
            at,
            format!(
                "expected an indented block after the `{what}` on line {}",
                self.line(header.start)
            ),
            "indent the body under the line ending in `:` (write `pass` for an empty body)",
        )
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump().span;
        let cond = self.condition("if")?;
        let colon = self.expect_op(
            ":",
            "expected `:` after the `if` condition",
            "an `if` line ends with `:`",
        )?;
        let header = kw.to(colon);
        let body = self.suite("if", header)?;
        let mut branches = vec![(cond, body)];
        let mut orelse = None;
        loop {
            if self.is_kw("elif") {
                let kw = self.bump().span;
                let cond = self.condition("elif")?;
                let colon = self.expect_op(
                    ":",
                    "expected `:` after the `elif` condition",
                    "an `elif` line ends with `:`",
                )?;
                let body = self.suite("elif", kw.to(colon))?;
                branches.push((cond, body));
            } else if self.is_kw("else") {
                let kw = self.bump().span;
                let colon = self.expect_op(":", "expected `:` after `else`", "write `else:`")?;
                orelse = Some(self.suite("else", kw.to(colon))?);
                break;
            } else {
                break;
            }
        }
        Ok(Stmt {
            kind: StmtKind::If { branches, orelse },
            span: header,
        })
    }

    /// The condition after `if`, `elif` or `while`.
    fn condition(&mut self, what: &str) -> PResult<Expr> {
        if self.is_op(":") || matches!(self.peek(), Tok::Newline | Tok::Eof) {
            return Err(self.err(
                self.span(),
                format!("expected a condition after `{what}`"),
                format!("write `{what} condition:`"),
            ));
        }
        self.test()
    }

    fn no_loop_else(&self, what: &str) -> PResult<()> {
        if self.is_kw("else") {
            return Err(self.err(
                self.span(),
                format!("`else` after a `{what}` loop is not supported"),
                "use a flag variable set before `break`",
            ));
        }
        Ok(())
    }

    fn while_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump().span;
        let cond = self.condition("while")?;
        let colon = self.expect_op(
            ":",
            "expected `:` after the `while` condition",
            "a `while` line ends with `:`",
        )?;
        let header = kw.to(colon);
        let body = self.suite("while", header)?;
        self.no_loop_else("while")?;
        Ok(Stmt {
            kind: StmtKind::While { cond, body },
            span: header,
        })
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump().span;
        let Tok::Name(name) = self.peek().clone() else {
            return Err(self.err(
                self.span(),
                "expected a loop variable name after `for`",
                "write `for i in range(n):`",
            ));
        };
        if name == "in" {
            return Err(self.err(
                self.span(),
                "expected a loop variable name after `for`",
                "write `for i in range(n):`",
            ));
        }
        let vspan = self.bump().span;
        self.check_assignable(&name, vspan)?;
        if self.is_op(",") {
            return Err(self.tuple_error());
        }
        if !self.is_kw("in") {
            return Err(self.err(
                self.span(),
                "expected `in` after the loop variable",
                "write `for i in range(n):`",
            ));
        }
        self.bump();
        let iter = self.test()?;
        let not_range = |this: &Self, span: Span| {
            this.err(
                span,
                "only `for NAME in range(...)` loops are supported",
                "loop over indices: `for i in range(n):`, `range(a, b)` or `range(a, b, step)`",
            )
        };
        let ExprKind::Call { func, args } = iter.kind else {
            return Err(not_range(self, iter.span));
        };
        if func.name != "range" {
            return Err(not_range(self, iter.span));
        }
        if let Some(a) = args.iter().find(|a| a.keyword.is_some()) {
            let s = a.keyword.as_ref().map_or(a.value.span, |k| k.span);
            return Err(self.err(
                s,
                "`range` takes no keyword arguments",
                "write `range(stop)`, `range(start, stop)` or `range(start, stop, step)`",
            ));
        }
        if args.is_empty() || args.len() > 3 {
            return Err(self.err(
                iter.span,
                format!("`range` takes 1 to 3 arguments, not {}", args.len()),
                "write `range(stop)`, `range(start, stop)` or `range(start, stop, step)`",
            ));
        }
        let mut vals: Vec<Expr> = args.into_iter().map(|a| a.value).collect();
        let (start, end, step) = match vals.len() {
            1 => (None, vals.remove(0), None),
            2 => {
                let end = vals.remove(1);
                (Some(vals.remove(0)), end, None)
            }
            _ => {
                let step = vals.remove(2);
                let end = vals.remove(1);
                (Some(vals.remove(0)), end, Some(step))
            }
        };
        let colon = self.expect_op(
            ":",
            "expected `:` after `range(...)` in the `for` line",
            "a `for` line ends with `:`",
        )?;
        let header = kw.to(colon);
        let body = self.suite("for", header)?;
        self.no_loop_else("for")?;
        Ok(Stmt {
            kind: StmtKind::For {
                var: Ident { name, span: vspan },
                start,
                end,
                step,
                body,
            },
            span: header,
        })
    }

    fn with_stmt(&mut self) -> PResult<Stmt> {
        let kw = self.bump().span;
        let mut items = Vec::new();
        if self.is_op("(") {
            // `with (a, b):`
            self.bump();
            loop {
                items.push(self.with_item()?);
                if self.eat_op(",").is_none() || self.is_op(")") {
                    break;
                }
            }
            self.expect_op(
                ")",
                "expected `,` or `)` in the `with` items",
                "write `with (a, b):`",
            )?;
        } else {
            loop {
                items.push(self.with_item()?);
                if self.eat_op(",").is_none() {
                    break;
                }
            }
        }
        let colon = self.expect_op(
            ":",
            "expected `:` after the `with` items",
            "a `with` line ends with `:`",
        )?;
        let header = kw.to(colon);
        // `with a, b:` nests: each item beyond the first is one more level.
        let depth = self.block_depth;
        self.block_depth += items.len() - 1;
        if self.block_depth >= MAX_NESTING {
            return Err(self.err(
                header,
                format!("blocks nested too deeply (more than {MAX_NESTING} levels)"),
                "flatten the code",
            ));
        }
        let mut body = self.suite("with", header)?;
        self.block_depth = depth;
        while let Some(item) = items.pop() {
            body = vec![Stmt {
                kind: StmtKind::With { item, body },
                span: header,
            }];
        }
        Ok(body.pop().expect("at least one with item"))
    }

    fn with_item(&mut self) -> PResult<WithItem> {
        if self.is_op(":") || matches!(self.peek(), Tok::Newline | Tok::Eof) {
            return Err(self.err(
                self.span(),
                "expected an object after `with`",
                "write `with m:`, `with fork[i]:` or `with atomic:`",
            ));
        }
        let e = self.test()?;
        if self.is_kw("as") {
            return Err(self.err(
                self.span(),
                "`with ... as` is not supported",
                "write `with m:`; the object is used by its own name",
            ));
        }
        match e.kind {
            ExprKind::Name(n) if n == "atomic" => Ok(WithItem::Atomic(e.span)),
            ExprKind::Name(n) => Ok(WithItem::Object(ObjRef {
                name: Ident {
                    name: n,
                    span: e.span,
                },
                index: None,
                span: e.span,
            })),
            ExprKind::Index { name, .. } if name.name == "atomic" => {
                Err(self.err(e.span, "`atomic` is not an array", "write `with atomic:`"))
            }
            ExprKind::Index { name, index } => Ok(WithItem::Object(ObjRef {
                name,
                index: Some(index),
                span: e.span,
            })),
            ExprKind::Method { .. } | ExprKind::Call { .. } => Err(self.err(
                e.span,
                "`with` takes an object, not a call",
                "write `with m:` (it acquires and releases `m`)",
            )),
            _ => Err(self.err(
                e.span,
                "expected an object after `with`",
                "write `with m:`, `with fork[i]:` or `with atomic:`",
            )),
        }
    }

    // -- expressions ---------------------------------------------------------------------

    fn test(&mut self) -> PResult<Expr> {
        self.enter_expr()?;
        let r = self.test_inner();
        self.expr_depth -= 1;
        r
    }

    fn test_inner(&mut self) -> PResult<Expr> {
        let then = self.or_test()?;
        if !self.is_kw("if") {
            return Ok(then);
        }
        self.bump();
        let cond = self.or_test()?;
        if !self.is_kw("else") {
            return Err(self.err(
                self.span(),
                "expected `else` in the conditional expression",
                "write `a if condition else b`",
            ));
        }
        self.bump();
        let orelse = self.test()?;
        let span = then.span.to(orelse.span);
        Ok(Expr {
            kind: ExprKind::IfExp {
                cond: Box::new(cond),
                then: Box::new(then),
                orelse: Box::new(orelse),
            },
            span,
        })
    }

    fn bool_chain(&mut self, kw: &str, op: BoolOp) -> PResult<Expr> {
        let first = if op == BoolOp::Or {
            self.bool_chain("and", BoolOp::And)?
        } else {
            self.not_test()?
        };
        if !self.is_kw(kw) {
            return Ok(first);
        }
        let mut values = vec![first];
        while self.is_kw(kw) {
            self.bump();
            values.push(if op == BoolOp::Or {
                self.bool_chain("and", BoolOp::And)?
            } else {
                self.not_test()?
            });
        }
        let span = values[0].span.to(values[values.len() - 1].span);
        Ok(Expr {
            kind: ExprKind::BoolOp { op, values },
            span,
        })
    }

    fn or_test(&mut self) -> PResult<Expr> {
        self.bool_chain("or", BoolOp::Or)
    }

    fn not_test(&mut self) -> PResult<Expr> {
        if !self.is_kw("not") {
            return self.comparison();
        }
        let kw = self.bump().span;
        self.enter_expr()?;
        let operand = self.not_test();
        self.expr_depth -= 1;
        let operand = operand?;
        let span = kw.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op: UnOp::Not,
                operand: Box::new(operand),
            },
            span,
        })
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let first = self.arith()?;
        let mut rest = Vec::new();
        loop {
            let op = match self.peek() {
                Tok::Op("==") => CmpOp::Eq,
                Tok::Op("!=") => CmpOp::Ne,
                Tok::Op("<") => CmpOp::Lt,
                Tok::Op("<=") => CmpOp::Le,
                Tok::Op(">") => CmpOp::Gt,
                Tok::Op(">=") => CmpOp::Ge,
                Tok::Name(n) if n == "in" => {
                    return Err(self.err(
                        self.span(),
                        "`in` is not supported in expressions",
                        "`in` appears only in `for i in range(...)`; compare with `==`",
                    ));
                }
                Tok::Name(n)
                    if n == "not" && matches!(self.peek_at(1), Tok::Name(m) if m == "in") =>
                {
                    return Err(self.err(
                        self.span(),
                        "`not in` is not supported",
                        "compare with `!=`",
                    ));
                }
                // `x is None` / `x is not None`: for None, booleans and small integers
                // identity is equality, so they mean `==` and `!=`.
                Tok::Name(n) if n == "is" => {
                    if matches!(self.peek_at(1), Tok::Name(m) if m == "not") {
                        self.bump();
                        CmpOp::Ne
                    } else {
                        CmpOp::Eq
                    }
                }
                _ => break,
            };
            self.bump();
            rest.push((op, self.arith()?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let span = first.span.to(rest[rest.len() - 1].1.span);
        Ok(Expr {
            kind: ExprKind::Compare {
                first: Box::new(first),
                rest,
            },
            span,
        })
    }

    /// `a + b - c`. Each operator of a chain counts as a level of nesting, since the tree
    /// it makes is as deep as the chain is long.
    fn arith(&mut self) -> PResult<Expr> {
        let mut lhs = self.term()?;
        let depth = self.expr_depth;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => break,
            };
            self.bump();
            self.enter_expr()?;
            let rhs = self.term()?;
            lhs = binary(op, lhs, rhs);
        }
        self.expr_depth = depth;
        Ok(lhs)
    }

    fn term(&mut self) -> PResult<Expr> {
        let mut lhs = self.factor()?;
        let depth = self.expr_depth;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("//") => BinOp::FloorDiv,
                Tok::Op("%") => BinOp::Mod,
                _ => break,
            };
            self.bump();
            self.enter_expr()?;
            let rhs = self.factor()?;
            lhs = binary(op, lhs, rhs);
        }
        self.expr_depth = depth;
        Ok(lhs)
    }

    fn factor(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Op("-") => UnOp::Neg,
            Tok::Op("+") => UnOp::Pos,
            _ => return self.primary(),
        };
        let at = self.bump().span;
        // `-9223372036854775808`: the one literal that only fits negated.
        if op == UnOp::Neg
            && let Tok::Int(v) = self.peek()
            && *v == 1u128 << 63
        {
            let lit = self.bump().span;
            if !matches!(self.peek(), Tok::Op("(" | "[" | ".")) {
                return Ok(Expr {
                    kind: ExprKind::Int(i64::MIN),
                    span: at.to(lit),
                });
            }
            self.pos -= 1;
        }
        self.enter_expr()?;
        let operand = self.factor();
        self.expr_depth -= 1;
        let operand = operand?;
        let span = at.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let tok = self.cur().clone();
        let span = tok.span;
        let atom = match tok.tok {
            Tok::Int(v) => {
                self.bump();
                if v > i64::MAX as u128 {
                    return Err(Box::new(
                        self.src.diag(span, "integer literal out of range").with_help(
                            "integers are 64-bit: from -9223372036854775808 to 9223372036854775807",
                        ),
                    ));
                }
                Expr {
                    kind: ExprKind::Int(v as i64),
                    span,
                }
            }
            Tok::Str(s) => {
                self.bump();
                let mut s = s;
                let mut span = span;
                while let Tok::Str(more) = self.peek().clone() {
                    s.push_str(&more);
                    span = span.to(self.bump().span);
                }
                Expr {
                    kind: ExprKind::Str(s),
                    span,
                }
            }
            Tok::Name(n) => match n.as_str() {
                "True" | "False" | "None" | "tid" => {
                    self.bump();
                    let kind = match n.as_str() {
                        "True" => ExprKind::Bool(true),
                        "False" => ExprKind::Bool(false),
                        "None" => ExprKind::None,
                        _ => ExprKind::Tid,
                    };
                    Expr { kind, span }
                }
                _ if is_keyword(&n) => {
                    if let Some(d) = self.unsupported_statement(&n) {
                        return Err(d);
                    }
                    return Err(self.err(
                            span,
                            format!("expected an expression, found keyword `{n}`"),
                            "an expression is a value, a name, `name[i]`, a call or an operation on them",
                        ));
                }
                _ => {
                    self.bump();
                    return self.trailers(Ident { name: n, span });
                }
            },
            Tok::Op("(") => {
                self.bump();
                if self.is_op(")") {
                    return Err(self.err(
                        self.span(),
                        "empty tuples `()` are not supported",
                        "values are integers, booleans or None",
                    ));
                }
                let inner = self.test()?;
                if self.is_op(",") {
                    return Err(self.tuple_error());
                }
                if self.is_kw("for") {
                    return Err(self.comprehension_error());
                }
                let close = self.expect_op(
                    ")",
                    "expected `)`",
                    &format!("close the `(` on line {}", self.line(span.start)),
                )?;
                Expr {
                    kind: inner.kind,
                    span: span.to(close),
                }
            }
            Tok::Op("[") => {
                return Err(self.err(
                    span,
                    "list literals are not supported",
                    "declare arrays in [shared], [atomics] or [ghost]",
                ));
            }
            Tok::Op("*") => {
                return Err(self.err(
                    span,
                    "starred expressions are not supported",
                    "values are integers, booleans or None",
                ));
            }
            _ => {
                let found = self.describe();
                return Err(self.err(
                    span,
                    format!("expected an expression, found {found}"),
                    "an expression is a value, a name, `name[i]`, a call or an operation on them",
                ));
            }
        };
        // No trailers on anything but a name.
        match self.peek() {
            Tok::Op("(") => Err(self.err(
                self.span(),
                "only a name can be called",
                "call a built-in such as `sleep(1)`, or a method such as `m.acquire()`",
            )),
            Tok::Op("[") => Err(self.err(
                self.span(),
                "only a name can be indexed",
                "index an array by its name: `a[i]`",
            )),
            Tok::Op(".") => Err(self.err(
                self.span(),
                "method calls are supported only on a name or `name[index]`",
                "write `obj.method(...)` or `arr[i].method(...)`",
            )),
            _ => Ok(atom),
        }
    }

    #[cold]
    #[inline(never)]
    fn comprehension_error(&self) -> Box<Diagnostic> {
        self.err(
            self.span(),
            "comprehensions and generator expressions are not supported",
            "write a `for` loop",
        )
    }

    /// What follows a name: `(args)`, `[i]`, `.m(args)`, `[i].m(args)`.
    fn trailers(&mut self, name: Ident) -> PResult<Expr> {
        let mut index: Option<(Box<Expr>, Span)> = None;
        if self.is_op("(") {
            let (args, close) = self.args()?;
            let span = name.span.to(close);
            let e = Expr {
                kind: ExprKind::Call { func: name, args },
                span,
            };
            return self.no_more_trailers(e, "a call's result");
        }
        if self.is_op("[") {
            self.bump();
            if self.is_op("]") {
                return Err(self.err(self.span(), "expected an index", "write `a[i]`"));
            }
            let i = self.test()?;
            if self.is_op(":") {
                return Err(self.err(
                    self.span(),
                    "slices are not supported",
                    "index one element: `a[i]`",
                ));
            }
            if self.is_op(",") {
                return Err(self.err(
                    self.span(),
                    "multi-dimensional indexing is not supported",
                    "arrays are one-dimensional: `a[i]`",
                ));
            }
            let close = self.expect_op(
                "]",
                "expected `]` after the index",
                &format!("close the `[` on line {}", self.line(name.span.start)),
            )?;
            index = Some((Box::new(i), close));
        }
        if self.is_op(".") {
            let dot = self.bump().span;
            let Tok::Name(m) = self.peek().clone() else {
                return Err(self.err(
                    self.span(),
                    "expected a method name after `.`",
                    "write `obj.method(...)`",
                ));
            };
            let mspan = self.bump().span;
            if !self.is_op("(") {
                return Err(self.err(
                    dot.to(mspan),
                    format!("attribute access (`.{m}` without a call) is not supported"),
                    format!("only method calls are supported: `{}.{m}(...)`", name.name),
                ));
            }
            let (args, close) = self.args()?;
            let rspan = index.as_ref().map_or(name.span, |(_, c)| name.span.to(*c));
            let receiver = ObjRef {
                name,
                index: index.map(|(i, _)| i),
                span: rspan,
            };
            let span = rspan.to(close);
            let e = Expr {
                kind: ExprKind::Method {
                    receiver,
                    method: Ident {
                        name: m,
                        span: mspan,
                    },
                    args,
                },
                span,
            };
            return self.no_more_trailers(e, "a method call's result");
        }
        match index {
            Some((i, close)) => {
                let span = name.span.to(close);
                let e = Expr {
                    kind: ExprKind::Index { name, index: i },
                    span,
                };
                if self.is_op("[") {
                    return Err(self.err(
                        self.span(),
                        "nested indexing (`a[i][j]`) is not supported",
                        "arrays are one-dimensional",
                    ));
                }
                if self.is_op("(") {
                    return Err(self.err(
                        self.span(),
                        "an array element cannot be called",
                        "call a method on it: `arr[i].method(...)`",
                    ));
                }
                Ok(e)
            }
            None => {
                let span = name.span;
                Ok(Expr {
                    kind: ExprKind::Name(name.name),
                    span,
                })
            }
        }
    }

    fn no_more_trailers(&self, e: Expr, what: &str) -> PResult<Expr> {
        if matches!(self.peek(), Tok::Op("(" | "[" | ".")) {
            let found = self.describe();
            return Err(self.err(
                self.span(),
                format!("unexpected {found}: {what} cannot be called, indexed or have methods"),
                "store the result in a variable first",
            ));
        }
        Ok(e)
    }

    /// `(args)`: returns the arguments and the span of `)`.
    fn args(&mut self) -> PResult<(Vec<Arg>, Span)> {
        let open = self.bump().span;
        let mut args: Vec<Arg> = Vec::new();
        loop {
            if let Some(close) = self.eat_op(")") {
                return Ok((args, close));
            }
            if self.is_op("*") {
                return Err(self.err(
                    self.span(),
                    "argument unpacking (`*args`) is not supported",
                    "pass each argument separately",
                ));
            }
            let keyword = match (self.peek(), self.peek_at(1)) {
                (Tok::Name(n), Tok::Op("=")) if !is_keyword(n) => {
                    let n = n.clone();
                    let span = self.bump().span;
                    self.bump();
                    if args
                        .iter()
                        .any(|a| a.keyword.as_ref().is_some_and(|k| k.name == n))
                    {
                        return Err(self.err(
                            span,
                            format!("keyword argument `{n}` repeated"),
                            "give each keyword argument once",
                        ));
                    }
                    Some(Ident { name: n, span })
                }
                _ => None,
            };
            if keyword.is_none() && args.iter().any(|a| a.keyword.is_some()) {
                return Err(self.err(
                    self.span(),
                    "positional argument follows keyword argument",
                    "put positional arguments first: `q.put(v, block=False)`",
                ));
            }
            let value = self.test()?;
            if self.is_kw("for") {
                return Err(self.comprehension_error());
            }
            args.push(Arg { keyword, value });
            if self.eat_op(",").is_some() {
                continue;
            }
            if let Some(close) = self.eat_op(")") {
                return Ok((args, close));
            }
            let help = if self.is_op("=") {
                "a keyword argument is `name=value`; to compare, use `==`".to_string()
            } else {
                format!("close the `(` on line {}", self.line(open.start))
            };
            return Err(self.err(
                self.span(),
                "expected `,` or `)` in the argument list",
                help,
            ));
        }
    }
}

fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::frontend::ast::WithItem;

    /// A compact, span-free rendering of a tree, for comparing with expectations.
    pub(crate) fn sx_expr(e: &Expr) -> String {
        let args = |args: &[Arg]| {
            args.iter()
                .map(|a| match &a.keyword {
                    Some(k) => format!(" {}={}", k.name, sx_expr(&a.value)),
                    None => format!(" {}", sx_expr(&a.value)),
                })
                .collect::<String>()
        };
        let obj = |r: &ObjRef| match &r.index {
            Some(i) => format!("{}[{}]", r.name.name, sx_expr(i)),
            None => r.name.name.clone(),
        };
        match &e.kind {
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Bool(b) => if *b { "True" } else { "False" }.into(),
            ExprKind::None => "None".into(),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Name(n) => n.clone(),
            ExprKind::Tid => "tid".into(),
            ExprKind::Index { name, index } => format!("{}[{}]", name.name, sx_expr(index)),
            ExprKind::Unary { op, operand } => {
                let o = match op {
                    UnOp::Neg => "neg",
                    UnOp::Pos => "pos",
                    UnOp::Not => "not",
                };
                format!("({o} {})", sx_expr(operand))
            }
            ExprKind::Binary { op, lhs, rhs } => {
                format!("({} {} {})", op.symbol(), sx_expr(lhs), sx_expr(rhs))
            }
            ExprKind::Compare { first, rest } => {
                let mut s = format!("(cmp {}", sx_expr(first));
                for (op, e) in rest {
                    s += &format!(" {} {}", op.symbol(), sx_expr(e));
                }
                s + ")"
            }
            ExprKind::BoolOp { op, values } => {
                let o = if *op == BoolOp::And { "and" } else { "or" };
                let vs: Vec<String> = values.iter().map(sx_expr).collect();
                format!("({o} {})", vs.join(" "))
            }
            ExprKind::IfExp { cond, then, orelse } => {
                format!(
                    "(ifexp {} {} {})",
                    sx_expr(cond),
                    sx_expr(then),
                    sx_expr(orelse)
                )
            }
            ExprKind::Call { func, args: a } => format!("(call {}{})", func.name, args(a)),
            ExprKind::Method {
                receiver,
                method,
                args: a,
            } => format!("(method {}.{}{})", obj(receiver), method.name, args(a)),
        }
    }

    pub(crate) fn sx_block(stmts: &[Stmt]) -> String {
        let v: Vec<String> = stmts.iter().map(sx_stmt).collect();
        format!("[{}]", v.join(" "))
    }

    fn sx_target(t: &Target) -> String {
        match &t.index {
            Some(i) => format!("{}[{}]", t.name.name, sx_expr(i)),
            None => t.name.name.clone(),
        }
    }

    pub(crate) fn sx_stmt(s: &Stmt) -> String {
        match &s.kind {
            StmtKind::Pass => "pass".into(),
            StmtKind::Break => "break".into(),
            StmtKind::Continue => "continue".into(),
            StmtKind::Assign { target, value } => {
                format!("(= {} {})", sx_target(target), sx_expr(value))
            }
            StmtKind::AugAssign { target, op, value } => {
                format!(
                    "({}= {} {})",
                    op.symbol(),
                    sx_target(target),
                    sx_expr(value)
                )
            }
            StmtKind::If { branches, orelse } => {
                let mut out = "(if".to_string();
                for (c, b) in branches {
                    out += &format!(" {} {}", sx_expr(c), sx_block(b));
                }
                if let Some(e) = orelse {
                    out += &format!(" else {}", sx_block(e));
                }
                out + ")"
            }
            StmtKind::While { cond, body } => {
                format!("(while {} {})", sx_expr(cond), sx_block(body))
            }
            StmtKind::For {
                var,
                start,
                end,
                step,
                body,
            } => format!(
                "(for {} {} {} {} {})",
                var.name,
                start.as_ref().map_or("_".into(), sx_expr),
                sx_expr(end),
                step.as_ref().map_or("_".into(), sx_expr),
                sx_block(body)
            ),
            StmtKind::With { item, body } => {
                let i = match item {
                    WithItem::Atomic(_) => "atomic".to_string(),
                    WithItem::Object(r) => match &r.index {
                        Some(i) => format!("{}[{}]", r.name.name, sx_expr(i)),
                        None => r.name.name.clone(),
                    },
                };
                format!("(with {i} {})", sx_block(body))
            }
            StmtKind::Assert { cond, message } => match message {
                Some(m) => format!("(assert {} {m:?})", sx_expr(cond)),
                None => format!("(assert {})", sx_expr(cond)),
            },
            StmtKind::Expr(e) => sx_expr(e),
            StmtKind::Global(names) => {
                let n: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
                format!("(global {})", n.join(" "))
            }
        }
    }

    fn block(code: &str) -> Result<Vec<Stmt>, Diagnostic> {
        parse_block(&CodeSource::whole("t.py", code))
    }

    fn sx(code: &str) -> String {
        match block(code) {
            Ok(b) => sx_block(&b),
            Err(d) => panic!("{code:?}: {}", d.render()),
        }
    }

    fn ex(code: &str) -> String {
        match parse_expr(&CodeSource::whole("t.py", code)) {
            Ok(e) => sx_expr(&e),
            Err(d) => panic!("{code:?}: {}", d.render()),
        }
    }

    /// (line, column, message) of the error `code` gives.
    fn fail(code: &str) -> (usize, usize, String) {
        match block(code) {
            Ok(b) => panic!("{code:?} parsed: {}", sx_block(&b)),
            Err(d) => {
                assert!(d.help.is_some(), "{code:?}: no help in {d}");
                (d.line, d.column, d.message)
            }
        }
    }

    #[track_caller]
    fn fails_with(code: &str, line: usize, column: usize, message: &str) {
        let (l, c, m) = fail(code);
        assert!(
            m.contains(message),
            "{code:?}: message {m:?} does not contain {message:?}"
        );
        assert_eq!((l, c), (line, column), "{code:?}: {m}");
    }

    #[test]
    fn statements() {
        let code = "\
tmp = counter
counter = tmp + 1
slots[i] = 0
x += 1; x -= 2; x *= 3; x //= 4; x %= 5
slots[tid] += 1
if a:
    pass
elif b: x = 1
else:
    y = 2
while not done: pass
for i in range(3): print(i)
for i in range(1, n): break
for i in range(10, 0, -2):
    continue
with m:
    with fork[i]: pass
with atomic:
    pass
with a, b[1]:
    pass
with (c, d,):
    pass
assert x == 1
assert x, 'why' \"not\"
m.acquire(); fork[i].release()
ok = m.acquire(blocking=False)
worker.start(); worker[0].join()
sleep(1); work(2)
print(\"x =\", x, end)
global a, b
";
        assert_eq!(
            sx(code),
            "[(= tmp counter) (= counter (+ tmp 1)) (= slots[i] 0) \
             (+= x 1) (-= x 2) (*= x 3) (//= x 4) (%= x 5) (+= slots[tid] 1) \
             (if a [pass] b [(= x 1)] else [(= y 2)]) (while (not done) [pass]) \
             (for i _ 3 _ [(call print i)]) (for i 1 n _ [break]) \
             (for i 10 0 (neg 2) [continue]) (with m [(with fork[i] [pass])]) \
             (with atomic [pass]) (with a [(with b[1] [pass])]) (with c [(with d [pass])]) \
             (assert (cmp x == 1)) (assert x \"whynot\") \
             (method m.acquire) (method fork[i].release) \
             (= ok (method m.acquire blocking=False)) \
             (method worker.start) (method worker[0].join) \
             (call sleep 1) (call work 2) (call print \"x =\" x end) (global a b)]"
        );
    }

    #[test]
    fn expression_precedence() {
        assert_eq!(ex("a if c else b or d"), "(ifexp c a (or b d))");
        assert_eq!(ex("a or b and not c"), "(or a (and b (not c)))");
        assert_eq!(ex("a and b and c"), "(and a b c)");
        assert_eq!(ex("not a == b"), "(not (cmp a == b))");
        assert_eq!(ex("a < b <= c != d"), "(cmp a < b <= c != d)");
        assert_eq!(ex("a is None"), "(cmp a == None)");
        assert_eq!(ex("a is not None"), "(cmp a != None)");
        assert_eq!(
            ex("1 + 2 * 3 - 4 // 5 % 6"),
            "(- (+ 1 (* 2 3)) (% (// 4 5) 6))"
        );
        assert_eq!(ex("-x * +y"), "(* (neg x) (pos y))");
        assert_eq!(ex("-(a - b) - -c"), "(- (neg (- a b)) (neg c))");
        assert_eq!(ex("x if a else y if b else z"), "(ifexp a x (ifexp b y z))");
        assert_eq!(ex("True != False == None"), "(cmp True != False == None)");
        assert_eq!(
            ex("0x1F + 1_000 + 0o17 + 0b101"),
            "(+ (+ (+ 31 1000) 15) 5)"
        );
        assert_eq!(ex("-9223372036854775808"), "-9223372036854775808");
        assert_eq!(ex("9223372036854775807"), "9223372036854775807");
        assert_eq!(ex("choose(0, n - 1)"), "(call choose 0 (- n 1))");
        assert_eq!(
            ex("q.get(timeout=2) == None"),
            "(cmp (method q.get timeout=2) == None)"
        );
        assert_eq!(ex("a[i + 1] > tid"), "(cmp a[(+ i 1)] > tid)");
        assert_eq!(ex("  counter ==\n 2  "), "(cmp counter == 2)");
        assert_eq!(ex(r#"'a\n\'b' + "\x41\\""#), r#"(+ "a\n'b" "A\\")"#);
        assert_eq!(ex("r'\\n'"), r#""\\n""#);
        // Lowercase booleans are names: later stages say what is wrong.
        assert_eq!(ex("true"), "true");
    }

    #[test]
    fn spans_are_file_offsets() {
        let code = "if x == 1:\n    y = foo(a, b)\n";
        let b = block(code).unwrap();
        assert_eq!(b[0].span, Span::new(0, 10)); // the header line
        let StmtKind::If { branches, .. } = &b[0].kind else {
            panic!()
        };
        assert_eq!(branches[0].0.span, Span::new(3, 9));
        let inner = &branches[0].1[0];
        assert_eq!(&code[inner.span.start..inner.span.end], "y = foo(a, b)");
        let StmtKind::Assign { value, .. } = &inner.kind else {
            panic!()
        };
        assert_eq!(&code[value.span.start..value.span.end], "foo(a, b)");
    }

    #[test]
    fn indentation_and_layout() {
        // Common indentation is removed; comments and blank lines do not count.
        assert_eq!(
            sx("    # note\n    x = 1\n\n    if x:\n  # odd comment\n        y = 2\n    z = 3\n"),
            "[(= x 1) (if x [(= y 2)]) (= z 3)]"
        );
        // Tabs, continuation lines, brackets spanning lines, CRLF.
        assert_eq!(
            sx("if a:\n\tx = 1\n\ty = 2\n"),
            "[(if a [(= x 1) (= y 2)])]"
        );
        assert_eq!(
            sx("x = (1 +\n  2)\ny = f(a,\n b)\n"),
            "[(= x (+ 1 2)) (= y (call f a b))]"
        );
        assert_eq!(sx("x = 1 + \\\n  2\n"), "[(= x (+ 1 2))]");
        assert_eq!(sx("if a:\r\n    x = 1\r\n"), "[(if a [(= x 1)])]");
        assert_eq!(
            sx("if a:\n    if b:\n        pass\nx = 1"),
            "[(if a [(if b [pass])]) (= x 1)]"
        );
    }

    #[test]
    fn errors_have_message_and_place() {
        fails_with(
            "while x\n    pass",
            1,
            8,
            "expected `:` after the `while` condition",
        );
        fails_with("x = 1 / 2", 1, 7, "integer division is `//`");
        fails_with(
            "if x:\npass",
            2,
            1,
            "expected an indented block after the `if` on line 1",
        );
        fails_with("if x:\n    a = 1\n  b = 2", 3, 1, "unindent does not match");
        fails_with("x = 1\n    y = 2", 2, 5, "unexpected indent");
        fails_with(
            "if x:\n\ta = 1\n        b = 2",
            3,
            1,
            "inconsistent use of tabs",
        );
        fails_with(
            "def f(): pass",
            1,
            1,
            "function definitions (`def`) are not supported",
        );
        fails_with("x = 2 ** 3", 1, 7, "`**` (power) is not supported");
        fails_with("a, b = 1, 2", 1, 2, "tuples are not supported");
        fails_with("x = a.b", 1, 6, "attribute access");
        fails_with(
            "(a + b).m()",
            1,
            8,
            "method calls are supported only on a name",
        );
        fails_with(
            "x = 99999999999999999999",
            1,
            5,
            "integer literal out of range",
        );
        fails_with(
            "x = 9223372036854775808",
            1,
            5,
            "integer literal out of range",
        );
        fails_with("x = 1.5", 1, 5, "floating-point numbers are not supported");
        fails_with("x = f\"{a}\"", 1, 5, "f-strings are not supported");
        fails_with("True = 1", 1, 1, "cannot assign to `True`");
        fails_with("print = 1", 1, 1, "cannot assign to `print`");
        fails_with("for tid in range(3): pass", 1, 5, "cannot assign to `tid`");
        fails_with("f() += 1", 1, 1, "cannot assign to a function call");
        fails_with("x /= 2", 1, 3, "`/=` is not supported");
        fails_with(
            "for i in items: pass",
            1,
            10,
            "only `for NAME in range(...)`",
        );
        fails_with(
            "for i in range(1, 2, 3, 4): pass",
            1,
            10,
            "`range` takes 1 to 3 arguments",
        );
        fails_with("x = f(1, 2\ny = 3", 2, 1, "expected `,` or `)`");
        fails_with("x = (1 + 2]", 1, 11, "`]` does not match the `(` on line 1");
        fails_with("x = (1 +\n", 1, 5, "`(` was never closed");
        fails_with(
            "with m as n:\n    pass",
            1,
            8,
            "`with ... as` is not supported",
        );
        fails_with("x = 'abc", 1, 5, "unterminated string literal");
        fails_with("x = 0123", 1, 5, "leading zeros");
        fails_with("assert x, y", 1, 11, "must be a string literal");
        fails_with(
            "x = 1\nelse:\n    pass",
            2,
            1,
            "`else` without a matching `if`",
        );
        fails_with(
            "while a: pass\nelse: pass",
            2,
            1,
            "`else` after a `while` loop",
        );
        fails_with("x = y = 1", 1, 7, "chained assignment");
        fails_with("x = a if b", 1, 11, "expected `else`");
        fails_with("lambda: 0", 1, 1, "`lambda` is not supported");
        fails_with("import threading", 1, 1, "`import` is not supported");
        fails_with(
            "try:\n    pass\nexcept: pass",
            1,
            1,
            "`try`/`except`/`finally`",
        );
        fails_with("return", 1, 1, "`return` is not supported");
        fails_with("x = a & b", 1, 7, "bit operators");
        fails_with("x = [1]", 1, 5, "list literals are not supported");
        fails_with("x = a[1][2]", 1, 9, "nested indexing");
        fails_with(
            "f(a=1, 2)",
            1,
            8,
            "positional argument follows keyword argument",
        );
        fails_with("x = 1 if a in b else 2", 1, 12, "`in` is not supported");
        fails_with(
            "if x = 1:\n    pass",
            1,
            6,
            "expected `:` after the `if` condition",
        );
        fails_with("é = 1", 1, 1, "unexpected character `é`");
        fails_with("while True: if x: pass", 1, 13, "`if` cannot follow");
        fails_with(
            "with m:",
            1,
            8,
            "expected an indented block after the `with`",
        );
        fails_with("", 1, 1, "the code is empty");
        fails_with("x = 1 +", 1, 8, "expected an expression");
        // The first error in the file wins, whether lexical or syntactic.
        fails_with("x = = 1\ny = 1 / 2", 1, 5, "expected an expression");
        fails_with("x = 1 / 2\ny = = 1", 1, 7, "integer division");
    }

    #[test]
    fn expression_errors() {
        let e = |s: &str| parse_expr(&CodeSource::whole("t", s)).unwrap_err();
        let d = e("counter = 2");
        assert_eq!((d.line, d.column), (1, 9));
        assert!(d.help.as_deref().unwrap().contains("=="), "{d}");
        assert!(e("").message.contains("empty"));
        assert!(e("x ==").message.contains("expected an expression"));
        assert!(e("a / b").message.contains("//"));
    }

    #[test]
    fn nesting_is_bounded() {
        let parens = |n: usize| format!("x = {}1{}", "(".repeat(n), ")".repeat(n));
        assert!(block(&parens(MAX_NESTING - 2)).is_ok());
        let d = block(&parens(MAX_NESTING + 1)).unwrap_err();
        assert!(d.message.contains("nested too deeply"), "{d}");
        assert!(block(&format!("x = {}1", "not ".repeat(MAX_NESTING + 1))).is_err());
        assert!(block(&format!("x = {}1", "- ".repeat(MAX_NESTING + 1))).is_err());
        assert!(block(&format!("x = 1{}", " + 1".repeat(MAX_NESTING + 1))).is_err());
        assert!(block(&format!("x = 1{}", " + 1".repeat(MAX_NESTING / 2))).is_ok());
        // A long flat chain of `and` is fine.
        assert!(block(&format!("x = a{}", " and a".repeat(1000))).is_ok());
        let ifs = |n: usize| {
            let mut s = String::new();
            for i in 0..n {
                s += &format!("{}if x:\n", " ".repeat(i));
            }
            s + &format!("{}pass\n", " ".repeat(n))
        };
        assert!(block(&ifs(MAX_NESTING - 1)).is_ok());
        let d = block(&ifs(MAX_NESTING + 1)).unwrap_err();
        assert!(d.message.contains("nested too deeply"), "{d}");
        let items: Vec<String> = (0..MAX_NESTING + 1).map(|i| format!("m{i}")).collect();
        assert!(block(&format!("with {}:\n    pass", items.join(", "))).is_err());
    }

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

    /// A small deterministic PRNG (xorshift).
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn never_panics() {
        let valid = "\
x = 0
with m, fork[tid % 5]:
    while x < 3 and not done:
        x += choose(0, 2)
        if q.get(timeout=1) == None: break
        elif x: print(\"x\", x)
        else:
            ok = sem.acquire(blocking=False)
for i in range(1, 10, 2):
    slots[i] //= -(2 + 0x1f)
assert x >= 0, 'bad'
";
        let pieces = [
            "(",
            ")",
            "[",
            "]",
            ":",
            "\n",
            "    ",
            "\t",
            "#",
            "'",
            "\"",
            "\\",
            "if ",
            "else",
            "-",
            "9999999999999999999999",
            ",",
            "=",
            ".",
            "é",
            "\r",
            "not ",
            "with ",
            "for ",
        ];
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for _ in 0..3000 {
            let mut s: Vec<u8> = valid.as_bytes().to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(s.len() + 1);
                match rng.below(5) {
                    0 => {
                        s.truncate(at);
                    }
                    1 if at < s.len() => {
                        s.remove(at);
                    }
                    2 => {
                        let p = pieces[rng.below(pieces.len())];
                        s.splice(at..at, p.bytes());
                    }
                    3 => s.insert(at, rng.below(128) as u8),
                    _ => {
                        let end = (at + rng.below(20)).min(s.len());
                        let chunk: Vec<u8> = s[at..end].to_vec();
                        s.splice(at..at, chunk);
                    }
                }
            }
            let text = String::from_utf8_lossy(&s).into_owned();
            let src = CodeSource::whole("f", &text);
            let _ = parse_block(&src);
            let _ = parse_expr(&src);
        }
        // Random bytes.
        for _ in 0..1000 {
            let n = rng.below(60);
            let bytes: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let src = CodeSource::whole("f", &text);
            let _ = parse_block(&src);
            let _ = parse_expr(&src);
        }
        // Every truncation of the valid code.
        for i in 0..=valid.len() {
            let src = CodeSource::whole("f", &valid[..i]);
            let _ = parse_block(&src);
        }
    }
}
