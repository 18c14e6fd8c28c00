//! What the interpreter raises: a Python exception, typed.
//!
//! A failure inside a step is a [`PyException`]: the exception's class ([`ExcKind`]) and
//! its message, displayed as Python prints it (`ZeroDivisionError: integer division or
//! modulo by zero`). The machine decides what a failure *is* (an `assertion` or an
//! `error` finding, how findings are grouped) from the class, never from the text.

use crate::ir::FindingKind;
use std::fmt;

/// The Python exception classes the scenario language can raise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExcKind {
    AssertionError,
    RuntimeError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    BrokenPipeError,
    ZeroDivisionError,
    OverflowError,
    UnboundLocalError,
    NameError,
    EOFError,
    OSError,
    /// Not a Python exception: a limit of the machine (a loop that never reaches a step,
    /// an atomic block that never ends). It is reported as a `livelock`.
    Livelock,
}

impl ExcKind {
    pub fn name(self) -> &'static str {
        match self {
            ExcKind::AssertionError => "AssertionError",
            ExcKind::RuntimeError => "RuntimeError",
            ExcKind::ValueError => "ValueError",
            ExcKind::TypeError => "TypeError",
            ExcKind::IndexError => "IndexError",
            ExcKind::KeyError => "KeyError",
            ExcKind::AttributeError => "AttributeError",
            ExcKind::BrokenPipeError => "BrokenPipeError",
            ExcKind::ZeroDivisionError => "ZeroDivisionError",
            ExcKind::OverflowError => "OverflowError",
            ExcKind::UnboundLocalError => "UnboundLocalError",
            ExcKind::NameError => "NameError",
            ExcKind::EOFError => "EOFError",
            ExcKind::OSError => "OSError",
            ExcKind::Livelock => "livelock",
        }
    }
}

/// A raised exception: its class and message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PyException {
    pub kind: ExcKind,
    pub message: String,
    /// Raised by an `assert` of the scenario (an `assertion` finding), not by an
    /// operation (an `error`, even where Python's class is AssertionError, as for
    /// `multiprocessing`'s own checks).
    pub from_assert: bool,
}

impl PyException {
    pub fn new(kind: ExcKind, message: impl Into<String>) -> PyException {
        PyException {
            kind,
            message: message.into(),
            from_assert: false,
        }
    }

    /// The exception of a false `assert`.
    pub fn assertion(message: impl Into<String>) -> PyException {
        PyException {
            from_assert: true,
            ..PyException::new(ExcKind::AssertionError, message)
        }
    }

    /// The finding this failure is.
    pub fn finding(&self) -> FindingKind {
        match self.kind {
            _ if self.from_assert => FindingKind::Assertion,
            ExcKind::Livelock => FindingKind::Livelock,
            _ => FindingKind::Error,
        }
    }
}

impl fmt::Display for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            // A machine limit is said in plain words, without a class name.
            ExcKind::Livelock => f.write_str(&self.message),
            k => write!(f, "{}: {}", k.name(), self.message),
        }
    }
}

/// The result of anything that may raise.
pub type Res<T> = Result<T, PyException>;

/// Shorthand for building an `Err` of a given class.
pub fn raise<T>(kind: ExcKind, message: impl Into<String>) -> Res<T> {
    Err(PyException::new(kind, message))
}
