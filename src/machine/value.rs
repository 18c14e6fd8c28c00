//! Python's arithmetic, comparisons and truth on the scenario's values (64-bit integers,
//! booleans and `None`), with the exceptions Python raises: `//` and `%` round toward
//! negative infinity, `True + 1 == 2`, `None < 0` is a TypeError, and what overflows 64
//! bits is an OverflowError (Python's integers are unbounded; SCENARIO.md's are not).
//! Lists and AsyncResults take part only in `==`, `!=` and truth; arithmetic on them is a
//! TypeError. A list is its place in the state's arena (equal lists share a place, the
//! empty list is place 0), so these need no arena.

use super::exception::{ExcKind, Res, raise};
use crate::frontend::ast::{BinOp, CmpOp, UnOp};
use crate::ir::Value;

/// The place of the empty list in every arena.
pub const EMPTY_LIST: u32 = 0;

pub fn truthy(v: Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => b,
        Value::Int(i) => i != 0,
        Value::List(i) => i != EMPTY_LIST,
        Value::Task { .. } => true,
    }
}

pub fn type_name(v: Value) -> &'static str {
    match v {
        Value::None => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::List(_) => "list",
        Value::Task { .. } => "AsyncResult",
    }
}

/// `v` as an integer (a bool counts, as in Python); `what` names the use in the error.
pub fn as_int(v: Value, what: &str) -> Res<i64> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Bool(b) => Ok(b as i64),
        _ => raise(
            ExcKind::TypeError,
            format!("{what} must be an integer, not {}", type_name(v)),
        ),
    }
}

/// Is `v` an int or a bool (what arithmetic takes)?
fn numeric(v: Value) -> bool {
    matches!(v, Value::Int(_) | Value::Bool(_))
}

/// Python's binary arithmetic.
pub fn binary(op: BinOp, a: Value, b: Value) -> Res<Value> {
    if !numeric(a) || !numeric(b) {
        return raise(
            ExcKind::TypeError,
            format!(
                "unsupported operand type(s) for {}: '{}' and '{}'",
                op.symbol(),
                type_name(a),
                type_name(b)
            ),
        );
    }
    let (x, y) = (as_int(a, "")?, as_int(b, "")?);
    let overflow = || {
        PyException::new(
            ExcKind::OverflowError,
            format!("integer overflow in {x} {} {y}", op.symbol()),
        )
    };
    let r = match op {
        BinOp::Add => x.checked_add(y).ok_or_else(overflow)?,
        BinOp::Sub => x.checked_sub(y).ok_or_else(overflow)?,
        BinOp::Mul => x.checked_mul(y).ok_or_else(overflow)?,
        BinOp::FloorDiv | BinOp::Mod => {
            if y == 0 {
                let what = if op == BinOp::Mod {
                    "integer modulo by zero"
                } else {
                    "integer division or modulo by zero"
                };
                return raise(ExcKind::ZeroDivisionError, what);
            }
            let (q, r) = floor_div_mod(x, y);
            if op == BinOp::FloorDiv {
                q.ok_or_else(overflow)?
            } else {
                r
            }
        }
    };
    Ok(Value::Int(r))
}

use super::exception::PyException;

/// Quotient and remainder rounded toward negative infinity, as Python's `//` and `%`
/// (`y` is not 0). The quotient is `None` where it overflows (`i64::MIN // -1`); the
/// remainder always fits (`i64::MIN % -1` is 0, as in Python).
fn floor_div_mod(x: i64, y: i64) -> (Option<i64>, i64) {
    let q = x.checked_div(y);
    let r = x.checked_rem(y).unwrap_or(0);
    if r != 0 && ((r < 0) != (y < 0)) {
        (q.map(|q| q - 1), r + y)
    } else {
        (q, r)
    }
}

/// Python's comparisons.
pub fn compare(op: CmpOp, a: Value, b: Value) -> Res<bool> {
    let num = |v: Value| match v {
        Value::Int(i) => Some(i),
        Value::Bool(b) => Some(b as i64),
        _ => None,
    };
    if matches!(op, CmpOp::Eq | CmpOp::Ne) {
        let eq = match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            (None, None) => a == b,
            _ => false,
        };
        return Ok(eq == (op == CmpOp::Eq));
    }
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return raise(
            ExcKind::TypeError,
            format!(
                "'{}' not supported between instances of '{}' and '{}'",
                op.symbol(),
                type_name(a),
                type_name(b)
            ),
        );
    };
    Ok(match op {
        CmpOp::Lt => x < y,
        CmpOp::Le => x <= y,
        CmpOp::Gt => x > y,
        _ => x >= y,
    })
}

/// Python's unary operators.
pub fn unary(op: UnOp, a: Value) -> Res<Value> {
    if op == UnOp::Not {
        return Ok(Value::Bool(!truthy(a)));
    }
    if !numeric(a) {
        let sym = if op == UnOp::Neg { "-" } else { "+" };
        return raise(
            ExcKind::TypeError,
            format!("bad operand type for unary {sym}: '{}'", type_name(a)),
        );
    }
    let i = as_int(a, "")?;
    match op {
        UnOp::Neg => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| PyException::new(ExcKind::OverflowError, "integer overflow in unary -")),
        _ => Ok(Value::Int(i)),
    }
}

/// Does a compare-and-swap that read `current` and expects `expected` succeed? Python's
/// `==` (so `True` matches `1`).
pub fn cas_matches(current: Value, expected: Value) -> bool {
    compare(CmpOp::Eq, current, expected).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(r: Res<Value>) -> ExcKind {
        r.unwrap_err().kind
    }

    #[test]
    fn python_floor_division_and_modulo() {
        let d = |a, b| binary(BinOp::FloorDiv, Value::Int(a), Value::Int(b)).unwrap();
        let m = |a, b| binary(BinOp::Mod, Value::Int(a), Value::Int(b)).unwrap();
        assert_eq!(d(7, 2), Value::Int(3));
        assert_eq!(d(-7, 2), Value::Int(-4));
        assert_eq!(d(7, -2), Value::Int(-4));
        assert_eq!(m(-7, 2), Value::Int(1));
        assert_eq!(m(7, -2), Value::Int(-1));
        let zero = binary(BinOp::FloorDiv, Value::Int(1), Value::Int(0));
        assert_eq!(class(zero), ExcKind::ZeroDivisionError);
        let big = binary(BinOp::Add, Value::Int(i64::MAX), Value::Int(1));
        assert_eq!(class(big), ExcKind::OverflowError);
        let min = binary(BinOp::FloorDiv, Value::Int(i64::MIN), Value::Int(-1));
        assert_eq!(class(min), ExcKind::OverflowError);
        // At the ends of the range, as CPython gives them (only a quotient that does not
        // fit overflows: `i64::MIN % -1` is 0).
        let (lo, hi) = (i64::MIN, i64::MAX);
        let cases = [
            (lo, -1, None, 0),
            (lo, 1, Some(lo), 0),
            (lo, 3, Some(-3074457345618258603), 1),
            (lo, -3, Some(3074457345618258602), -2),
            (hi, -2, Some(-4611686018427387904), -1),
            (hi, lo, Some(-1), -1),
            (lo, hi, Some(-2), 9223372036854775806),
            (-1, lo, Some(0), -1),
            (5, lo, Some(-1), -9223372036854775803),
        ];
        for (a, b, q, r) in cases {
            let div = binary(BinOp::FloorDiv, Value::Int(a), Value::Int(b));
            match q {
                Some(q) => assert_eq!(div.unwrap(), Value::Int(q), "{a} // {b}"),
                None => assert_eq!(class(div), ExcKind::OverflowError, "{a} // {b}"),
            }
            assert_eq!(m(a, b), Value::Int(r), "{a} % {b}");
        }
        assert_eq!(
            binary(BinOp::Add, Value::Bool(true), Value::Int(1)).unwrap(),
            Value::Int(2)
        );
        let none = binary(BinOp::Add, Value::None, Value::Int(1));
        assert_eq!(class(none), ExcKind::TypeError);
    }

    #[test]
    fn python_comparisons() {
        assert!(compare(CmpOp::Eq, Value::Bool(true), Value::Int(1)).unwrap());
        assert!(compare(CmpOp::Eq, Value::None, Value::None).unwrap());
        assert!(!compare(CmpOp::Eq, Value::None, Value::Int(0)).unwrap());
        assert!(compare(CmpOp::Lt, Value::None, Value::Int(0)).is_err());
    }

    #[test]
    fn python_unary() {
        assert_eq!(unary(UnOp::Not, Value::None).unwrap(), Value::Bool(true));
        assert_eq!(
            class(unary(UnOp::Neg, Value::Int(i64::MIN))),
            ExcKind::OverflowError
        );
        assert_eq!(class(unary(UnOp::Pos, Value::None)), ExcKind::TypeError);
    }
}
