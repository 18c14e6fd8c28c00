//! The lexer of the code language: code text in, tokens with file spans out.
//!
//! It follows Python's layout rules: a line's indentation opens (`Indent`) or closes
//! (`Dedent`) blocks, a logical line ends in `Newline`, and inside brackets or after a
//! line-ending `\` lines join. In expression mode (a `[final]` or `[invariant]`
//! assertion) there is no indentation and newlines are plain whitespace.
//!
//! The lexer stops at its first error and ends the tokens with an `Error` token; the
//! parser reports it only when it gets there, so an earlier syntax error wins.
//!
//! Choices a user may notice (none of them break Python code that runs):
//! - Tabs count to the next multiple of 8, as in CPython; indentation that means different
//!   things with tab width 8 and tab width 1 is an error ("inconsistent use of tabs").
//! - Integer literals may be decimal, `0x`, `0o` or `0b`, with `_` separators; a literal
//!   must fit in 64 bits (`-9223372036854775808` is read as one literal).
//! - Strings: single, double or triple quoted, with `\n \t \r \0 \\ \' \" \xHH` escapes;
//!   `r"..."` raw strings and `u"..."` are accepted; f-strings and bytes are not.
//! - Python operators the code language lacks (`/`, `**`, bit operators, `:=`, `{...}`
//!   and more) are errors that say what to write instead: `/` says to use `//`.

use crate::frontend::ast::Span;
use crate::frontend::diag::line_col;

/// What a token is, with its value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Name(String),
    /// The literal's value; more than `u64::MAX` saturates (it is out of range anyway).
    Int(u128),
    /// A decimal literal (`0.5`), in millionths: only a time in seconds may be one.
    Decimal(u64),
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

/// A token and where it is in the file.
#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// File offsets.
    pub(super) span: Span,
}

/// Lexes `text`, whose byte `i` sits at file offset `map[i]` (with one more entry for the
/// end). The tokens end with `Eof`, or with an `Error` at the first lexical error.
pub(super) fn lex(file: &str, text: &str, map: &[usize], expr_mode: bool) -> Vec<Token> {
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

/// The bracket that closes `open` (`(` or `[`).
fn closing_bracket(open: u8) -> &'static str {
    if open == b'(' { ")" } else { "]" }
}

/// The escapes that stand for one character.
fn simple_escape(e: u8) -> Option<char> {
    match e {
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
    }
}

/// A lexical error at text offsets `start..end`, with what to write instead.
struct LexError {
    start: usize,
    end: usize,
    message: String,
    help: String,
}

impl LexError {
    fn new(start: usize, end: usize, message: impl Into<String>, help: impl Into<String>) -> Self {
        LexError {
            start,
            end,
            message: message.into(),
            help: help.into(),
        }
    }

    fn float(start: usize, end: usize) -> Self {
        LexError::new(
            start,
            end,
            "floating-point numbers are not supported",
            "values are integers (64-bit), booleans or None",
        )
    }
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

    /// The file line of text offset `at`.
    fn line_of(&self, at: usize) -> usize {
        let o = self.map.get(at).or(self.map.last()).copied().unwrap_or(0);
        line_col(self.file, o).0
    }

    /// The tokens, ending in `Eof`; or, after a lexical error, the tokens before it and
    /// an `Error`.
    fn run(mut self) -> Vec<Token> {
        if let Err(e) = self.tokens() {
            let span = self.span(e.start, e.end);
            self.toks.push(Token {
                tok: Tok::Error {
                    message: e.message,
                    help: e.help,
                },
                span,
            });
        }
        self.toks
    }

    fn tokens(&mut self) -> Result<(), LexError> {
        loop {
            if self.at_line_start && self.brackets.is_empty() && !self.expr_mode {
                self.at_line_start = false;
                if !self.line_start()? {
                    break;
                }
            }
            self.skip_whitespace();
            if self.pos >= self.bytes.len() {
                break;
            }
            self.token()?;
        }
        self.end_of_input()
    }

    /// At the start of a line outside brackets: skips blank and comment-only lines, then
    /// handles the indentation of the next line with code. False at the end of the text.
    fn line_start(&mut self) -> Result<bool, LexError> {
        loop {
            let (c8, c1, p) = self.measure_indentation();
            self.pos = p;
            if !self.is_blank_line(p) {
                self.indentation(c8, c1, p)?;
                return Ok(true);
            }
            // A blank or comment-only line: no tokens, no indentation.
            self.skip_to_line_end();
            if self.pos >= self.bytes.len() {
                return Ok(false);
            }
            self.pos += 1;
        }
    }

    /// The indentation at `self.pos`: (columns with tab size 8, columns with tab size 1,
    /// the offset of the first character after it).
    fn measure_indentation(&self) -> (usize, usize, usize) {
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
        (c8, c1, p)
    }

    /// Whether the line whose indentation ends at `p` has no code.
    fn is_blank_line(&self, p: usize) -> bool {
        let rest = &self.bytes[p..];
        rest.is_empty()
            || rest[0] == b'#'
            || rest[0] == b'\n'
            || (rest[0] == b'\r' && rest.get(1).is_none_or(|&b| b == b'\n'))
    }

    fn skip_to_line_end(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn skip_whitespace(&mut self) {
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b' ' | b'\t' | b'\x0c' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    /// Where the run of letters, digits and `_` from `from` ends.
    fn word_end(&self, from: usize) -> usize {
        let b = self.bytes;
        let mut end = from;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        end
    }

    /// Handles the indentation of a line whose first token is at `p`.
    fn indentation(&mut self, c8: usize, c1: usize, p: usize) -> Result<(), LexError> {
        let &(t8, t1) = self.indents.last().unwrap_or(&(0, 0));
        if c8 == t8 {
            if c1 != t1 {
                return Err(self.tab_error(p));
            }
        } else if c8 > t8 {
            if c1 <= t1 {
                return Err(self.tab_error(p));
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
                return Err(LexError::new(
                    self.line_start_before(p),
                    p,
                    "unindent does not match any outer indentation level",
                    "indent this line exactly as far as the block it continues",
                ));
            }
            if t1 != c1 {
                return Err(self.tab_error(p));
            }
        }
        Ok(())
    }

    /// The text offset where the line holding offset `p` starts.
    fn line_start_before(&self, p: usize) -> usize {
        self.text[..p].rfind('\n').map_or(0, |i| i + 1)
    }

    fn tab_error(&self, p: usize) -> LexError {
        LexError::new(
            self.line_start_before(p),
            p,
            "inconsistent use of tabs and spaces in indentation",
            "indent with spaces only (or tabs only)",
        )
    }

    /// The token at `self.pos`, which is neither whitespace nor the end of the text.
    fn token(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        match self.bytes[start] {
            b'#' => self.skip_to_line_end(),
            b'\n' => self.newline(),
            b'\\' => self.line_continuation(start)?,
            b'0'..=b'9' => self.number()?,
            b'"' | b'\'' => self.string(start, false)?,
            b'.' if self
                .bytes
                .get(start + 1)
                .is_some_and(|b| b.is_ascii_digit()) =>
            {
                let mut end = start + 1;
                while end < self.bytes.len() && self.bytes[end].is_ascii_alphanumeric() {
                    end += 1;
                }
                return Err(LexError::float(start, end));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => self.word(start)?,
            c if c >= 0x80 => {
                let ch = self.text[start..].chars().next().unwrap_or('?');
                return Err(LexError::new(
                    start,
                    start + ch.len_utf8(),
                    format!("unexpected character `{ch}`"),
                    "names are ASCII letters, digits and `_`; other characters may appear only in strings and comments",
                ));
            }
            _ => self.operator(start)?,
        }
        Ok(())
    }

    fn newline(&mut self) {
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

    /// A `\` at `start`: it joins the next line to this one, and must end the line.
    fn line_continuation(&mut self, start: usize) -> Result<(), LexError> {
        let mut p = start + 1;
        if self.bytes.get(p) == Some(&b'\r') {
            p += 1;
        }
        if self.bytes.get(p) == Some(&b'\n') {
            self.pos = p + 1;
        } else if p >= self.bytes.len() {
            self.pos = p;
        } else {
            return Err(LexError::new(
                start,
                start + 1,
                "unexpected `\\` (a backslash continues a line only at its end)",
                "remove the `\\`, or put a line break right after it",
            ));
        }
        Ok(())
    }

    /// A name, or a string with a prefix (`r"..."`, `u"..."`), starting at `start`.
    fn word(&mut self, start: usize) -> Result<(), LexError> {
        let end = self.word_end(start + 1);
        let word = &self.text[start..end];
        if matches!(self.bytes.get(end), Some(b'"' | b'\''))
            && word.len() <= 2
            && word.chars().all(|c| "rRbBuUfF".contains(c))
        {
            let lower = word.to_ascii_lowercase();
            if lower.contains('f') {
                return Err(LexError::new(
                    start,
                    end + 1,
                    "f-strings are not supported",
                    "print several values instead: `print(\"x =\", x)`",
                ));
            }
            if lower.contains('b') {
                return Err(LexError::new(
                    start,
                    end + 1,
                    "bytes literals are not supported",
                    "use a plain string",
                ));
            }
            if lower == "u" || lower == "r" {
                self.pos = end;
                return self.string(start, lower == "r");
            }
        }
        self.pos = end;
        self.push(Tok::Name(word.to_string()), start, end);
        Ok(())
    }

    /// An operator or bracket at `start`.
    fn operator(&mut self, start: usize) -> Result<(), LexError> {
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
            return Err(LexError::new(
                start,
                start + ch.len_utf8(),
                format!("unexpected character `{shown}`"),
                "this character has no meaning in the code",
            ));
        };
        let end = start + op.len();
        if let Some((m, h)) = unsupported_op(op) {
            return Err(LexError::new(start, end, m, h));
        }
        match op {
            "(" | "[" => self.brackets.push((op.as_bytes()[0], start)),
            ")" | "]" => self.close_bracket(op, start, end)?,
            _ => {}
        }
        self.pos = end;
        self.push(Tok::Op(op), start, end);
        Ok(())
    }

    /// The closing bracket `op` at `start..end`: it must match the last one opened.
    fn close_bracket(&mut self, op: &str, start: usize, end: usize) -> Result<(), LexError> {
        let want = if op == ")" { b'(' } else { b'[' };
        match self.brackets.pop() {
            None => Err(LexError::new(
                start,
                end,
                format!("unmatched `{op}`"),
                "remove it, or add the opening bracket",
            )),
            Some((open, at)) if open != want => {
                let line = self.line_of(at);
                Err(LexError::new(
                    start,
                    end,
                    format!(
                        "`{op}` does not match the `{}` on line {line}",
                        open as char
                    ),
                    format!(
                        "close the `{}` with `{}`",
                        open as char,
                        closing_bracket(open)
                    ),
                ))
            }
            Some(_) => Ok(()),
        }
    }

    /// After the last token: an open bracket is an error; else the last line's `Newline`,
    /// the `Dedent`s that close every block, and `Eof`.
    fn end_of_input(&mut self) -> Result<(), LexError> {
        let end = self.bytes.len();
        if let Some(&(open, at)) = self.brackets.last() {
            return Err(LexError::new(
                at,
                at + 1,
                format!("`{}` was never closed", open as char),
                format!("add the matching `{}`", closing_bracket(open)),
            ));
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
        Ok(())
    }

    /// An integer literal at `self.pos` (a float is an error).
    fn number(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let end = self.word_end(start);
        let word = &self.text[start..end];
        // A float: digits followed by `.`, or an exponent.
        if self.bytes.get(end) == Some(&b'.') && !word.starts_with("0x") && !word.starts_with("0X")
        {
            return self.decimal(start, end);
        }
        let value = self.integer_value(start, end)?;
        self.pos = end;
        self.push(Tok::Int(value), start, end);
        Ok(())
    }

    /// The decimal literal `digits.digits` at `start` (`end`: the dot), in millionths: a
    /// time in seconds, to the microsecond.
    fn decimal(&mut self, start: usize, end: usize) -> Result<(), LexError> {
        let stop = self.word_end(end + 1);
        let whole = &self.text[start..end];
        let frac = &self.text[end + 1..stop];
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(frac) {
            return Err(LexError::float(start, stop));
        }
        if frac.len() > 6 {
            return Err(LexError::new(
                start,
                stop,
                "a time has at most 6 decimal places (microseconds)",
                "write the time in seconds to the microsecond, like `0.000001`",
            ));
        }
        let us = whole
            .parse::<u64>()
            .ok()
            .and_then(|w| w.checked_mul(1_000_000))
            .and_then(|w| {
                let f = format!("{frac:0<6}").parse::<u64>().unwrap_or(0);
                w.checked_add(f)
            })
            .filter(|us| *us <= i64::MAX as u64)
            .ok_or_else(|| {
                LexError::new(
                    start,
                    stop,
                    "decimal literal out of range",
                    "a time is at most 9223372036854 seconds",
                )
            })?;
        self.pos = stop;
        self.push(Tok::Decimal(us), start, stop);
        Ok(())
    }

    /// The value of the integer literal at `start..end`, or why it is not one.
    fn integer_value(&self, start: usize, end: usize) -> Result<u128, LexError> {
        let word = &self.text[start..end];
        let fail = |m: &str, h: &str| Err(LexError::new(start, end, m, h));
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
                return Err(LexError::float(start, end));
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
        Ok(value)
    }

    /// A string literal whose prefix (if any) starts at `start`; `self.pos` is at the quote.
    fn string(&mut self, start: usize, raw: bool) -> Result<(), LexError> {
        let b = self.bytes;
        let q = b[self.pos];
        let triple = b.get(self.pos + 1) == Some(&q) && b.get(self.pos + 2) == Some(&q);
        let mut p = self.pos + if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            if p >= b.len() {
                return Err(LexError::new(
                    start,
                    self.pos + 1,
                    "unterminated string literal",
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
                return Err(LexError::new(
                    start,
                    self.pos + 1,
                    "unterminated string literal",
                    format!("close the string with `{}` on the same line", q as char),
                ));
            }
            if c == b'\\' && p + 1 < b.len() {
                p = self.escape(p, raw, &mut out)?;
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

    /// The escape whose `\` is at `p` (not the text's last byte): appends what it stands
    /// for to `out` and returns the offset after it.
    fn escape(&self, p: usize, raw: bool, out: &mut String) -> Result<usize, LexError> {
        let e = self.bytes[p + 1];
        if raw {
            out.push('\\');
            let ch = self.text[p + 1..].chars().next().unwrap_or('\\');
            out.push(ch);
            return Ok(p + 1 + ch.len_utf8());
        }
        if let Some(ch) = simple_escape(e) {
            out.push(ch);
            return Ok(p + 2);
        }
        if e == b'\n' {
            return Ok(p + 2);
        }
        if e == b'x' {
            let v = self
                .text
                .get(p + 2..p + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(v) = v else {
                return Err(LexError::new(
                    p,
                    (p + 4).min(self.bytes.len()),
                    "invalid `\\x` escape",
                    "write `\\x` and two hexadecimal digits, e.g. `\\x41`",
                ));
            };
            out.push(v as char);
            return Ok(p + 4);
        }
        // Unknown escapes keep their backslash, as in Python.
        out.push('\\');
        Ok(p + 1)
    }
}

#[cfg(test)]
mod tests {
    // The lexer is tested through the parser: tokens are checked by what they parse into,
    // and errors by the diagnostic the user sees.
    use crate::frontend::parser::tests::{fails_with, sx};

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
    fn lexical_errors_have_message_and_place() {
        fails_with("x = 1 / 2", 1, 7, "integer division is `//`");
        fails_with("if x:\n    a = 1\n  b = 2", 3, 1, "unindent does not match");
        fails_with(
            "if x:\n\ta = 1\n        b = 2",
            3,
            1,
            "inconsistent use of tabs",
        );
        fails_with("x = 2 ** 3", 1, 7, "`**` (power) is not supported");
        fails_with(
            "x = 1.5e3",
            1,
            5,
            "floating-point numbers are not supported",
        );
        fails_with("x = f\"{a}\"", 1, 5, "f-strings are not supported");
        fails_with("x /= 2", 1, 3, "`/=` is not supported");
        fails_with("x = (1 + 2]", 1, 11, "`]` does not match the `(` on line 1");
        fails_with("x = (1 +\n", 1, 5, "`(` was never closed");
        fails_with("x = 'abc", 1, 5, "unterminated string literal");
        fails_with("x = 0123", 1, 5, "leading zeros");
        fails_with("x = a & b", 1, 7, "bit operators");
        fails_with("é = 1", 1, 1, "unexpected character `é`");
    }
}
