//! Wakeup trees (Abdulla, Aronis, Jonsson and Sagonas, "Optimal dynamic partial order
//! reduction", POPL 2014 and JACM 2017): the part of optimal DPOR that says not only which
//! thread to try next from a state, but the whole sequence of steps that reverses a race,
//! so that the search never starts an execution that its sleep sets will then block.
//!
//! A [`WakeupTree`] belongs to one node of the search path. It is an ordered forest of
//! pending branches; each root is a step to take from the node, its children the steps
//! to take after it. A branch that has been started is removed from the forest and its
//! children go with it to the child node.
//!
//! Steps are compared by thread and by [`Footprint`] (the machine's dependency relation),
//! never by state, so the tree can reason about sequences that have not been run yet.
//!
//! A node's children are shared, copied on write: the parallel search copies the
//! coordinator's path, trees and all, to walk it ahead (parallel.rs), and a copy then
//! costs the roots of each tree, not the trees.

use crate::ir::ThreadId;
use crate::machine::{Choice, Footprint, dependent};
use std::collections::VecDeque;
use std::sync::Arc;

/// One step of a wakeup sequence: which thread moves (and which alternative it takes),
/// and what it touches.
#[derive(Clone, Debug, PartialEq)]
pub struct WakeStep {
    pub choice: Choice,
    pub fp: Footprint,
}

/// A node of a wakeup tree: a step and the steps that follow it.
#[derive(Clone, Debug, PartialEq)]
pub struct WakeNode {
    pub step: WakeStep,
    children: Arc<Vec<WakeNode>>,
    /// The nodes of this subtree, itself included (kept up to date by the tree's
    /// operations, so that the search's memory estimate need not walk the trees).
    size: u64,
}

impl WakeNode {
    /// A branch of one step.
    pub fn leaf(step: WakeStep) -> WakeNode {
        WakeNode {
            step,
            children: Arc::default(),
            size: 1,
        }
    }
}

/// An ordered forest of pending branches (leftmost first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WakeupTree {
    branches: Vec<WakeNode>,
    /// The nodes of the forest.
    size: u64,
}

/// True when the first step of `thread` in `w` has no earlier step in `w` that it depends
/// on: `thread` can start `w` (it is an initial of `w`). Returns the step's index.
fn initial_index(w: &[WakeStep], thread: ThreadId) -> Option<usize> {
    let j = w.iter().position(|s| s.choice.thread == thread)?;
    let blocked = w[..j].iter().any(|s| dependent(&s.fp, &w[j].fp));
    (!blocked).then_some(j)
}

/// Whether `thread` takes part in `w` and can start it: every execution that begins with
/// `w` is equivalent to one that begins with `thread`'s step.
pub fn initial(w: &[WakeStep], thread: ThreadId) -> bool {
    initial_index(w, thread).is_some()
}

/// Whether a thread whose next step touches `fp` is a weak initial of `w`: it starts `w`,
/// or it does not take part in `w` and commutes with every step of it.
pub fn weak_initial(w: &[WakeStep], thread: ThreadId, fp: &Footprint) -> bool {
    if w.iter().any(|s| s.choice.thread == thread) {
        return initial_index(w, thread).is_some();
    }
    !w.iter().any(|s| dependent(&s.fp, fp))
}

/// One step of the ⊑ test: whether the tree step `x` starts the steps `rest` of `w`
/// (indices, in order) or commutes with all of them; if so, `rest` becomes what is left
/// of them after `x` (else it is unchanged). In place, since a descent never tries a
/// sibling after a match: copying `rest` at every level made inserting a sequence of
/// length n below a chain of length n cost n² (two threads spinning to `max_steps`).
fn consume(x: &WakeStep, w: &[WakeStep], rest: &mut VecDeque<usize>) -> bool {
    let t = x.choice.thread;
    if let Some(pos) = rest.iter().position(|&j| w[j].choice.thread == t) {
        let j = rest[pos];
        if rest
            .iter()
            .take(pos)
            .any(|&k| dependent(&w[k].fp, &w[j].fp))
        {
            return false; // t's step cannot come first
        }
        if w[j].choice.alt != x.choice.alt {
            return false; // the same thread doing something else
        }
        rest.remove(pos);
        true
    } else {
        !rest.iter().any(|&k| dependent(&w[k].fp, &x.fp))
    }
}

/// What a leaf that weakly prefixes an inserted sequence stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtLeaf {
    /// The sequence, as the paper has it: the leaf's subtree is to explore some
    /// continuation of it, and the races found there lead to the sequence's class.
    Covers,
    /// Only itself: the rest of the sequence hangs below it. Needed where a thread can
    /// be disabled and enabled again by another's step (see `insert_in`).
    IsFollowed,
}

/// What inserting a sequence did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The tree already holds the sequence (up to equivalence).
    Covered,
    /// New steps were added.
    Added,
}

impl WakeupTree {
    pub fn is_empty(&self) -> bool {
        self.branches.is_empty()
    }

    /// The pending branches, leftmost first.
    pub fn branches(&self) -> &[WakeNode] {
        &self.branches
    }

    /// How many nodes the forest holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds `node` as the rightmost branch.
    pub fn push(&mut self, node: WakeNode) {
        self.size += node.size;
        self.branches.push(node);
    }

    /// Drops the leftmost branch (one that cannot run where the tree is).
    pub fn drop_first(&mut self) {
        let b = self.branches.remove(0);
        self.size -= b.size;
    }

    /// Inserts the sequence `w` (insert_[E](w, wut) of the JACM paper): find the first node
    /// `u` in post-order whose sequence is a weak prefix of `w` (`u ⊑ w`). When nothing of
    /// `w` is left after `u`, `w` is covered; otherwise the rest of `w` hangs under `u` as
    /// a new rightmost branch, unless `u` is a leaf that `at_leaf` says covers it (see
    /// `insert_in`).
    pub fn insert(&mut self, w: Vec<WakeStep>, at_leaf: AtLeaf) -> Inserted {
        match insert_in(&mut self.branches, &w, at_leaf) {
            Some(Inserted::Added) => {
                self.size = self.branches.iter().map(|b| b.size).sum();
                Inserted::Added
            }
            Some(Inserted::Covered) => Inserted::Covered,
            None => {
                if !w.is_empty() {
                    self.push(chain(w));
                }
                Inserted::Added
            }
        }
    }

    /// Removes the branches that start with `choice` and returns what follows it in
    /// them, in order: the wakeup tree of the state after `choice`.
    pub fn take_branches(&mut self, choice: Choice) -> WakeupTree {
        let mut rest = WakeupTree::default();
        let mut kept = Vec::with_capacity(self.branches.len());
        for b in std::mem::take(&mut self.branches) {
            if b.step.choice == choice {
                self.size -= b.size;
                for c in Arc::unwrap_or_clone(b.children) {
                    rest.push(c);
                }
            } else {
                kept.push(b);
            }
        }
        self.branches = kept;
        rest
    }
}

/// Post-order search of `forest` for the first node that weakly prefixes `w`; inserts
/// the rest of `w` below it. `None`: no node in this forest matched.
///
/// A leaf that weakly prefixes `w` covers it in the paper (the leaf's subtree is to
/// explore some continuation of `w`, and the races found there lead to `w`'s class).
/// With blocking, which its model leaves out, that lost classes: the continuation that
/// the leaf's subtree picks can let a semaphore go to the other thread (or block a
/// spinning one), and the race that would reach `w`'s class is then skipped because of a
/// sleeping thread (found by `dpor_agrees_with_sleep_sets_on_bigger_scenarios`, on the
/// library, and by `dpor_agrees_with_sleep_sets_on_memory_steps` with spin loops; locks
/// that `with` blocks take and release are safe, explorer.rs `leaf_covers`). There the leaf gets
/// the rest of `w` as a child ([`AtLeaf::IsFollowed`]), which costs no execution when it
/// was the continuation anyway, but grows the trees that a parallel search's tasks start
/// from, and so the work it does again (docs/performance.md).
fn insert_in(forest: &mut [WakeNode], w: &[WakeStep], at_leaf: AtLeaf) -> Option<Inserted> {
    // The descent: at each level the first node that weakly prefixes what is left.
    let mut left: VecDeque<usize> = (0..w.len()).collect();
    let mut path = vec![];
    let mut level: &[WakeNode] = forest;
    while let Some(i) = level.iter().position(|n| consume(&n.step, w, &mut left)) {
        path.push(i);
        level = &level[i].children;
    }
    let (&last, above) = path.split_last()?;
    if left.is_empty() {
        return Some(Inserted::Covered);
    }
    let mut level: &[WakeNode] = forest;
    for &i in above {
        level = &level[i].children;
    }
    if at_leaf == AtLeaf::Covers && level[last].children.is_empty() {
        return Some(Inserted::Covered);
    }
    let added = chain(left.iter().map(|&j| w[j].clone()).collect());
    let mut level = forest;
    for &i in above {
        level[i].size += added.size;
        level = Arc::make_mut(&mut level[i].children).as_mut_slice();
    }
    level[last].size += added.size;
    Arc::make_mut(&mut level[last].children).push(added);
    Some(Inserted::Added)
}

fn chain(w: Vec<WakeStep>) -> WakeNode {
    let mut it = w.into_iter().rev();
    let mut node = WakeNode::leaf(it.next().expect("chain of a non-empty sequence"));
    for s in it {
        node = WakeNode {
            step: s,
            size: node.size + 1,
            children: Arc::new(vec![node]),
        };
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Touch;

    fn step(thread: ThreadId, cells: &[(u32, bool)]) -> WakeStep {
        let mut fp = Footprint::new();
        for (c, w) in cells {
            fp.push(Touch::Cell {
                cell: *c,
                write: *w,
            });
        }
        WakeStep {
            choice: Choice { thread, alt: 0 },
            fp,
        }
    }

    fn shape(t: &WakeupTree) -> String {
        fn go(n: &WakeNode, out: &mut String) {
            out.push_str(&n.step.choice.thread.to_string());
            if !n.children.is_empty() {
                out.push('(');
                for (i, c) in n.children.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    go(c, out);
                }
                out.push(')');
            }
        }
        let mut s = String::new();
        for (i, b) in t.branches.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            go(b, &mut s);
        }
        s
    }

    #[test]
    fn a_leaf_that_commutes_into_the_sequence_is_followed_by_its_rest() {
        let mut t = WakeupTree::default();
        // 1 writes x, 2 reads y: independent. The leaf [1] weakly prefixes [2, 1]
        // (1 starts it): the sequence goes on below the leaf, as 1 then 2.
        assert_eq!(
            t.insert(vec![step(1, &[(0, true)])], AtLeaf::IsFollowed),
            Inserted::Added
        );
        assert_eq!(
            t.insert(
                vec![step(2, &[(1, false)]), step(1, &[(0, true)])],
                AtLeaf::IsFollowed
            ),
            Inserted::Added
        );
        assert_eq!(shape(&t), "1(2)");
        // [1, 2] and [2, 1] are the same: nothing left to add.
        assert_eq!(
            t.insert(
                vec![step(1, &[(0, true)]), step(2, &[(1, false)])],
                AtLeaf::IsFollowed
            ),
            Inserted::Covered
        );
        assert_eq!(shape(&t), "1(2)");
    }

    #[test]
    fn a_leaf_that_weakly_prefixes_the_sequence_covers_it_in_the_papers_rule() {
        let mut t = WakeupTree::default();
        let leaf = vec![step(1, &[(0, true)])];
        assert_eq!(t.insert(leaf, AtLeaf::Covers), Inserted::Added);
        // As above, but the leaf stands for the sequence.
        let w = vec![step(2, &[(1, false)]), step(1, &[(0, true)])];
        assert_eq!(t.insert(w.clone(), AtLeaf::Covers), Inserted::Covered);
        assert_eq!(shape(&t), "1");
        // An inner node does not: the rest hangs below it as a new branch (3 writes what
        // 2 reads, so the leaf 3 does not prefix it).
        t.insert(
            vec![step(1, &[(0, true)]), step(3, &[(1, true)])],
            AtLeaf::IsFollowed,
        );
        assert_eq!(t.insert(w, AtLeaf::Covers), Inserted::Added);
        assert_eq!(shape(&t), "1(3 2)");
    }

    #[test]
    fn a_dependent_sequence_gets_its_own_branch() {
        let mut t = WakeupTree::default();
        t.insert(vec![step(1, &[(0, true)])], AtLeaf::IsFollowed);
        // 2 writes x first, then 1 writes x: 1 cannot start it and does not commute.
        assert_eq!(
            t.insert(
                vec![step(2, &[(0, true)]), step(1, &[(0, true)])],
                AtLeaf::IsFollowed
            ),
            Inserted::Added
        );
        assert_eq!(shape(&t), "1 2(1)");
    }

    #[test]
    fn insertion_extends_an_inner_node() {
        let mut t = WakeupTree::default();
        t.insert(
            vec![step(1, &[(0, true)]), step(2, &[(0, true)])],
            AtLeaf::IsFollowed,
        );
        // 1 starts the new sequence; after it, 3 then 2 differs from the leaf 2.
        t.insert(
            vec![
                step(1, &[(0, true)]),
                step(3, &[(0, true)]),
                step(2, &[(0, true)]),
            ],
            AtLeaf::IsFollowed,
        );
        assert_eq!(shape(&t), "1(2 3(2))");
        // Weak initials: 4 touches nothing of the sequence.
        let w = vec![step(1, &[(0, true)]), step(2, &[(0, false)])];
        assert!(weak_initial(&w, 4, &step(4, &[(5, true)]).fp));
        assert!(weak_initial(&w, 1, &w[0].fp));
        assert!(!weak_initial(&w, 2, &w[1].fp));
        assert!(!weak_initial(&w, 4, &step(4, &[(0, false)]).fp));
    }

    /// The sizes kept for the memory estimate are the forest's node counts, through
    /// insertions (new branches, extended inner nodes, covered sequences), taking a
    /// branch, and dropping one.
    #[test]
    fn the_kept_sizes_count_the_nodes() {
        fn count(b: &[WakeNode]) -> u64 {
            b.iter().map(|n| 1 + count(&n.children)).sum()
        }
        fn check(t: &WakeupTree) {
            assert_eq!(t.size(), count(&t.branches), "{}", shape(t));
            fn inner(b: &[WakeNode]) {
                for n in b {
                    assert_eq!(n.size, 1 + count(&n.children));
                    inner(&n.children);
                }
            }
            inner(&t.branches);
        }
        let mut t = WakeupTree::default();
        let seqs: Vec<Vec<WakeStep>> = vec![
            vec![step(1, &[(0, true)]), step(2, &[(0, true)])],
            vec![
                step(1, &[(0, true)]),
                step(3, &[(0, true)]),
                step(2, &[(0, true)]),
            ],
            vec![step(2, &[(1, false)]), step(1, &[(0, true)])],
            vec![step(1, &[(0, true)]), step(2, &[(0, true)])],
            vec![
                step(4, &[(0, true)]),
                step(3, &[(0, true)]),
                step(1, &[(0, true)]),
            ],
            vec![step(5, &[(7, true)])],
        ];
        for w in seqs {
            t.insert(w, AtLeaf::IsFollowed);
            check(&t);
        }
        // 5 touches nothing of the others: it goes on below the first leaf it follows.
        assert_eq!(shape(&t), "1(2(5) 3(2)) 4(3(1))");
        let mut child = t.take_branches(Choice { thread: 1, alt: 0 });
        check(&t);
        check(&child);
        assert_eq!(child.size(), 4);
        child.insert(
            vec![step(2, &[(0, true)]), step(6, &[(0, true)])],
            AtLeaf::IsFollowed,
        );
        check(&child);
        t.drop_first();
        check(&t);
        assert_eq!((shape(&t), t.size()), (String::new(), 0));
    }
}
