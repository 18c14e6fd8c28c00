//! The parser of the code language: the Python subset of `code = """..."""` strings and
//! of `[final]` / `[invariant]` assertions (see SCENARIO.md, "Code").
//!
//! [`parse_block`] reads a thread's code into statements, [`parse_expr`] reads one
//! assertion. Both take a [`CodeSource`], which knows where the decoded string sits in the
//! scenario file, so every span in the tree (and in every error) is a byte range of the
//! *file*. The text is cut into tokens by [`crate::frontend::lexer`]; this is a
//! recursive-descent parser over them, one function per grammar rule.
//!
//! Choices a user may notice (none of them break Python code that runs):
//! - `a[i] += e` and `v.value += e` are accepted (as well as `x += e`); other augmented
//!   targets are errors.
//! - Attributes (`p.exitcode`, `v.value`) are read on a name or `name[i]`, and a method
//!   called without arguments may be followed by another (`v.get_lock().acquire()`,
//!   `with v.get_lock():`); which attributes and methods exist is lowering's business.
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
    Arg, BinOp, BoolOp, CmpOp, Expr, ExprKind, FuncDef, Ident, ObjRef, Span, Stmt, StmtKind,
    Target, UnOp, WithItem,
};
use crate::frontend::diag::{Diagnostic, line_col};
use crate::frontend::lexer::{Tok, Token, lex};
use crate::frontend::names::{BUILTINS, is_keyword};
use crate::frontend::source::CodeSource;

/// How deeply blocks, and separately expressions, may nest.
pub const MAX_NESTING: usize = 100;

/// Parses a thread's `code` string into statements.
pub fn parse_block(src: &CodeSource) -> Result<Vec<Stmt>, Diagnostic> {
    let (text, map) = src.dedented();
    let toks = lex(src.file, &text, &map, false);
    run_parser(src, toks, |p| p.file_input())
}

/// Parses the `code` of `[functions]`: `def` statements only.
pub fn parse_functions(src: &CodeSource) -> Result<Vec<FuncDef>, Diagnostic> {
    let (text, map) = src.dedented();
    let toks = lex(src.file, &text, &map, false);
    run_parser(src, toks, |p| p.functions_input())
}

/// Parses one expression (a `[final]` or `[invariant]` assertion).
pub fn parse_expr(src: &CodeSource) -> Result<Expr, Diagnostic> {
    let map = src.file_offsets();
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
    /// Inside a `def` (where `return` is allowed).
    in_function: bool,
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
            in_function: false,
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
            Tok::Decimal(_) => "a decimal number".into(),
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

    /// The `[functions]` code: `def name(params):` blocks.
    fn functions_input(&mut self) -> PResult<Vec<FuncDef>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Tok::Eof => break,
                Tok::Newline | Tok::Dedent => {
                    self.bump();
                }
                Tok::Name(n) if n == "def" => out.push(self.def()?),
                _ => {
                    return Err(self.err(
                        self.span(),
                        "only `def` statements may stand at the top of [functions]",
                        "write `def name(params):` and the function's body, indented",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// `def name(a, b):` and its body.
    fn def(&mut self) -> PResult<FuncDef> {
        let kw = self.bump().span;
        let Tok::Name(n) = self.peek().clone() else {
            return Err(self.err(
                self.span(),
                "expected the function's name after `def`",
                "write `def name(params):`",
            ));
        };
        let nspan = self.bump().span;
        self.check_assignable(&n, nspan)?;
        let name = Ident {
            name: n,
            span: nspan,
        };
        self.expect_op(
            "(",
            "expected `(` after the function's name",
            "write `def name(params):`",
        )?;
        let mut params: Vec<Ident> = Vec::new();
        while !self.is_op(")") {
            let Tok::Name(p) = self.peek().clone() else {
                return Err(self.err(
                    self.span(),
                    "expected a parameter name",
                    "parameters are plain names: `def f(a, b):` (no defaults, `*args` or annotations)",
                ));
            };
            let pspan = self.bump().span;
            self.check_assignable(&p, pspan)?;
            if params.iter().any(|q| q.name == p) {
                return Err(self.err(
                    pspan,
                    format!("duplicate parameter `{p}`"),
                    "give each parameter its own name",
                ));
            }
            params.push(Ident {
                name: p,
                span: pspan,
            });
            if self.eat_op(",").is_none() {
                break;
            }
        }
        self.expect_op(
            ")",
            "expected `,` or `)` in the parameter list",
            "parameters are plain names: `def f(a, b):` (no defaults, `*args` or annotations)",
        )?;
        let colon = self.expect_op(
            ":",
            "expected `:` after the parameter list",
            "a `def` line ends with `:`",
        )?;
        let header = kw.to(colon);
        self.in_function = true;
        let body = self.suite("def", header);
        self.in_function = false;
        Ok(FuncDef {
            name,
            params,
            body: body?,
            span: header,
        })
    }

    fn return_stmt(&mut self) -> PResult<Stmt> {
        let start = self.bump().span;
        if matches!(self.peek(), Tok::Newline | Tok::Eof | Tok::Dedent) || self.is_op(";") {
            return Ok(Stmt {
                kind: StmtKind::Return(None),
                span: start,
            });
        }
        let e = self.test()?;
        if self.is_op(",") {
            return Err(self.tuple_error());
        }
        let span = start.to(e.span);
        Ok(Stmt {
            kind: StmtKind::Return(Some(e)),
            span,
        })
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
                "a function is defined in [functions], not here",
                "move the `def` into the `code` of a `[functions]` table; call it from here",
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
                "`return` outside a function",
                "functions are defined in [functions]; use `break` to leave a loop",
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
            if word == "return" && self.in_function {
                return self.return_stmt();
            }
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

    /// The left side of `=` or `op=`: a name, `name[index]` or `name.attr`.
    fn to_target(&self, e: Expr, op: &str) -> PResult<Target> {
        let span = e.span;
        let comparison = matches!(e.kind, ExprKind::Compare { .. });
        let what = match e.kind {
            ExprKind::Name(n) => {
                self.check_assignable(&n, span)?;
                let name = Ident { name: n, span };
                return Ok(target(name, None, None, span));
            }
            ExprKind::Index { name, index } => {
                self.check_assignable(&name.name, name.span)?;
                return Ok(target(name, Some(*index), None, span));
            }
            ExprKind::Attr { receiver, attr } if receiver.getter.is_none() => {
                self.check_assignable(&receiver.name.name, receiver.name.span)?;
                let index = receiver.index.map(|i| *i);
                return Ok(target(receiver.name, index, Some(attr), span));
            }
            ExprKind::Tid => "`tid` (this instance's index)".to_string(),
            ExprKind::Bool(b) => format!("`{}`, a constant", if b { "True" } else { "False" }),
            ExprKind::None => "`None`, a constant".into(),
            ExprKind::Int(_) | ExprKind::Decimal(_) | ExprKind::Str(_) => "a literal".into(),
            ExprKind::Call { .. } | ExprKind::Method { .. } => "a function call".into(),
            ExprKind::Compare { .. } => "a comparison".into(),
            _ => "an expression".into(),
        };
        let help = if comparison && op == "=" {
            "to compare, use `==`".to_string()
        } else {
            format!("the left side of `{op}` is a name, `name[index]` or `name.attribute`")
        };
        Err(self.err(span, format!("cannot assign to {what}"), help))
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
        let var = self.loop_variable()?;
        if !self.is_kw("in") {
            return Err(self.err(
                self.span(),
                "expected `in` after the loop variable",
                "write `for i in range(n):`",
            ));
        }
        self.bump();
        let iter = self.test()?;
        let is_range = matches!(&iter.kind, ExprKind::Call { func, .. } if func.name == "range");
        if !is_range {
            let colon = self.expect_op(
                ":",
                "expected `:` at the end of the `for` line",
                "a `for` line ends with `:`",
            )?;
            let header = kw.to(colon);
            let body = self.suite("for", header)?;
            self.no_loop_else("for")?;
            return Ok(Stmt {
                kind: StmtKind::ForEach { var, iter, body },
                span: header,
            });
        }
        let (start, end, step) = self.range_bounds(iter)?;
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
                var,
                start,
                end,
                step,
                body,
            },
            span: header,
        })
    }

    /// The name after `for`: one name, not a tuple.
    fn loop_variable(&mut self) -> PResult<Ident> {
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
        let span = self.bump().span;
        self.check_assignable(&name, span)?;
        if self.is_op(",") {
            return Err(self.tuple_error());
        }
        Ok(Ident { name, span })
    }

    /// What a `for` loops over, which must be `range(...)`: its start, stop and step.
    fn range_bounds(&self, iter: Expr) -> PResult<(Option<Expr>, Expr, Option<Expr>)> {
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
        Ok(match vals.len() {
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
                getter: None,
                span: e.span,
            })),
            ExprKind::Index { name, .. } if name.name == "atomic" => {
                Err(self.err(e.span, "`atomic` is not an array", "write `with atomic:`"))
            }
            ExprKind::Index { name, index } => Ok(WithItem::Object(ObjRef {
                name,
                index: Some(index),
                getter: None,
                span: e.span,
            })),
            // `with v.get_lock():`: lowering checks that the call gives a lock.
            ExprKind::Method {
                receiver,
                method,
                args,
            } if args.is_empty() && receiver.getter.is_none() => Ok(WithItem::Object(ObjRef {
                getter: Some(method),
                span: e.span,
                ..receiver
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
        self.chain(Self::term, |t| match t {
            Tok::Op("+") => Some(BinOp::Add),
            Tok::Op("-") => Some(BinOp::Sub),
            _ => None,
        })
    }

    /// `a * b // c % d`, nested as [`Parser::arith`] nests.
    fn term(&mut self) -> PResult<Expr> {
        self.chain(Self::factor, |t| match t {
            Tok::Op("*") => Some(BinOp::Mul),
            Tok::Op("//") => Some(BinOp::FloorDiv),
            Tok::Op("%") => Some(BinOp::Mod),
            _ => None,
        })
    }

    /// A left-associative chain of operands (`operand`) joined by the operators `op`
    /// knows, each operator a level of nesting.
    fn chain(
        &mut self,
        operand: fn(&mut Self) -> PResult<Expr>,
        op: fn(&Tok) -> Option<BinOp>,
    ) -> PResult<Expr> {
        let mut lhs = operand(self)?;
        let depth = self.expr_depth;
        while let Some(o) = op(self.peek()) {
            self.bump();
            self.enter_expr()?;
            let rhs = operand(self)?;
            lhs = binary(o, lhs, rhs);
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
            Tok::Int(v) => self.int_literal(v, span)?,
            Tok::Decimal(us) => {
                self.bump();
                Expr {
                    kind: ExprKind::Decimal(us as i64),
                    span,
                }
            }
            Tok::Str(s) => self.string_literal(s, span),
            Tok::Name(n) => match constant(&n) {
                Some(kind) => {
                    self.bump();
                    Expr { kind, span }
                }
                None => return self.name(n, span),
            },
            Tok::Op("(") => self.parenthesized(span)?,
            Tok::Op("[") => self.list_literal(span)?,
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
        self.no_trailers_on_atom(atom)
    }

    /// The integer literal `v` at `span`.
    fn int_literal(&mut self, v: u128, span: Span) -> PResult<Expr> {
        self.bump();
        if v > i64::MAX as u128 {
            // Built directly, not with `err`: the error is the literal's even when a
            // lexical error follows it.
            return Err(Box::new(
                self.src
                    .diag(span, "integer literal out of range")
                    .with_help(
                        "integers are 64-bit: from -9223372036854775808 to 9223372036854775807",
                    ),
            ));
        }
        Ok(Expr {
            kind: ExprKind::Int(v as i64),
            span,
        })
    }

    /// The string literal `s` at `span`, joined with the ones right after it, as Python
    /// joins `'a' "b"` into `'ab'`.
    fn string_literal(&mut self, s: String, span: Span) -> Expr {
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

    /// The name `n` at `span` (not a constant), with what follows it.
    fn name(&mut self, n: String, span: Span) -> PResult<Expr> {
        if is_keyword(&n) {
            if let Some(d) = self.unsupported_statement(&n) {
                return Err(d);
            }
            return Err(self.err(
                span,
                format!("expected an expression, found keyword `{n}`"),
                "an expression is a value, a name, `name[i]`, a call or an operation on them",
            ));
        }
        self.bump();
        self.trailers(Ident { name: n, span })
    }

    /// `[a, b, ...]`, whose `[` is at `open`.
    fn list_literal(&mut self, open: Span) -> PResult<Expr> {
        self.bump();
        let mut items = Vec::new();
        loop {
            if let Some(close) = self.eat_op("]") {
                return Ok(Expr {
                    kind: ExprKind::List(items),
                    span: open.to(close),
                });
            }
            items.push(self.test()?);
            if self.is_kw("for") {
                return Err(self.comprehension_error());
            }
            if self.eat_op(",").is_none() && !self.is_op("]") {
                return Err(self.err(
                    self.span(),
                    "expected `,` or `]` in the list",
                    format!("close the `[` on line {}", self.line(open.start)),
                ));
            }
        }
    }

    /// `(expression)`, whose `(` is at `open`.
    fn parenthesized(&mut self, open: Span) -> PResult<Expr> {
        self.bump();
        if let Some(close) = self.eat_op(")") {
            // `()`: the empty tuple, the argument list of a task that takes none.
            return Ok(Expr {
                kind: ExprKind::Tuple(vec![]),
                span: open.to(close),
            });
        }
        let inner = self.test()?;
        if self.is_op(",") {
            return self.tuple_rest(open, inner);
        }
        if self.is_kw("for") {
            return Err(self.comprehension_error());
        }
        let close = self.expect_op(
            ")",
            "expected `)`",
            &format!("close the `(` on line {}", self.line(open.start)),
        )?;
        Ok(Expr {
            kind: inner.kind,
            span: open.to(close),
        })
    }

    /// `(a, b)` or `(a,)` from the `,` after `first`: a tuple (lowering allows it only as
    /// the argument list of `apply_async` and `apply`).
    fn tuple_rest(&mut self, open: Span, first: Expr) -> PResult<Expr> {
        let mut items = vec![first];
        while self.eat_op(",").is_some() {
            if self.is_op(")") {
                break;
            }
            items.push(self.test()?);
        }
        let close = self.expect_op(
            ")",
            "expected `)`",
            &format!("close the `(` on line {}", self.line(open.start)),
        )?;
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            span: open.to(close),
        })
    }

    /// After a literal, a constant or a parenthesized expression: only a name can be
    /// called, indexed or have methods.
    fn no_trailers_on_atom(&self, atom: Expr) -> PResult<Expr> {
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
        if self.is_op("(") {
            return self.call(name);
        }
        let index = if self.is_op("[") {
            Some(self.index(&name)?)
        } else {
            None
        };
        if self.is_op(".") {
            return self.method_call(name, index);
        }
        match index {
            Some((i, close)) => self.element(name, i, close),
            None => {
                let span = name.span;
                Ok(Expr {
                    kind: ExprKind::Name(name.name),
                    span,
                })
            }
        }
    }

    /// `name(args)`.
    fn call(&mut self, name: Ident) -> PResult<Expr> {
        let (args, close) = self.args()?;
        let span = name.span.to(close);
        let e = Expr {
            kind: ExprKind::Call { func: name, args },
            span,
        };
        self.no_more_trailers(e, "a call's result")
    }

    /// `[i]` after `name`: the index, and the span of the `]`.
    fn index(&mut self, name: &Ident) -> PResult<(Box<Expr>, Span)> {
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
        Ok((Box::new(i), close))
    }

    /// `.m(args)` or `.attr` after `name`, or after `name[i]` when `index` holds the
    /// index and the span of its `]`; also `name.m().n(args)`, where `m` (called without
    /// arguments, as in `v.get_lock()`) gives the object of `n`.
    fn method_call(&mut self, name: Ident, index: Option<(Box<Expr>, Span)>) -> PResult<Expr> {
        let span = index.as_ref().map_or(name.span, |(_, c)| name.span.to(*c));
        let mut receiver = ObjRef {
            name,
            index: index.map(|(i, _)| i),
            getter: None,
            span,
        };
        let (mut member, mut call) = self.member()?;
        if let Some((args, close)) = &call
            && args.is_empty()
            && self.is_op(".")
        {
            receiver.span = receiver.span.to(*close);
            receiver.getter = Some(member);
            (member, call) = self.member()?;
        }
        let (e, what) = match call {
            Some((args, close)) => (
                Expr {
                    span: receiver.span.to(close),
                    kind: ExprKind::Method {
                        receiver,
                        method: member,
                        args,
                    },
                },
                "a method call's result",
            ),
            None => (
                Expr {
                    span: receiver.span.to(member.span),
                    kind: ExprKind::Attr {
                        receiver,
                        attr: member,
                    },
                },
                "an attribute",
            ),
        };
        self.no_more_trailers(e, what)
    }

    /// `.m(args)` or `.attr`, at the `.`: the member's name, and for a call its arguments
    /// and the span of its `)`.
    #[allow(clippy::type_complexity)]
    fn member(&mut self) -> PResult<(Ident, Option<(Vec<Arg>, Span)>)> {
        self.bump();
        let m = match self.peek() {
            Tok::Name(m) if !is_keyword(m) => m.clone(),
            _ => {
                return Err(self.err(
                    self.span(),
                    "expected a method or attribute name after `.`",
                    "write `obj.method(...)` or an attribute such as `p.exitcode`",
                ));
            }
        };
        let span = self.bump().span;
        let call = if self.is_op("(") {
            Some(self.args()?)
        } else {
            None
        };
        Ok((Ident { name: m, span }, call))
    }

    /// `name[index]`, whose `]` is at `close`: only a method call or an attribute may
    /// follow it.
    fn element(&self, name: Ident, index: Box<Expr>, close: Span) -> PResult<Expr> {
        let span = name.span.to(close);
        let e = Expr {
            kind: ExprKind::Index { name, index },
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

fn target(name: Ident, index: Option<Expr>, attr: Option<Ident>, span: Span) -> Target {
    Target {
        name,
        index,
        attr,
        span,
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

/// What a constant's name stands for: `True`, `False`, `None` and `tid`.
fn constant(name: &str) -> Option<ExprKind> {
    match name {
        "True" => Some(ExprKind::Bool(true)),
        "False" => Some(ExprKind::Bool(false)),
        "None" => Some(ExprKind::None),
        "tid" => Some(ExprKind::Tid),
        _ => None,
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
        let obj = sx_obj;
        match &e.kind {
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Decimal(us) => format!("{}.{:06}", us / 1_000_000, us % 1_000_000),
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
            ExprKind::Attr { receiver, attr } => format!("(attr {}.{})", obj(receiver), attr.name),
            ExprKind::List(items) => {
                let vs: Vec<String> = items.iter().map(sx_expr).collect();
                format!("(list {})", vs.join(" "))
            }
            ExprKind::Tuple(items) => {
                let vs: Vec<String> = items.iter().map(sx_expr).collect();
                format!("(tuple {})", vs.join(" "))
            }
        }
    }

    /// `m`, `fork[i]` or `v.get_lock()`.
    fn sx_obj(r: &ObjRef) -> String {
        let base = match &r.index {
            Some(i) => format!("{}[{}]", r.name.name, sx_expr(i)),
            None => r.name.name.clone(),
        };
        match &r.getter {
            Some(g) => format!("{base}.{}()", g.name),
            None => base,
        }
    }

    pub(crate) fn sx_block(stmts: &[Stmt]) -> String {
        let v: Vec<String> = stmts.iter().map(sx_stmt).collect();
        format!("[{}]", v.join(" "))
    }

    fn sx_target(t: &Target) -> String {
        let base = match &t.index {
            Some(i) => format!("{}[{}]", t.name.name, sx_expr(i)),
            None => t.name.name.clone(),
        };
        match &t.attr {
            Some(a) => format!("{base}.{}", a.name),
            None => base,
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
                    WithItem::Object(r) => sx_obj(r),
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
            StmtKind::ForEach { var, iter, body } => {
                format!(
                    "(foreach {} {} {})",
                    var.name,
                    sx_expr(iter),
                    sx_block(body)
                )
            }
            StmtKind::Return(e) => match e {
                Some(e) => format!("(return {})", sx_expr(e)),
                None => "(return)".into(),
            },
        }
    }

    fn block(code: &str) -> Result<Vec<Stmt>, Diagnostic> {
        parse_block(&CodeSource::whole("t.py", code))
    }

    pub(crate) fn sx(code: &str) -> String {
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
    pub(crate) fn fails_with(code: &str, line: usize, column: usize, message: &str) {
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

    /// Processes (version 2): attributes, subscripts of objects, getter chains, `len`.
    #[test]
    fn process_forms() {
        let code = "\
x = p.exitcode
y = p[i + 1].exitcode
v.value = v.value + 1
v.value += 1
a[2] = len(a)
d[k] += 1
z = d.get(k, 0) + l[0]
with v.get_lock():
    pass
v.get_lock().acquire()
ok = a.get_lock().acquire(blocking=False)
p.join(timeout=1); p.join(2); p.terminate()
c[0].send(1); m = c[1].recv()
";
        assert_eq!(
            sx(code),
            "[(= x (attr p.exitcode)) (= y (attr p[(+ i 1)].exitcode)) \
             (= v.value (+ (attr v.value) 1)) (+= v.value 1) (= a[2] (call len a)) \
             (+= d[k] 1) (= z (+ (method d.get k 0) l[0])) \
             (with v.get_lock() [pass]) (method v.get_lock().acquire) \
             (= ok (method a.get_lock().acquire blocking=False)) \
             (method p.join timeout=1) (method p.join 2) (method p.terminate) \
             (method c[0].send 1) (= m (method c[1].recv))]"
        );
        assert_eq!(
            ex("p[0].exitcode == -15"),
            "(cmp (attr p[0].exitcode) == (neg 15))"
        );
        // Spans cover the whole chain; a target's, the target.
        let b = block("x = v.get_lock().acquire()\nv.value += 2").unwrap();
        let StmtKind::Assign { value, target } = &b[0].kind else {
            panic!("{:?}", b[0].kind)
        };
        assert_eq!(
            (value.span, target.span),
            (Span::new(4, 26), Span::new(0, 1))
        );
        let StmtKind::AugAssign { target, .. } = &b[1].kind else {
            panic!("{:?}", b[1].kind)
        };
        assert_eq!(target.span, Span::new(27, 34));
        // What the parser still refuses.
        fails_with("x = v.value.real", 1, 12, "an attribute cannot be called");
        fails_with("x = v.value[0]", 1, 12, "an attribute cannot be called");
        fails_with(
            "x = q.get(1).put(2)",
            1,
            13,
            "a method call's result cannot",
        );
        fails_with(
            "x = v.get_lock().a().b()",
            1,
            21,
            "a method call's result cannot",
        );
        fails_with("x = p.if", 1, 7, "expected a method or attribute name");
        fails_with(
            "with q.get(1):\n    pass",
            1,
            6,
            "`with` takes an object, not a call",
        );
        fails_with("v.get_lock() = 1", 1, 1, "cannot assign to a function call");
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
    fn errors_have_message_and_place() {
        fails_with(
            "while x\n    pass",
            1,
            8,
            "expected `:` after the `while` condition",
        );
        fails_with(
            "if x:\npass",
            2,
            1,
            "expected an indented block after the `if` on line 1",
        );
        fails_with("x = 1\n    y = 2", 2, 5, "unexpected indent");
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
        fails_with("True = 1", 1, 1, "cannot assign to `True`");
        fails_with("print = 1", 1, 1, "cannot assign to `print`");
        fails_with("for tid in range(3): pass", 1, 5, "cannot assign to `tid`");
        fails_with("f() += 1", 1, 1, "cannot assign to a function call");
        fails_with(
            "for i in range(1, 2, 3, 4): pass",
            1,
            10,
            "`range` takes 1 to 3 arguments",
        );
        fails_with("x = f(1, 2\ny = 3", 2, 1, "expected `,` or `)`");
        fails_with("assert x, y", 1, 11, "must be a string literal");
        fails_with(
            "x = 1\nelse:\n    pass",
            2,
            1,
            "`else` without a matching `if`",
        );
        fails_with("x = a if b", 1, 11, "expected `else`");
        fails_with(
            "f(a=1, 2)",
            1,
            8,
            "positional argument follows keyword argument",
        );
        fails_with(
            "if x = 1:\n    pass",
            1,
            6,
            "expected `:` after the `if` condition",
        );
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

    /// Python that the code language leaves out is named as such, with what to write.
    #[test]
    fn unsupported_python_is_named() {
        fails_with(
            "def f(): pass",
            1,
            1,
            "a function is defined in [functions]",
        );
        fails_with("a, b = 1, 2", 1, 2, "tuples are not supported");
        fails_with("x = a.b.c", 1, 8, "an attribute cannot be called");
        fails_with(
            "with m as n:\n    pass",
            1,
            8,
            "`with ... as` is not supported",
        );
        fails_with(
            "while a: pass\nelse: pass",
            2,
            1,
            "`else` after a `while` loop",
        );
        fails_with("x = y = 1", 1, 7, "chained assignment");
        fails_with("lambda: 0", 1, 1, "`lambda` is not supported");
        fails_with("import threading", 1, 1, "`import` is not supported");
        fails_with(
            "try:\n    pass\nexcept: pass",
            1,
            1,
            "`try`/`except`/`finally`",
        );
        fails_with("return", 1, 1, "`return` outside a function");
        fails_with("x = a[1][2]", 1, 9, "nested indexing");
        fails_with("x = 1 if a in b else 2", 1, 12, "`in` is not supported");
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
