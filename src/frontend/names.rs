//! The names the code language reserves, and what a name may be.
//!
//! Both halves of the front end need these: the [parser](crate::frontend::parser) refuses
//! to assign to a keyword or a built-in, and [`crate::frontend::scenario`] refuses to
//! declare a variable, object or thread under one. The JSON schema lists the same words
//! (a test in [`crate::frontend::schema`] keeps it in step), so they live here, apart
//! from either.

/// Python's keywords: never a name in code or in a scenario's tables.
pub const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// simrace's built-in names: not usable as variable, object or thread names.
pub const BUILTINS: &[&str] = &[
    "tid", "choose", "range", "print", "sleep", "work", "atomic", "len",
];

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
