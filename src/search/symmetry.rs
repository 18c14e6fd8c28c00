//! Symmetry reduction for state caching. The instances of a `[[thread]]` array that
//! nothing tells apart ([`Program::symmetric_groups`]: their code never reads `tid`, and
//! no code names them) are interchangeable: exchanging two of them, wherever the state
//! names them, maps the program's executions onto its executions. So state caching need
//! explore only one state of each class of states equal up to such exchanges: three
//! workers polling a queue have six orders of the same three positions. Without it, seed
//! 003's three-worker loop ran to its budget; with it, it ends in a few seconds.
//!
//! The representative of a class is found by sorting each group's threads by what they
//! are (their own state, then what the objects say of them: the lock one holds, its
//! place in a condition's queue), as in Ip and Dill, "Better verification through
//! symmetry" (FMSD 9, 1996), after Emerson and Sistla, "Symmetry and model checking"
//! (same issue). A sort that does not find the one representative (two threads alike
//! but for a hash collision) only costs reduction, never soundness: whatever renaming is
//! chosen, the key is a state of the same class.
//!
//! A cycle up to an exchange (a state comes back with two workers' roles swapped) is a
//! cycle too: repeating it, renamed each time, comes back to the very state. States.rs
//! reports it as a livelock with that schedule, which replays.

use crate::detect::lockorder::LockOrder;
use crate::ir::{Program, ThreadId};
use crate::machine::{Choice, State};

/// A representative of `state`'s class and the renaming that gives it: thread `t` of
/// `state` is thread `to[t]` of the representative. The state itself, with the identity,
/// when the program has no interchangeable threads or `on` is false. Step counters left
/// out either way.
pub(super) fn representative(prog: &Program, state: &State, on: bool) -> (State, Vec<ThreadId>) {
    let n = state.threads.len() as ThreadId;
    let mut to: Vec<ThreadId> = (0..n).collect();
    if prog.symmetric.is_empty() || !on {
        return (state.without_counters(), to);
    }
    for group in &prog.symmetric {
        let mut members: Vec<(u64, u64, ThreadId)> = group
            .iter()
            .map(|&t| (state.thread_hash(t), role_hash(state, group, t, n), t))
            .collect();
        members.sort_unstable();
        for (slot, &(_, _, t)) in members.iter().enumerate() {
            to[t as usize] = group[slot];
        }
    }
    (state.rename_threads(&to).without_counters(), to)
}

/// What the objects say of thread `t` of `group`, up to the names of the others: `t` and
/// the rest of its group renamed to two fresh names.
fn role_hash(state: &State, group: &[ThreadId], t: ThreadId, n: ThreadId) -> u64 {
    let mut to: Vec<ThreadId> = (0..n).collect();
    for &u in group {
        to[u as usize] = n;
    }
    to[t as usize] = n + 1;
    state.objects_hash(&to)
}

/// `to` undone: `from[to[t]] == t`.
pub(super) fn inverse(to: &[ThreadId]) -> Vec<ThreadId> {
    let mut from = vec![0; to.len()];
    for (t, &u) in to.iter().enumerate() {
        from[u as usize] = t as ThreadId;
    }
    from
}

/// The schedule `choices` with its threads renamed by `to`.
pub(super) fn rename_choices(choices: &[Choice], to: &[ThreadId]) -> Vec<Choice> {
    choices
        .iter()
        .map(|c| Choice {
            thread: to[c.thread as usize],
            alt: c.alt,
        })
        .collect()
}

/// The lock-order edges a thread of a group was seen adding, added for every thread of
/// its group: a path cut short at a state equal to one explored up to an exchange
/// continues as that one did, with the threads exchanged.
pub(super) fn spread_lock_order(prog: &Program, order: &mut LockOrder) {
    for sites in order.edges.values_mut() {
        let seen: Vec<_> = sites.iter().copied().collect();
        for site in seen {
            let Some(group) = prog.symmetric.iter().find(|g| g.contains(&site.thread)) else {
                continue;
            };
            for &u in group {
                sites.insert(crate::detect::lockorder::Site { thread: u, ..site });
            }
        }
    }
}
