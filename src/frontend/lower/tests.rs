//! Lowering of Processes (version 2): the parties in file order with their memories,
//! the new object kinds and their operations, and the rejections of the front end.

use super::lower;
use crate::frontend::diag::Diagnostic;
use crate::frontend::parser::tests::Rng;
use crate::frontend::scenario::parse_scenario;
use crate::ir::{Code, Instr, ObjKind, Op, Operand, Program, StartMethod, Value};

fn program(text: &str) -> Result<Program, Diagnostic> {
    lower(&parse_scenario("p.toml", text)?)
}

#[track_caller]
fn ok(text: &str) -> Program {
    program(text).unwrap_or_else(|d| panic!("{}", d.render()))
}

/// The visible instructions of `code`, one short line each.
fn steps(p: &Program, code: &Code) -> Vec<String> {
    let group = |g: u32| p.object_groups[g as usize].name.clone();
    let party = |g: u32| p.thread_groups[g as usize].name.clone();
    code.instrs
        .iter()
        .filter(|i| i.is_visible())
        .map(|i| match i {
            Instr::Read { var, .. } => format!("read {}", p.vars[*var as usize].name),
            Instr::Write { var, .. } => format!("write {}", p.vars[*var as usize].name),
            Instr::Call { obj, op, .. } => format!("{}.{}", group(obj.group), op.name()),
            Instr::Start { thread } => format!("start {}", party(thread.group)),
            Instr::Join { thread, timeout } => {
                format!("join {} timeout={}", party(thread.group), timeout.is_some())
            }
            Instr::Terminate { thread, kill } => {
                format!("terminate {} kill={kill}", party(thread.group))
            }
            Instr::ExitCode { thread, .. } => format!("exitcode {}", party(thread.group)),
            Instr::IsAlive { thread, .. } => format!("is_alive {}", party(thread.group)),
            Instr::End => "end".into(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The steps of the one party of a scenario whose objects are `objects` and whose
/// `[[process]]` `p` (one instance, a second process `q` beside it) runs `code`.
fn party_steps(objects: &str, code: &str) -> Vec<String> {
    let p = ok(&scenario(objects, code, ""));
    steps(&p, &p.threads[0].code)
}

fn scenario(objects: &str, code: &str, tail: &str) -> String {
    format!(
        "[objects]\n{objects}\n[[process]]\nname = \"p\"\ncode = \"\"\"\n{code}\n\"\"\"\n\
         [[process]]\nname = \"q\"\nstart = false\ncode = \"pass\"\n\
         [[thread]]\nname = \"t\"\nstart = false\ncode = \"pass\"\n{tail}"
    )
}

#[test]
fn parties_keep_file_order_with_their_memories() {
    let p = ok("[scenario]\nstart_method = \"spawn\"\n\
         [[process]]\nname = \"a\"\ndaemon = true\ncode = \"pass\"\n\
         [[thread]]\nname = \"b\"\ncode = \"pass\"\n\
         [[process]]\nname = \"c\"\ncount = 2\ncode = \"pass\"\n\
         [[thread]]\nname = \"d\"\ndaemon = true\ncode = \"pass\"\n");
    let parties: Vec<(&str, bool, bool, u32)> = p
        .threads
        .iter()
        .map(|t| (t.name.as_str(), t.process, t.daemon, t.memory))
        .collect();
    assert_eq!(
        parties,
        [
            ("a", true, true, 1),
            ("b", false, false, 0),
            ("c[0]", true, false, 2),
            ("c[1]", true, false, 3),
            ("d", false, true, 0),
        ]
    );
    assert_eq!(p.memories, 4);
    assert_eq!(p.start_method, StartMethod::Spawn);
    let groups: Vec<(&str, u32)> = p
        .thread_groups
        .iter()
        .map(|g| (g.name.as_str(), g.first))
        .collect();
    assert_eq!(groups, [("a", 0), ("b", 1), ("c", 2), ("d", 4)]);
    assert_eq!(
        ok("[[thread]]\nname = \"t\"\ncode = \"pass\"\n").start_method,
        StartMethod::Fork
    );
}

#[test]
fn values_and_arrays_are_global_cells_with_a_lock() {
    let p = ok("[shared]\nx = 0\n[objects]\n\
         v = { kind = \"Value\", value = 7 }\n\
         a = { kind = \"Array\", value = [1, 2, 3], lock = false }\n\
         w = \"Value\"\n\
         [[process]]\nname = \"p\"\ncode = \"pass\"\n");
    let vars: Vec<String> = p
        .vars
        .iter()
        .map(|v| {
            let init: Vec<String> = v.init.iter().map(Value::to_string).collect();
            let len = v.len.map_or(String::new(), |n| format!("[{n}]"));
            format!(
                "{}{len}@{} global={} {}",
                v.name,
                v.first_cell,
                v.global,
                init.join(",")
            )
        })
        .collect();
    assert_eq!(
        vars,
        [
            "x@0 global=false 0",
            "v.value@1 global=true 7",
            "a[3]@2 global=true 1,2,3",
            "w.value@5 global=true 0",
        ]
    );
    assert_eq!(p.cells, 6);
    // One RLock for each Value or Array with a lock.
    let objects: Vec<(&str, ObjKind)> = p
        .objects
        .iter()
        .map(|o| (o.name.as_str(), o.kind))
        .collect();
    assert_eq!(
        objects,
        [
            ("v.get_lock()", ObjKind::RLock),
            ("w.get_lock()", ObjKind::RLock)
        ]
    );
    // The outcome shows every cell, the global ones where every party shares them.
    let observe: Vec<(&str, u32)> = p.observe.iter().map(|(n, a)| (n.as_str(), *a)).collect();
    let g = p.memories * p.cells;
    assert_eq!(
        observe,
        [
            ("x", 0),
            ("v.value", g + 1),
            ("a[0]", g + 2),
            ("a[1]", g + 3),
            ("a[2]", g + 4),
            ("w.value", g + 5)
        ]
    );
    assert_eq!(p.cell_name(g + 3), "a[1]");
    assert_eq!(p.cell_name(g + 1), "v.value");
}

#[test]
fn observe_names_a_value_and_an_array() {
    let text = scenario(
        "v = \"Value\"\na = { kind = \"Array\", value = [0, 0] }",
        "pass",
        "[final]\nobserve = [\"a\", \"v.value\"]\nassert = [\"v.value + a[1] == 0\"]\n\
         [invariant]\nassert = [\"a[0] >= 0\"]\n",
    );
    let p = ok(&text);
    let names: Vec<&str> = p.observe.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a[0]", "a[1]", "v.value"]);
    // Checks read the cells without a step.
    let check = &p.final_asserts[0].code;
    assert!(check.instrs.iter().all(|i| !i.is_visible()));
    // `v.value` is cell 0, `a` cells 1 and 2: an invariant reads every cell of `a`.
    assert_eq!(p.invariant_cells, [false, true, true]);
}

#[test]
fn pipes_and_managers_are_objects() {
    let p = ok(&scenario(
        "c = \"Pipe\"\nr = { kind = \"Pipe\", duplex = false }\n\
         d = { kind = \"ManagerDict\", items = [[1, 10], [true, false]] }\n\
         l = { kind = \"ManagerList\", value = [3, true] }\ne = \"ManagerList\"\n\
         jq = { kind = \"JoinableQueue\", maxsize = 2 }\nsq = \"SimpleQueue\"",
        "pass",
        "",
    ));
    let objects: Vec<(&str, ObjKind)> = p
        .objects
        .iter()
        .map(|o| (o.name.as_str(), o.kind))
        .collect();
    let end = |peer, send, recv| ObjKind::Connection { peer, send, recv };
    assert_eq!(
        objects,
        [
            ("c[0]", end(1, true, true)),
            ("c[1]", end(0, true, true)),
            ("r[0]", end(3, false, true)),
            ("r[1]", end(2, true, false)),
            ("d", ObjKind::ManagerDict),
            ("l", ObjKind::ManagerList),
            ("e", ObjKind::ManagerList),
            ("jq", ObjKind::Queue { maxsize: 2 }),
            ("sq", ObjKind::Queue { maxsize: 0 }),
        ]
    );
    use Value::{Bool, Int, None};
    assert_eq!(
        p.objects[4].items,
        [(Int(1), Int(10)), (Bool(true), Bool(false))]
    );
    assert_eq!(p.objects[5].items, [(Int(3), None), (Bool(true), None)]);
    assert!(p.objects[6].items.is_empty());
}

#[test]
fn shared_memory_operations() {
    let objects = "v = \"Value\"\na = { kind = \"Array\", value = [0, 0] }";
    assert_eq!(
        party_steps(objects, "v.value += 1\na[1] = v.value\nx = len(a)"),
        [
            "read v.value",
            "write v.value",
            "read v.value",
            "write a",
            "end"
        ]
    );
    assert_eq!(
        party_steps(
            objects,
            "with v.get_lock():\n    a[0] = 1\na.get_lock().acquire()\na.get_lock().release()"
        ),
        [
            "v.get_lock().acquire",
            "write a",
            "v.get_lock().release",
            "a.get_lock().acquire",
            "a.get_lock().release",
            "end"
        ]
    );
    // `len(a)` is a constant; the `with` block unwinds on a failure.
    let p = ok(&scenario(
        objects,
        "x = len(a)\nwith v.get_lock():\n    pass",
        "",
    ));
    let code = &p.threads[0].code;
    assert!(code.instrs.contains(&Instr::Move {
        dst: 0,
        src: Operand::Const(Value::Int(2))
    }));
    assert_eq!(code.withs.len(), 1);
}

#[test]
fn process_operations() {
    assert_eq!(
        party_steps(
            "",
            "q.start()\nq.join(timeout=1)\nq.join(2)\nq.join()\nif q.is_alive():\n    q.terminate()\n\
             q.kill()\nx = q.exitcode"
        ),
        [
            "start q",
            "join q timeout=true",
            "join q timeout=true",
            "join q timeout=false",
            "is_alive q",
            "terminate q kill=false",
            "terminate q kill=true",
            "exitcode q",
            "end"
        ]
    );
    // A [[thread]] may start, join and ask processes and threads.
    let p = ok(
        "[[process]]\nname = \"p\"\ncount = 2\nstart = false\ncode = \"pass\"\n\
         [[thread]]\nname = \"t\"\ncode = \"\"\"\np.start()\nok = p[1].exitcode == 0\nu.start()\nu.join()\n\"\"\"\n\
         [[thread]]\nname = \"u\"\nstart = false\ncode = \"pass\"\n",
    );
    assert_eq!(
        steps(&p, &p.threads[2].code),
        [
            "start p",
            "exitcode p",
            "start u",
            "join u timeout=false",
            "end"
        ]
    );
}

#[test]
fn pipe_queue_and_manager_operations() {
    let objects = "c = \"Pipe\"\nsq = \"SimpleQueue\"\njq = \"JoinableQueue\"\n\
                   d = \"ManagerDict\"\nl = \"ManagerList\"";
    assert_eq!(
        party_steps(
            objects,
            "c[0].send(1)\nx = c[1].recv()\nok = c[1].poll()\nok = c[1].poll(1)\nc[0].close()"
        ),
        ["c.send", "c.recv", "c.poll", "c.poll", "c.close", "end"]
    );
    assert_eq!(
        party_steps(
            objects,
            "sq.put(1)\nx = sq.get()\nok = sq.empty()\njq.put(1)\njq.task_done()\njq.join()"
        ),
        [
            "sq.put",
            "sq.get",
            "sq.empty",
            "jq.put",
            "jq.task_done",
            "jq.join",
            "end"
        ]
    );
    assert_eq!(
        party_steps(
            objects,
            "d[1] += 1\nd[2] = d.get(1, 0)\nx = d.pop(1)\nn = len(d)\nl.append(d[2])\nx = l.pop()\nl[0] = len(l)"
        ),
        [
            "d.__getitem__",
            "d.__setitem__",
            "d.get",
            "d.__setitem__",
            "d.pop",
            "d.__len__",
            "d.__getitem__",
            "l.append",
            "l.pop",
            "l.__len__",
            "l.__setitem__",
            "end"
        ]
    );
    let p = ok(&scenario(objects, "x = d.pop(1, 5)\ny = d.get(2)", ""));
    let ops: Vec<&Op> = p.threads[0]
        .code
        .instrs
        .iter()
        .filter_map(|i| match i {
            Instr::Call { op, .. } => Some(op),
            _ => None,
        })
        .collect();
    let five = Operand::Const(Value::Int(5));
    assert!(matches!(ops[0], Op::Pop { key: Some(_), default: Some(d) } if *d == five));
    assert!(matches!(ops[1], Op::DictGet { default: None, .. }));
}

/// The error `text` gives: at (line, column), its message containing `message` and its
/// help `help`.
#[track_caller]
fn rejects(text: &str, line: usize, column: usize, message: &str, help: &str) {
    match program(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => {
            assert!(d.message.contains(message), "{message:?} not in {d}");
            let h = d.help.clone().unwrap_or_default();
            assert!(h.contains(help), "{help:?} not in {h:?}");
            assert_eq!((d.line, d.column), (line, column), "{d}");
        }
    }
}

/// The (1-based) line of `text` on which `needle` starts.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("the needle is in the text");
    text[..at].lines().count() + usize::from(text[..at].ends_with('\n') || at == 0)
}

/// Rejections of code: (code, column on its first line, message, help).
type CodeCases<'c> = &'c [(&'c str, usize, &'c str, &'c str)];

/// Each case's code, as the code of the process `p` beside `objects`, is rejected.
#[track_caller]
fn code_rejects(objects: &str, cases: CodeCases) {
    for (code, column, message, help) in cases {
        let text = scenario(objects, code, "");
        rejects(&text, line_of(&text, code), *column, message, help);
    }
}

#[test]
fn parties_are_checked() {
    code_rejects(
        "",
        &[
            (
                "t.start()",
                3,
                "a [[process]] cannot call `t.start()`",
                "from the code of a [[thread]]",
            ),
            (
                "t.join()",
                3,
                "a [[process]] cannot call `t.join()`",
                "declare `t` as a [[process]]",
            ),
            ("x = t.is_alive()", 7, "cannot call `t.is_alive()`", ""),
            (
                "x = t.exitcode",
                7,
                "only a process has `exitcode`",
                "no exit code",
            ),
            (
                "t.terminate()",
                3,
                "only a process has `terminate()`",
                "cannot stop a thread",
            ),
            ("t.kill()", 3, "only a process has `kill()`", ""),
            (
                "t.join(timeout=1)",
                3,
                "only a process has `join(timeout)`",
                "write `t.join()`",
            ),
            (
                "q.frobnicate()",
                3,
                "a process has no method `frobnicate`",
                "terminate()",
            ),
            (
                "x = q.exitcod",
                7,
                "a process has no attribute `exitcod`",
                "did you mean `exitcode`?",
            ),
            ("x = q.pid", 7, "no attribute `pid`", "`exitcode`"),
            (
                "q.join(1, 2)",
                11,
                "too many arguments to `join`",
                "join(timeout)",
            ),
            (
                "q[0].start()",
                1,
                "`q` is a single process",
                "without an index",
            ),
            (
                "with atomic: x = q.exitcode",
                20,
                "inside `with atomic:`",
                "",
            ),
        ],
    );
    let t = "[[process]]\nname = \"p\"\ncount = 2\ncode = \"pass\"\n\
             [[thread]]\nname = \"t\"\ncode = \"x = p.exitcode\"\n";
    rejects(t, 7, 13, "`p` is an array of processes", "`p[i].exitcode`");
    let t = "[[process]]\nname = \"p\"\ncode = \"pass\"\n[final]\nassert = [\"p.exitcode == 0\"]\n";
    rejects(t, 5, 12, "a check cannot read `p.exitcode`", "[ghost]");
}

#[test]
fn shared_memory_is_checked() {
    code_rejects(
        "v = \"Value\"\na = { kind = \"Array\", value = [0, 0] }\nn = { kind = \"Value\", lock = false }",
        &[
            ("x = v", 5, "`v` is a Value", "`v.value`"),
            ("v = 1", 1, "`v` is a Value", "`v.value`"),
            (
                "x = v.valeu",
                7,
                "a Value has no attribute `valeu`",
                "did you mean `value`?",
            ),
            ("x = a", 5, "`a` is an Array", "index it: `a[i]`"),
            (
                "a.value = 1",
                3,
                "an Array has no attribute `value`",
                "`a[i]`",
            ),
            (
                "with n.get_lock():\n    pass",
                8,
                "`n` has no lock: it is declared with `lock = false`",
                "remove `lock = false`",
            ),
            (
                "n.get_lock().acquire()",
                3,
                "declared with `lock = false`",
                "",
            ),
            ("x = n.get_lock()", 7, "declared with `lock = false`", ""),
            (
                "x = v.get_lock()",
                7,
                "`v.get_lock()` is a lock: use it",
                "with v.get_lock():",
            ),
            (
                "v.get_lok().acquire()",
                3,
                "a Value has no method `get_lok`",
                "did you mean `get_lock`?",
            ),
            (
                "v.acquire()",
                3,
                "a Value has no method `acquire`",
                "`v.get_lock().acquire()`",
            ),
            (
                "with v:\n    pass",
                6,
                "`v` is a Value: its lock is `v.get_lock()`",
                "with v.get_lock():",
            ),
            (
                "x = a[0].get_lock()",
                5,
                "`get_lock()` is the whole Array's",
                "`a.get_lock()`",
            ),
            (
                "with v.get_lock().x():\n    pass",
                6,
                "`with` takes an object, not a call",
                "",
            ),
            ("x = len(v)", 9, "`v` has no length", "`len(x)` takes"),
            ("x = len(a, a)", 5, "`len` takes one argument", ""),
        ],
    );
}

#[test]
fn objects_are_checked() {
    let o = "c = \"Pipe\"\nsq = \"SimpleQueue\"\nd = \"ManagerDict\"\nl = \"ManagerList\"\nm = \"Lock\"";
    code_rejects(
        o,
        &[
            (
                "c.send(1)",
                1,
                "`c` is a Pipe: two connections",
                "`c[0]` or `c[1]`",
            ),
            (
                "c[0].sendd(1)",
                6,
                "a Pipe connection has no method `sendd`",
                "send(v)",
            ),
            ("c[0].send()", 1, "send() needs the value to send", ""),
            (
                "sq.task_done()",
                4,
                "a SimpleQueue has no method `task_done`",
                "put(item), get(), empty()",
            ),
            (
                "sq.put(1, block=False)",
                11,
                "`put` has no argument `block`",
                "put(item)",
            ),
            (
                "with sq:\n    pass",
                6,
                "`sq` is a SimpleQueue",
                "get_lock()",
            ),
            (
                "x = d.keys()",
                7,
                "a Manager dict has no method `keys`",
                "get(k, default)",
            ),
            ("x = l.pop(0)", 11, "too many arguments to `pop`", "pop()"),
            ("x = d.get()", 5, "get() needs the key", "d.get(key)"),
            ("d = 1", 1, "cannot assign to `d`", ""),
            ("x = m[0]", 5, "`m` is an array of objects", ""),
            (
                "with m.acquire():\n    pass",
                6,
                "`with` takes an object, not a call",
                "with m:",
            ),
            (
                "x = m.locked",
                7,
                "a Lock has no attribute `locked`",
                "locked()",
            ),
            (
                "x = c.y().z()",
                5,
                "`c.y()` does not give an object",
                "get_lock()",
            ),
        ],
    );
}

#[test]
fn checks_cannot_use_proxies() {
    let o = "d = \"ManagerDict\"\nl = \"ManagerList\"";
    let text = scenario(o, "pass", "[final]\nassert = [\"d[1] == 1\"]\n");
    let line = line_of(&text, "assert");
    rejects(
        &text,
        line,
        12,
        "a check cannot read the Manager proxy `d`",
        "[ghost]",
    );
    let text = scenario(o, "pass", "[invariant]\nassert = [\"len(l) < 3\"]\n");
    rejects(
        &text,
        line,
        12,
        "a check cannot read the Manager proxy `l`",
        "",
    );
}

/// Rejections of tables: (the `[objects]` entry, column, message, help), each on line 2.
const OBJECT_TABLES: &[(&str, usize, &str, &str)] = &[
    (
        "v = { kind = \"Value\", count = 2 }",
        23,
        "a Value cannot have `count`",
        "one Array",
    ),
    (
        "a = { kind = \"Array\", value = [0], count = 2 }",
        36,
        "an Array cannot have `count`",
        "",
    ),
    (
        "d = { kind = \"ManagerDict\", count = 2 }",
        29,
        "a ManagerDict cannot have `count`",
        "one proxy per name",
    ),
    (
        "v = \"multiprocessing.Value\"",
        5,
        "unknown object kind",
        "write just \"Value\"",
    ),
    (
        "v = { kind = \"Pool\", count = 2 }",
        22,
        "a Pool cannot have `count`",
        "declare one Pool per name",
    ),
    ("a = \"Array\"", 5, "an Array needs `value`", ""),
    (
        "a = { kind = \"Array\", value = 3 }",
        31,
        "must be a list of its elements",
        "not the length",
    ),
    (
        "a = { kind = \"Array\", value = [] }",
        31,
        "the array `a` is empty",
        "",
    ),
    (
        "v = { kind = \"Value\", value = [1] }",
        31,
        "holds one value, not a list",
        "",
    ),
    (
        "v = { kind = \"Value\", lock = 1 }",
        30,
        "`lock` must be a boolean",
        "",
    ),
    (
        "p = { kind = \"Pipe\", duplex = \"no\" }",
        31,
        "`duplex` must be a boolean",
        "",
    ),
    (
        "p = { kind = \"Pipe\", maxsize = 1 }",
        22,
        "unknown key `maxsize` for a Pipe",
        "duplex",
    ),
    (
        "d = { kind = \"ManagerDict\", items = [[1, 2], [1, 3]] }",
        47,
        "the key 1 is given twice",
        "",
    ),
    (
        "d = { kind = \"ManagerDict\", items = [[1]] }",
        38,
        "a pair `[key, value]`",
        "",
    ),
    (
        "d = { kind = \"ManagerDict\", items = 1 }",
        37,
        "must be an array",
        "",
    ),
    (
        "l = { kind = \"ManagerList\", value = [1.5] }",
        38,
        "floats are not supported",
        "",
    ),
    (
        "c = { kind = \"Condition\", lock = \"v\" }\nv = \"Value\"",
        34,
        "`v` is a Value, not a Lock or RLock",
        "",
    ),
];

#[test]
fn tables_are_checked() {
    for (objects, column, message, help) in OBJECT_TABLES {
        let text = format!("[objects]\n{objects}\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n");
        rejects(&text, 2, *column, message, help);
    }
    let s = |line: &str| format!("[scenario]\n{line}\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n");
    rejects(
        &s("start_method = \"spwan\""),
        2,
        16,
        "unknown start method \"spwan\"",
        "did you mean \"spawn\"?",
    );
    rejects(
        &s("start_method = \"forkserver\""),
        2,
        16,
        "unknown start method",
        "as with \"spawn\"",
    );
    rejects(
        &s("start_method = 1"),
        2,
        16,
        "`start_method` must be a string",
        "",
    );
    let p = "[[process]]\nname = \"p\"\ndaemon = \"yes\"\ncode = \"pass\"\n";
    rejects(p, 3, 10, "`daemon` must be a boolean", "");
    let o = |names: &str| {
        format!(
            "[objects]\nv = \"Value\"\nm = \"Lock\"\n[final]\nobserve = [{names}]\n[[thread]]\nname = \"t\"\ncode = \"pass\"\n"
        )
    };
    rejects(
        &o("\"v\""),
        5,
        13,
        "`v` is a Value: observe `v.value`",
        "`v.value`",
    );
    rejects(&o("\"m.value\""), 5, 13, "`m` is not a Value", "");
    rejects(&o("\"m\""), 5, 13, "`m` is an object", "");
}

#[test]
fn never_panics_on_mutations() {
    let valid = scenario(
        "v = \"Value\"\na = { kind = \"Array\", value = [0, 0] }\nc = \"Pipe\"\n\
         d = { kind = \"ManagerDict\", items = [[1, 1]] }\nl = \"ManagerList\"\nsq = \"SimpleQueue\"",
        "with v.get_lock():\n    v.value += a[len(a) - 1]\nd[1] += 1\nl.append(d.get(1, 0))\n\
         c[0].send(sq.empty())\nq.start()\nq.join(timeout=1)\nif q.exitcode == 0:\n    q.kill()",
        "[final]\nassert = [\"v.value >= 0\"]\n",
    );
    let pieces = [
        ".",
        "(",
        ")",
        "[",
        "]",
        "value",
        "get_lock()",
        "exitcode",
        "len(",
        "t.",
        "q.",
        "d[",
        "\n",
        " = ",
        "+= 1",
        "with ",
        ":",
        "0",
        "v.value",
        "l.pop()",
    ];
    let mut rng = Rng(0x51ed_2701_a3c4_9e17);
    for _ in 0..3000 {
        let mut s = valid.clone().into_bytes();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(s.len() + 1);
            match rng.below(3) {
                0 if at < s.len() => {
                    let end = (at + 1 + rng.below(6)).min(s.len());
                    s.drain(at..end);
                }
                _ => {
                    let p = pieces[rng.below(pieces.len())];
                    s.splice(at..at, p.bytes());
                }
            }
        }
        let text = String::from_utf8_lossy(&s).into_owned();
        let _ = program(&text);
    }
}

#[test]
fn times_are_microseconds_and_decimals_only_times() {
    let p = ok(
        "[objects]\nev = \"Event\"\n[[thread]]\nname = \"t\"\ncode = \"\"\"\n\
         work(0.5)\nsleep(2)\nn = 3\nwork(n)\nev.wait(timeout=0.25)\n\"\"\"\n\
         [timing]\ncores = 4\nswitch_interval_ms = 0.5\ngil = false\n",
    );
    let instrs = &p.threads[0].code.instrs;
    assert!(instrs.contains(&Instr::Work {
        us: Operand::Const(Value::Int(500_000))
    }));
    assert!(instrs.contains(&Instr::Sleep {
        us: Operand::Const(Value::Int(2_000_000))
    }));
    assert!(instrs.iter().any(|i| matches!(
        i,
        Instr::Call {
            op: Op::Wait {
                timeout: Some(Operand::Const(Value::Int(250_000)))
            },
            ..
        }
    )));
    assert_eq!(
        (p.timing.cores, p.timing.switch_interval_us, p.timing.gil),
        (4, 500, false)
    );
    let d = program("[shared]\nx = 0\n[[thread]]\nname = \"t\"\ncode = \"x = 0.5\"\n").unwrap_err();
    assert!(
        d.message.contains("only allowed as a time"),
        "{}",
        d.message
    );
    let d = program("[[thread]]\nname = \"t\"\ncode = \"work(0.0000001)\"\n").unwrap_err();
    assert!(d.message.contains("6 decimal places"), "{}", d.message);
}

/// A `while` loop whose every turn moves a local counter cannot spin (the spin-loop rule
/// never blocks it), nor can a `for` loop; any other loop may.
#[test]
fn loops_that_move_a_counter_every_turn_cannot_spin() {
    let may_spin = |body: &str| -> Vec<bool> {
        let text = format!(
            "[shared]\nx = 0\na = [0, 0]\n[[thread]]\nname = \"t\"\ncode = \"\"\"\n\
             i = 1\nh = 0\n{body}\n\"\"\"\n"
        );
        let p = ok(&text);
        p.threads[0]
            .code
            .instrs
            .iter()
            .filter_map(|i| match i {
                Instr::LoopHead { may_spin } => Some(*may_spin),
                _ => None,
            })
            .collect()
    };
    assert_eq!(may_spin("while a[i] != 0:\n    i -= 1"), [false]);
    assert_eq!(may_spin("while x == 0:\n    h = (h + 1) % 128"), [false]);
    assert_eq!(may_spin("while x == 0:\n    h = 3 + h"), [false]);
    assert_eq!(may_spin("for k in range(3):\n    pass"), [false]);
    assert_eq!(may_spin("while x == 0:\n    pass"), [true]);
    // The counter comes back, or does not move at every turn.
    assert_eq!(may_spin("while x == 0:\n    h = (h + 4) % 2"), [true]);
    assert_eq!(may_spin("while x == 0:\n    i += 1\n    i -= 1"), [true]);
    assert_eq!(
        may_spin("while x == 0:\n    i += 1\n    if x:\n        i = 0"),
        [true]
    );
    assert_eq!(may_spin("while x == 0:\n    if x:\n        i += 1"), [true]);
    assert_eq!(
        may_spin("while x == 0:\n    if x:\n        continue\n    i += 1"),
        [true]
    );
    assert_eq!(may_spin("while x == 0:\n    i += 0"), [true]);
    // Shared: another thread's write between the read and the write can undo it.
    assert_eq!(may_spin("while a[0] == 0:\n    x += 1"), [true]);
    // Nested: the inner loop moves its counter, the outer one does not.
    assert_eq!(
        may_spin("while x == 0:\n    while a[i] != 0:\n        i -= 1"),
        [true, false]
    );
}

/// `Code::scoped` holds the acquisitions and releases of `with` blocks, the releases on
/// leaving one early included, and no other call: the explorer's wakeup-leaf rule takes
/// such a lock to be released by the thread that took it.
#[test]
fn with_blocks_mark_their_acquisitions_and_releases() {
    let text = "[objects]\nm = \"Lock\"\nn = \"Lock\"\n[[thread]]\nname = \"t\"\ncode = \"\"\"\n\
                for k in range(2):\n    with m:\n        if k == 1:\n            break\n        with n:\n            pass\n\
                n.acquire()\nn.release()\n\"\"\"\n";
    let p = ok(text);
    let code = &p.threads[0].code;
    let marked: Vec<String> = code
        .scoped
        .iter()
        .map(|&pc| match &code.instrs[pc as usize] {
            Instr::Call { obj, op, .. } => {
                format!("{}.{}", p.object_groups[obj.group as usize].name, op.name())
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        marked,
        [
            "m.acquire",
            "m.release",
            "n.acquire",
            "n.release",
            "m.release"
        ]
    );
    assert!(code.scoped.windows(2).all(|w| w[0] < w[1]));
    let calls = code
        .instrs
        .iter()
        .filter(|i| matches!(i, Instr::Call { .. }));
    assert_eq!(
        calls.count(),
        7,
        "the explicit n.acquire() and n.release() are not marked"
    );
}
