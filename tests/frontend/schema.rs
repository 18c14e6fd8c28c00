//! The JSON Schema of the scenario format (schema/scenario.schema.json) against the
//! parser: every scenario under scenarios/ validates, a scenario using every table and
//! object kind validates, and structurally wrong scenarios (unknown tables and keys,
//! wrong types, bad kinds, `count` where a kind takes none) are rejected by both.

use crate::common::{root, toml_files};
use serde_json::Value;

/// A compiled schema: boon keeps the compiled schemas in a `Schemas` and hands out an index.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    /// `schema` compiled under its own `$schema`, or, with `draft`, under that draft
    /// whatever it says. Compiling checks the schema against its draft's metaschema.
    fn new(schema: &Value, draft: Option<boon::Draft>) -> Result<Validator, String> {
        let mut schema = schema.clone();
        let mut compiler = boon::Compiler::new();
        if let Some(d) = draft {
            schema.as_object_mut().unwrap().remove("$schema");
            compiler.set_default_draft(d);
        }
        let url = "file:///scenario.schema.json";
        let mut schemas = boon::Schemas::new();
        compiler
            .add_resource(url, schema)
            .map_err(|e| format!("{e:#}"))?;
        let index = compiler
            .compile(url, &mut schemas)
            .map_err(|e| format!("{e:#}"))?;
        Ok(Validator { schemas, index })
    }

    fn is_valid(&self, json: &Value) -> bool {
        self.schemas.validate(json, self.index).is_ok()
    }
}

fn validator() -> Validator {
    let text = std::fs::read_to_string(root().join("schema/scenario.schema.json")).unwrap();
    assert_eq!(text, simrace::SCENARIO_SCHEMA);
    let schema: Value = serde_json::from_str(&text).unwrap();
    Validator::new(&schema, None).expect("the schema compiles")
}

/// A scenario file's TOML as JSON, the way an editor's schema support sees it.
fn as_json(text: &str) -> Value {
    toml::from_str(text).expect("valid TOML")
}

/// The schema's complaints about `text`, one per line.
fn errors(v: &Validator, text: &str) -> Vec<String> {
    let json = as_json(text);
    match v.schemas.validate(&json, v.index) {
        Ok(()) => vec![],
        Err(e) => format!("{e:#}").lines().map(str::to_string).collect(),
    }
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema: Value = serde_json::from_str(simrace::SCENARIO_SCHEMA).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(e) = Validator::new(&schema, None) {
        panic!("not a valid schema: {e}");
    }
    // The check against the metaschema is one that a schema can fail.
    let mut broken = schema.clone();
    broken["properties"]["limits"]["type"] = serde_json::json!(3);
    assert!(Validator::new(&broken, None).is_err());
}

#[test]
fn every_scenario_in_the_library_validates() {
    let v = validator();
    let files = toml_files(&root().join("scenarios"));
    assert!(!files.is_empty());
    let mut wrong = vec![];
    for f in &files {
        let errs = errors(&v, &std::fs::read_to_string(f).unwrap());
        if !errs.is_empty() {
            wrong.push(format!("{}:\n  {}", f.display(), errs.join("\n  ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every table, every object kind and form, every optional key.
const EVERYTHING: &str = r#"
[scenario]
name = "everything"
description = "Uses every table."
expect = ["assertion", "data_race"]
start_method = "spawn"

[shared]
counter = 0
done = false
slots = [0, 0, 0]

[atomics]
flag = [false, false]

[ghost]
in_cs = 0

[objects]
m    = "Lock"
r    = "RLock"
c0   = "Condition"
cv   = { kind = "Condition", lock = "m" }
s0   = "Semaphore"
sem  = { kind = "Semaphore", value = 2 }
bsem = { kind = "BoundedSemaphore", value = 1 }
ev   = "Event"
ev2  = { kind = "Event", count = 2 }
bar  = { kind = "Barrier", parties = 2 }
q    = { kind = "Queue", maxsize = 2 }
q0   = "Queue"
fork = { kind = "Lock", count = 5 }
jq   = { kind = "JoinableQueue", maxsize = 2, count = 2 }
jq0  = "JoinableQueue"
sq   = "SimpleQueue"
sq2  = { kind = "SimpleQueue", count = 2 }
v0   = "Value"
v    = { kind = "Value", value = true, lock = false }
arr  = { kind = "Array", value = [1, 2], lock = true }
p0   = "Pipe"
p    = { kind = "Pipe", duplex = false }
d0   = "ManagerDict"
d    = { kind = "ManagerDict", items = [[1, 10], [true, false]] }
l0   = "ManagerList"
l    = { kind = "ManagerList", value = [1, true] }

[objects.sub]
kind = "RLock"

[[thread]]
name = "worker"
count = 2
start = true
code = """
tmp = counter
counter = tmp + 1
"""

[[thread]]
name = "late"
start = false
daemon = false
code = "pass"

[[process]]
name = "child"
count = 2
start = false
daemon = true
code = "pass"

[final]
assert = ["counter == 2"]
observe = ["counter", "in_cs", "arr", "v.value"]

[invariant]
assert = "in_cs <= 1"

[limits]
max_steps = 10000
max_executions = 500
timeout = 30

[timing]
cores = 4
switch_interval_ms = 0.5
process_start_ms = 20
step_us = 1
gil = false
"#;

#[test]
fn a_scenario_with_every_table_validates_and_parses() {
    let v = validator();
    assert_eq!(errors(&v, EVERYTHING), Vec::<String>::new());
    simrace::parse("everything.toml", EVERYTHING).unwrap_or_else(|d| panic!("{}", d.render()));
    // The other spellings the parser accepts.
    for text in [
        "[scenario]\nexpect = \"pass\"\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n",
        "[scenario]\nexpect = [\"pass\"]\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n",
        "[scenario]\nexpect = []\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n",
        "[scenario]\nexpect = \"deadlock\"\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n",
        "thread = [{ name = \"t\", code = \"pass\" }]\n",
        "[final]\nassert = []\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n",
    ] {
        assert_eq!(errors(&v, text), Vec::<String>::new(), "{text}");
        simrace::parse("ok.toml", text).unwrap_or_else(|d| panic!("{}", d.render()));
    }
}

/// Structurally wrong scenarios: each is a change to a valid one that the parser rejects
/// and so must the schema.
const WRONG: &[(&str, &str)] = &[
    // Unknown tables and keys.
    ("unknown table", "[shraed]\nx = 1"),
    (
        "unknown table of tables",
        "[[threads]]\nname = \"a\"\ncode = \"pass\"",
    ),
    ("unknown key in [scenario]", "[scenario]\nnmae = \"x\""),
    ("unknown key in [final]", "[final]\nasert = []"),
    ("unknown key in [invariant]", "[invariant]\nobserve = []"),
    ("unknown key in [limits]", "[limits]\nmax_step = 10"),
    ("unknown key in [timing]", "[timing]\ncore = 2"),
    ("no cores", "[timing]\ncores = 0"),
    ("a GIL that is not a boolean", "[timing]\ngil = \"on\""),
    (
        "unknown key in [[thread]]",
        "[[thread]]\nname = \"u\"\ncode = \"pass\"\ncolor = 1",
    ),
    (
        "unknown key for a Lock",
        "[objects]\nm = { kind = \"Lock\", value = 1 }",
    ),
    (
        "unknown key for a Queue",
        "[objects]\nq = { kind = \"Queue\", parties = 1 }",
    ),
    // Wrong types.
    ("a float", "[shared]\nx = 1.5"),
    ("a string value", "[shared]\nx = \"None\""),
    ("a table value", "[shared]\nx = { a = 1 }"),
    ("an empty array", "[shared]\nx = []"),
    ("a mixed array", "[shared]\nx = [1, true]"),
    ("a nested array", "[shared]\nx = [[1]]"),
    ("[shared] not a table", "shared = 1"),
    ("[[shared]]", "[[shared]]\nx = 1"),
    (
        "thread count a string",
        "[[thread]]\nname = \"u\"\ncount = \"2\"\ncode = \"pass\"",
    ),
    (
        "start a string",
        "[[thread]]\nname = \"u\"\nstart = \"false\"\ncode = \"pass\"",
    ),
    ("code not a string", "[[thread]]\nname = \"u\"\ncode = 3"),
    ("name not a string", "[scenario]\nname = 3"),
    ("blank name", "[scenario]\nname = \"  \""),
    ("expect a number", "[scenario]\nexpect = 1"),
    ("assert a number", "[invariant]\nassert = [1]"),
    (
        "observe not an array",
        "[final]\nobserve = \"x\"\n[shared]\nx = 0",
    ),
    (
        "observe twice",
        "[final]\nobserve = [\"x\", \"x\"]\n[shared]\nx = 0",
    ),
    ("timeout a float", "[limits]\ntimeout = 1.5"),
    // Bad kinds and values.
    ("unknown object kind", "[objects]\nm = \"Lok\""),
    (
        "unknown object kind in a table",
        "[objects]\nm = { kind = \"Lok\" }",
    ),
    ("module-qualified kind", "[objects]\nm = \"threading.Lock\""),
    ("object without a kind", "[objects]\nm = { value = 1 }"),
    ("object not a kind", "[objects]\nm = 1"),
    ("a bare Barrier", "[objects]\nb = \"Barrier\""),
    (
        "a Barrier without parties",
        "[objects]\nb = { kind = \"Barrier\" }",
    ),
    (
        "no parties",
        "[objects]\nb = { kind = \"Barrier\", parties = 0 }",
    ),
    (
        "negative permits",
        "[objects]\ns = { kind = \"Semaphore\", value = -1 }",
    ),
    (
        "no objects",
        "[objects]\nf = { kind = \"Lock\", count = 0 }",
    ),
    (
        "too many objects",
        "[objects]\nf = { kind = \"Lock\", count = 1025 }",
    ),
    ("unknown verdict kind", "[scenario]\nexpect = \"races\""),
    (
        "unknown verdict kind in a list",
        "[scenario]\nexpect = [\"deadlok\"]",
    ),
    (
        "pass with kinds",
        "[scenario]\nexpect = [\"pass\", \"deadlock\"]",
    ),
    (
        "too many threads",
        "[[thread]]\nname = \"u\"\ncount = 65\ncode = \"pass\"",
    ),
    (
        "no thread instances",
        "[[thread]]\nname = \"u\"\ncount = 0\ncode = \"pass\"",
    ),
    ("zero max_steps", "[limits]\nmax_steps = 0"),
    // Names.
    ("a keyword", "[atomics]\nclass = 1"),
    ("a built-in", "[ghost]\nprint = 1"),
    ("not an identifier", "[shared]\n\"my-var\" = 1"),
    (
        "a thread named like a number",
        "[[thread]]\nname = \"2w\"\ncode = \"pass\"",
    ),
    (
        "a thread named tid",
        "[[thread]]\nname = \"tid\"\ncode = \"pass\"",
    ),
    ("an object named None", "[objects]\nNone = \"Lock\""),
    (
        "a lock that is not a name",
        "[objects]\nc = { kind = \"Condition\", lock = \"a b\" }",
    ),
    // Required parts.
    ("a thread without code", "[[thread]]\nname = \"u\""),
    ("a thread without a name", "[[thread]]\ncode = \"pass\""),
    // Processes (version 2).
    (
        "unknown start method",
        "[scenario]\nstart_method = \"spwan\"",
    ),
    (
        "daemon a string",
        "[[process]]\nname = \"u\"\ndaemon = \"true\"\ncode = \"pass\"",
    ),
    (
        "an array of Pools",
        "[objects]\npool = { kind = \"Pool\", count = 2 }",
    ),
    (
        "a module-qualified Value",
        "[objects]\nv = \"multiprocessing.Value\"",
    ),
    ("a bare Array", "[objects]\na = \"Array\""),
    (
        "an Array without value",
        "[objects]\na = { kind = \"Array\" }",
    ),
    (
        "an empty Array",
        "[objects]\na = { kind = \"Array\", value = [] }",
    ),
    (
        "an Array's length",
        "[objects]\na = { kind = \"Array\", value = 3 }",
    ),
    (
        "a Value of a list",
        "[objects]\nv = { kind = \"Value\", value = [1] }",
    ),
    (
        "a Value with count",
        "[objects]\nv = { kind = \"Value\", count = 2 }",
    ),
    (
        "an Array with count",
        "[objects]\na = { kind = \"Array\", value = [0], count = 2 }",
    ),
    (
        "a Pipe with count",
        "[objects]\np = { kind = \"Pipe\", count = 2 }",
    ),
    (
        "a ManagerList with count",
        "[objects]\nl = { kind = \"ManagerList\", count = 2 }",
    ),
    (
        "a lock string",
        "[objects]\nv = { kind = \"Value\", lock = \"no\" }",
    ),
    (
        "duplex a string",
        "[objects]\np = { kind = \"Pipe\", duplex = \"no\" }",
    ),
    (
        "unknown key for a Value",
        "[objects]\nv = { kind = \"Value\", maxsize = 1 }",
    ),
    (
        "dict items not pairs",
        "[objects]\nd = { kind = \"ManagerDict\", items = [[1, 2, 3]] }",
    ),
    (
        "a float in a list",
        "[objects]\nl = { kind = \"ManagerList\", value = [1.5] }",
    ),
    (
        "observe an attribute",
        "[final]\nobserve = [\"x.real\"]\n[shared]\nx = 0",
    ),
];

#[test]
fn structurally_wrong_scenarios_are_rejected_by_parser_and_schema() {
    const VALID: &str = "[[thread]]\nname = \"w\"\ncode = \"pass\"\n";
    let v = validator();
    let mut accepted = vec![];
    for (what, change) in WRONG {
        let text = format!("{change}\n{VALID}");
        assert!(
            simrace::parse("wrong.toml", &text).is_err(),
            "{what}: the parser accepts\n{text}"
        );
        if v.is_valid(&as_json(&text)) {
            accepted.push(format!("{what}:\n{text}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "the schema accepts:\n{}",
        accepted.join("\n")
    );
    // No threads at all, and `[thread]` with single brackets.
    for text in [
        "[shared]\nx = 0\n",
        "[thread]\nname = \"u\"\ncode = \"pass\"\n",
    ] {
        assert!(simrace::parse("wrong.toml", text).is_err());
        assert!(!v.is_valid(&as_json(text)), "the schema accepts\n{text}");
    }
}

#[test]
fn structural_files_in_tests_bad_are_rejected_by_the_schema() {
    let v = validator();
    for name in [
        "unknown_table",
        "unknown_kind",
        "bad_expect",
        "no_threads",
        "count_on_value",
        "pool_count",
        "unknown_start_method",
        "timing_unknown_key",
    ] {
        let path = root().join(format!("tests/bad/{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!v.is_valid(&as_json(&text)), "{name} validates");
    }
}

#[test]
fn draft_7_validators_read_the_schema_the_same_way() {
    // Editors' validators often implement older drafts (taplo's among them): the schema
    // sticks to keywords that mean the same there.
    let schema: Value = serde_json::from_str(simrace::SCENARIO_SCHEMA).unwrap();
    let new = validator();
    let old = Validator::new(&schema, Some(boon::Draft::V7)).expect("compiles as draft 7");
    const VALID: &str = "[[thread]]\nname = \"w\"\ncode = \"pass\"\n";
    let mut texts: Vec<String> = vec![EVERYTHING.to_string()];
    texts.extend(WRONG.iter().map(|(_, change)| format!("{change}\n{VALID}")));
    let files = toml_files(&root().join("scenarios"));
    texts.extend(files.iter().map(|f| std::fs::read_to_string(f).unwrap()));
    for text in &texts {
        let json = as_json(text);
        assert_eq!(old.is_valid(&json), new.is_valid(&json), "{text}");
    }
}
