//! The JSON Schema (draft 2020-12) of the scenario format, for editors: with it, taplo
//! and Even Better TOML complete table and key names and flag unknown tables, wrong
//! types and unknown object or verdict kinds while a scenario is written.
//!
//! The schema is the checked-in file `schema/scenario.schema.json`, compiled in here and
//! printed by `simrace schema`. It describes the tables of SCENARIO.md; it cannot check
//! the code strings, nor that names are unique or that a Condition's `lock` exists:
//! `simrace run` and `simrace check` do, with the place in the file.

/// The schema's text (JSON).
pub const SCENARIO_SCHEMA: &str = include_str!("../../schema/scenario.schema.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::names::{BUILTINS, PYTHON_KEYWORDS};
    use crate::ir::FindingKind;
    use serde_json::Value;

    fn schema() -> Value {
        serde_json::from_str(SCENARIO_SCHEMA).expect("the schema is JSON")
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .expect("an array")
            .iter()
            .map(|s| s.as_str().expect("a string").to_string())
            .collect()
    }

    #[test]
    fn reserved_names_are_the_parsers() {
        let s = schema();
        let listed = strings(&s["$defs"]["name"]["allOf"][1]["not"]["enum"]);
        let mut want: Vec<String> = PYTHON_KEYWORDS
            .iter()
            .chain(BUILTINS)
            .map(|s| s.to_string())
            .collect();
        let mut got = listed.clone();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn verdict_kinds_are_the_reports() {
        let s = schema();
        let want: Vec<String> = FindingKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect();
        assert_eq!(strings(&s["$defs"]["verdictKind"]["enum"]), want);
        let mut with_pass = vec!["pass".to_string()];
        with_pass.extend(want);
        assert_eq!(strings(&s["$defs"]["expectKind"]["enum"]), with_pass);
    }

    #[test]
    fn object_kinds_are_the_parsers() {
        let s = schema();
        let mut kinds: Vec<String> = vec![];
        for form in s["$defs"]["object"]["oneOf"].as_array().unwrap() {
            let kind = &form["properties"]["kind"];
            match (&form["enum"], &kind["enum"], &kind["const"]) {
                (Value::Array(_), _, _) => kinds.extend(strings(&form["enum"])),
                (_, Value::Array(_), _) => kinds.extend(strings(&kind["enum"])),
                (_, _, Value::String(k)) => kinds.push(k.clone()),
                _ => panic!("an object form without kinds: {form}"),
            }
        }
        kinds.sort();
        kinds.dedup();
        let mut want: Vec<String> = crate::frontend::scenario::objects::OBJECT_KINDS
            .iter()
            .map(|k| k.to_string())
            .collect();
        want.sort();
        assert_eq!(kinds, want);
    }

    #[test]
    fn tables_are_the_parsers() {
        let s = schema();
        let tables: Vec<&String> = s["properties"].as_object().unwrap().keys().collect();
        assert_eq!(
            tables,
            [
                "scenario",
                "shared",
                "atomics",
                "ghost",
                "objects",
                "functions",
                "thread",
                "process",
                "final",
                "invariant",
                "limits",
                "timing"
            ]
        );
        assert_eq!(s["additionalProperties"], Value::Bool(false));
    }
}
