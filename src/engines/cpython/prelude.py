# ---------------------------------------------------------------------------------------
# How the scenario language maps onto Python. Everything below this block up to the
# scenario's own code is the same for every scenario.
# ---------------------------------------------------------------------------------------
import faulthandler
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import multiprocessing.queues
import os
import queue
import random
import re
import signal
import sys
import threading
import time
import traceback

_local = threading.local()  # per thread: its random source (seeded), run and steps
_run = 0                     # the number of the current run; a thread of an older run stops
_failures = []               # failures of the current run's threads
_progress = None             # per process instance: steps taken (shared memory)
_steps = [0]                 # steps taken in this run (an estimate: statements and reads)
_ctx = multiprocessing.get_context(START_METHOD) if USES_PROCESSES else None
_gate = threading.Event()    # set once every party the scenario starts has started
_gate.set()
_unstarted = set()           # the [[process]] tables of this run not started yet


class _Abandoned(BaseException):
    """Raised in a thread of a run that is over (deadlocked, failed or stopped)."""


def _switch():
    """Before each statement and after each shared read: a seeded chance to switch."""
    loc = _local
    if getattr(loc, "run", _run) != _run:
        raise _Abandoned()
    _steps[0] += 1
    if _progress is not None and hasattr(loc, "slot"):
        _progress[loc.slot] += 1
    if HAS_INVARIANT and not _ghosting:
        invariant()
    rng = getattr(loc, "rng", None)
    if rng is not None:
        x = rng.random()
        if x < 0.2:
            time.sleep(0)
        elif x < 0.25:
            time.sleep(rng.uniform(1e-6, 5e-5))


_ghosting = set()  # threads in the middle of [ghost] updates (one step in the model)


def _ghost(on):
    """Around consecutive [ghost] updates: the model runs them at once, so an invariant
    is not checked while a thread is between them."""
    if on:
        _ghosting.add(threading.get_ident())
    else:
        _ghosting.discard(threading.get_ident())


def _r(value):
    """A shared read: the value is read, then a chance to switch (before the write)."""
    _switch()
    return value


def _t(seconds):
    """A timeout of the scenario, shortened: timing out is what matters, not how long. A
    negative one is kept as it is (a Lock's -1 waits as long as it takes)."""
    if seconds is None or seconds < 0:
        return seconds
    return seconds * TIMEOUT_SCALE


def choose(lo, hi):
    """Any integer from lo to hi: the explorer tries each; here one at random."""
    rng = getattr(_local, "rng", None) or random
    return rng.randint(lo, hi)


def sleep(seconds):
    """I/O time for the timing model (`simrace time`)."""
    time.sleep(seconds * TIME_SCALE)


def work(seconds):
    """CPU time for the timing model (`simrace time`): a loop of as many rounds as this
    machine runs in `seconds` on one core, so that it is work, not a wait on the clock:
    two threads sharing a GIL take turns and need twice as long; two processes do not.
    A negative time is a ValueError, as `time.sleep`'s is."""
    if seconds < 0:
        raise ValueError("work length must be non-negative")
    if TIME_SCALE:
        _rounds(int(seconds * TIME_SCALE * _work_rate()))


def _rounds(n):
    x = 0
    for i in range(n):
        x += i
    return x


_WORK_RATE = []  # rounds of _rounds per second on one core, measured once


def _work_rate():
    """How many rounds this machine runs in a second: the best of five tries (the least
    disturbed), measured once by the main program and handed to its processes (with
    spawn too) in the environment."""
    if not _WORK_RATE:
        rate = float(os.environ.get("SIMRACE_WORK_RATE", "0"))
        if not rate:
            n = 200000
            best = None
            for _ in range(5):
                t = time.perf_counter()
                _rounds(n)
                t = time.perf_counter() - t
                best = t if best is None else min(best, t)
            rate = n / best
            os.environ["SIMRACE_WORK_RATE"] = repr(rate)
        _WORK_RATE.append(rate)
    return _WORK_RATE[0]


_cas_lock = threading.Lock()


def _cas(cells, key, expected, new):
    """cas(x, expected, new): x = new when x == expected (one indivisible step)."""
    with _cas_lock:
        if cells[key] == expected:
            cells[key] = new
            return True
        return False


class _Atomic:
    """`with atomic:` - one indivisible block: one global lock, and no switch inside."""

    def __init__(self):
        self._lock = threading.RLock()

    def __enter__(self):
        self._lock.acquire()
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)

    def __exit__(self, *exc):
        sys.setswitchinterval(self._interval)
        self._lock.release()


atomic = _Atomic()


class Queue(queue.Queue):
    """queue.Queue as the scenario language has it: the non-blocking and timeout forms
    of get give None, and of put give False, instead of raising queue.Empty/Full."""

    def get(self, block=True, timeout=None):
        try:
            return super().get(block, timeout)
        except queue.Empty:
            return None

    def put(self, item, block=True, timeout=None):
        try:
            super().put(item, block, timeout)
            return True
        except queue.Full:
            return False


if USES_PROCESSES:

    class JoinableQueue(multiprocessing.queues.JoinableQueue):
        """multiprocessing's JoinableQueue, with Queue's non-raising forms (above)."""

        def __init__(self, maxsize=0):
            super().__init__(maxsize, ctx=_ctx)

        def get(self, block=True, timeout=None):
            try:
                return super().get(block, timeout)
            except queue.Empty:
                return None

        def put(self, obj, block=True, timeout=None):
            try:
                super().put(obj, block, timeout)
                return True
            except queue.Full:
                return False


if USES_PROCESSES:
    import multiprocessing.pool

    class Pool(multiprocessing.pool.Pool):
        """multiprocessing's Pool, with the scenario's start method. Its workers start from
        the file's values (memory()), whatever the start method, as the scenario format
        has it, and get the run's objects. apply_async gives an AsyncResult (below)."""

        def __init__(self, processes):
            super().__init__(processes, initializer=_pool_worker,
                             initargs=(_shareable_objects(),), context=_ctx)

        def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
            return AsyncResult(super().apply_async(func, args, kwds, callback, error_callback))

    class AsyncResult:
        """multiprocessing's AsyncResult, but get(timeout=t) gives None when it times
        out, instead of raising multiprocessing.TimeoutError."""

        def __init__(self, result):
            self._result = result

        def get(self, timeout=None):
            try:
                return self._result.get(timeout)
            except multiprocessing.TimeoutError:
                return None

        def wait(self, timeout=None):
            self._result.wait(timeout)

        def ready(self):
            return self._result.ready()

        def successful(self):
            return self._result.successful()


def _shareable_objects():
    """The run's objects that a process may be given (a Pool may not: objects() makes
    the pools last, and a pool being made is not there yet)."""
    objs = {n: globals().get(n) for n in OBJECTS}
    return {n: o for n, o in objs.items() if o is not None and not _is_pool(o)}


def _is_pool(o):
    o = o[0] if isinstance(o, list) and o else o
    return USES_PROCESSES and isinstance(o, multiprocessing.pool.Pool)


def _own_process(objs):
    """In a process of its own: the run's objects, and no [invariant] (it is about the
    main program's memory, which a process never sees)."""
    global HAS_INVARIANT
    globals().update(objs)
    HAS_INVARIANT = False


def _pool_worker(objs):
    """A Pool worker's start: the file's values, the run's objects."""
    memory()
    _own_process(objs)


def _locked(lock):
    """`lock.locked()`: threading's Lock has it, multiprocessing's (Python 3.11) does not;
    its semaphore's value says it (0: held), and where that is not available (macOS), a
    non-blocking acquire does."""
    f = getattr(lock, "locked", None)
    if f is not None:
        return f()
    try:
        return lock._semlock._get_value() == 0
    except (AttributeError, NotImplementedError):
        if lock.acquire(False):
            lock.release()
            return False
        return True


def _end_pools():
    """At the end of a run, its pools stop (their workers are daemons). CPython 3.11's
    terminate() can hang for good (a worker killed while it holds the result queue's
    lock leaves the pool's task handler waiting for it), so each runs in a thread of
    its own for at most a second, and one that hangs is left behind."""
    for n in OBJECTS:
        o = globals()[n]
        if _is_pool(o):
            for p in (o if isinstance(o, list) else [o]):
                ender = threading.Thread(target=p.terminate, daemon=True)
                ender.start()
                ender.join(1.0)


class Party:
    """A `[[thread]]` or `[[process]]` table: start(), join(), is_alive(), terminate()
    and kill() act on every instance; party[i] is instance i (a Thread or a Process)."""

    def __init__(self, name, code, count=None, process=False, daemon=False, start=True):
        self.name, self.process, self.daemon, self.start_now = name, process, daemon, start
        names = [name] if count is None else ["%s[%d]" % (name, i) for i in range(count)]
        self.instances = [_make(code, name, n, i, process, daemon)
                          for i, n in enumerate(names)]

    def __getitem__(self, i):
        return self.instances[i]

    def __len__(self):
        return len(self.instances)

    def start(self):
        for t in self.instances:
            t.start()
        if self.process:
            _unstarted.discard(self.name)
            _close_ready_ends()

    def join(self, timeout=None):
        for t in self.instances:
            t.join(timeout)

    def is_alive(self):
        return any(t.is_alive() for t in self.instances)

    def terminate(self):
        for t in self.instances:
            t.terminate()

    def kill(self):
        for t in self.instances:
            t.kill()

    @property
    def exitcode(self):
        return self.instances[0].exitcode


_seed = 0
_slots = [0]
_reports = None
_quiet = False  # --json: no formatted tracebacks


def _make(code, party, name, tid, process, daemon):
    seed = "%d/%d/%s" % (_seed, _run, name)  # a str seed: the same in every Python
    if not process:
        return threading.Thread(target=_thread_main, args=(code, name, tid, seed, _run),
                                name=name, daemon=True)
    slot = _slots[0] % 64
    _slots[0] += 1
    objs = _shareable_objects()
    p = _ctx.Process(target=_process_main, name=name, daemon=daemon,
                     args=(code, party, name, tid, seed, _run, objs, _reports, _progress,
                           slot))
    p._simrace_slot = slot
    return p


def _frames(tb_or_frame, is_tb=True):
    """The frames of this program's own code, outermost first: [line, text, function]."""
    stack = traceback.extract_tb(tb_or_frame) if is_tb else traceback.extract_stack(tb_or_frame)
    here = os.path.abspath(__file__)
    return [[f.lineno, f.line, f.name] for f in stack if os.path.abspath(f.filename) == here]


def _failure(name, e):
    stack = traceback.extract_tb(e.__traceback__)
    inner = stack[-1] if stack else None
    # Without addresses ("<... object at 0x7f...>"), which differ from run to run and
    # would make one failure many.
    msg = re.sub(r" at 0x[0-9a-fA-F]+>", ">", str(e))
    return {"party": name, "exc": type(e).__name__, "msg": msg,
            "frames": _frames(e.__traceback__),
            "tb": "" if _quiet else "".join(traceback.format_exception(e)),
            "inner": [inner.filename, inner.lineno, inner.name] if inner else None}


def _thread_main(code, name, tid, seed, run):
    # The scenario starts its parties together: none runs before all are started (else a
    # thread could join a sibling that is not started yet, which the model never does).
    _gate.wait()
    _local.rng = random.Random(seed)
    _local.run = run
    try:
        code(tid)
    except _Abandoned:
        pass
    except BaseException as e:
        if run == _run:
            _failures.append(_failure(name, e))


def _close_unused_ends(used):
    """A Pipe end is one end for the whole program, as the scenario has it: so every
    process closes its copies of the ends it never uses (else end of file never comes)."""
    for pipe, ends in used.items():
        for end in (0, 1):
            if end not in ends:
                globals()[pipe][end].close()


def _close_ready_ends():
    """In the main program: its copies of the Pipe ends that processes use and no thread
    does are closed once every process that uses them has started (a child has its own
    copy by then), so that end of file comes when the processes close theirs, as the
    scenario has it."""
    if not USES_PROCESSES or multiprocessing.parent_process() is not None:
        return
    for pipe, users in PIPE_ENDS.items():
        for end in (0, 1):
            if end in THREAD_PIPE_ENDS.get(pipe, []):
                continue
            owners = [party for party, ends in users.items() if end in ends]
            # An end that no party uses stays open, as in the scenario: nobody closes it.
            if not owners or any(party in _unstarted for party in owners):
                continue
            globals()[pipe][end].close()


def _process_main(code, party, name, tid, seed, run, objs, reports, progress, slot):
    global _run, _progress
    if START_METHOD == "spawn":
        memory()  # a spawned process starts from the file's values
    _own_process(objs)
    _close_unused_ends({pipe: users.get(party, []) for pipe, users in PIPE_ENDS.items()})
    _run, _progress = run, progress
    _local.rng, _local.run, _local.slot = random.Random(seed), run, slot
    if hasattr(signal, "SIGUSR1"):
        _local.stackfile = open(_stack_file(os.getpid()), "w")
        faulthandler.register(signal.SIGUSR1, file=_local.stackfile, all_threads=False)
    try:
        code(tid)
    except BaseException as e:
        if reports is not None:
            reports.put(_failure(name, e))
        else:
            traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)


def _stack_file(pid):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "stack-%d.txt" % pid)


def _where(p, t, frames):
    """Where instance t of party p is: its frames in this program, and what it waits in."""
    if not p.process:
        f = frames.get(t.ident)
        if f is None:
            return {"party": t.name, "frames": [], "in": None}
        top = f.f_code
        return {"party": t.name, "frames": _frames(f, False),
                "in": None if os.path.abspath(top.co_filename) == os.path.abspath(__file__)
                else "%s (%s)" % (top.co_name, os.path.basename(top.co_filename))}
    # A process: ask it for its stack (faulthandler, SIGUSR1) and read its own lines.
    out = {"party": t.name, "frames": [], "in": None}
    if not hasattr(signal, "SIGUSR1"):
        return out
    path = _stack_file(t.pid)
    try:
        os.kill(t.pid, signal.SIGUSR1)
        time.sleep(0.05)
        with open(path) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return out
    here = os.path.abspath(__file__)
    src = _source_lines()
    first = True
    for ln in lines:
        ln = ln.strip()
        if not ln.startswith('File "'):
            continue
        fname, rest = ln[6:].split('"', 1)
        parts = rest.split()
        lineno = int(parts[2]) if len(parts) > 2 and parts[1] == "line" else 0
        func = parts[-1]
        if os.path.abspath(fname) == here:
            out["frames"].insert(0, [lineno, src[lineno - 1].strip() if lineno else "", func])
        elif first:
            out["in"] = "%s (%s)" % (func, os.path.basename(fname))
        first = False
    return out


def _source_lines():
    with open(__file__) as fh:
        return fh.read().splitlines()


def _snapshot(insts, frames):
    snap = []
    for p, t in insts:
        if not _running(t):  # never is_alive() on a process: it reaps (see _running)
            snap.append(None)
        elif p.process:
            n = _progress[t._simrace_slot] if _progress is not None else 0
            # Not at its first step yet (a spawned process is still starting): moving.
            snap.append(("p", n if n else time.monotonic()))
        else:
            f = frames.get(t.ident)
            snap.append((id(f.f_code), f.f_lasti, _in_proxy_call(f)) if f is not None else None)
    return snap


def _in_proxy_call(f):
    """A manager proxy's call always returns: a thread waiting for one is moving."""
    for _ in range(8):
        if f is None:
            return False
        if f.f_code.co_name == "_callmethod":
            return time.monotonic()
        f = f.f_back
    return False


def _running(t):
    """Is instance t started and not ended? A process is asked through its sentinel,
    never by waiting for it: reaping it here would race with the scenario's own join()
    or exitcode in another thread (CPython's Popen.poll is not thread-safe: the loser
    of two waitpid calls sees no exit code, and a join() returns with exitcode None)."""
    if t.ident is None:
        return False
    if isinstance(t, multiprocessing.process.BaseProcess):
        return not multiprocessing.connection.wait([t.sentinel], 0)
    return t.is_alive()


def _await(t, timeout):
    """Waits up to timeout for instance t to end, without reaping a process (see
    _running)."""
    if isinstance(t, multiprocessing.process.BaseProcess):
        multiprocessing.connection.wait([t.sentinel], timeout)
    else:
        t.join(timeout)


# How many looks in a row must find every unfinished instance where it was before the
# watchdog calls the run a deadlock (besides the time, see _wait).
STILL_POLLS = 20


def _wait(parties, budget, stable_for, max_steps):
    """Waits for every started non-daemon instance. None when they all ended; else
    ("deadlock" or "livelock", where every unfinished instance is)."""
    insts = [(p, t) for p in parties for t in p.instances]
    waited = [t for p, t in insts if not p.daemon]
    start = time.monotonic()
    last, since, polls = None, None, 0
    while True:
        if _failures:
            return None
        alive = [t for t in waited if _running(t)]
        if not alive:
            return None
        _await(alive[0], 0.002 if STRESS else 0.05)  # unstressed: leave the GIL to the run
        now = time.monotonic()
        frames = sys._current_frames()
        # With the run's step count: a thread that polls with a timeout sits in the
        # same frame of threading.py at nearly every look, yet it moves.
        snap = (_snapshot(insts, frames), _steps[0])
        # Never hold another thread's frame while it runs: CPython 3.11 can crash
        # (SIGSEGV) when a thread pops a frame that another one holds. Three in eight
        # runs of 4,000 iterations of locked_counter.toml did before these dels.
        del frames
        if snap != last:
            last, since, polls = snap, now, 0
        polls += 1
        kind = None
        # Still for stable_for seconds and for STILL_POLLS looks, each after leaving the
        # GIL to the run: on a loaded machine the whole process may not run for longer
        # than stable_for, and a thread that was never scheduled has not stopped.
        if stable_for is not None and now - since >= stable_for and polls >= STILL_POLLS:
            kind = "deadlock"
        elif now - start >= budget or (max_steps and _steps[0] > max_steps):
            kind = "livelock" if stable_for is not None else "stuck"
        if kind is not None:
            running = [(p, t) for p, t in insts if _running(t)]
            frames = sys._current_frames()
            where = [_where(p, t, frames) if not p.process else None for p, t in running]
            del frames  # before the processes are asked, which takes a while
            stuck = [(p, w or _where(p, t, None)) for (p, t), w in zip(running, where)]
            if kind == "deadlock" and any(p.process and not w["frames"] for p, w in stuck):
                # A process outside the scenario's code is starting or ending (slowly,
                # on a busy machine): not stuck yet.
                last, since, polls = None, time.monotonic(), 0
                continue
            return (kind, [w for _, w in stuck])


def _settle(parties):
    """Waits (a little) until every thread of the run that is over has stopped or is
    blocked for good, so that none of them touches the next run's memory."""
    threads = [t for p in parties if not p.process for t in p.instances
               if t.ident is not None and t.is_alive()]
    last, end = None, time.monotonic() + 0.5
    while threads and time.monotonic() < end:
        time.sleep(0.005)
        threads = [t for t in threads if t.is_alive()]
        frames = sys._current_frames()
        snap = [(id(f.f_code), f.f_lasti) if f is not None else None
                for f in (frames.get(t.ident) for t in threads)]
        del frames
        if snap == last:
            return
        last = snap


def _run_once(budget, stable_for, max_steps):
    """One run: fresh memory and objects, the parties started, waited for, checked."""
    global _run
    _run += 1
    del _failures[:]
    _ghosting.clear()
    _steps[0] = 0
    memory()
    start = time.perf_counter()  # the wall time: from the objects (a Pool starts there)
    objects()
    parties = make_parties()
    _unstarted.clear()
    _unstarted.update(p.name for p in parties if p.process)
    _gate.clear()
    for p in parties:
        if p.start_now:
            p.start()
    _close_ready_ends()
    _gate.set()
    stuck = _wait(parties, budget, stable_for, max_steps)
    wall = time.perf_counter() - start  # to the end of the last non-daemon party
    _run += 1  # threads still running belong to a run that is over: they stop
    _settle(parties)
    _end_pools()
    for p in parties:
        if p.process:
            for t in p.instances:
                if t.ident is not None and t.is_alive():
                    t.kill()
                if t.ident is not None:
                    t.join(1)
    failures = list(_failures)
    if _reports is not None:
        while not _reports.empty():
            failures.append(_reports.get())
    result = {"failures": failures, "stuck": None, "outcome": None, "wall": wall}
    if stuck is not None:
        result["stuck"] = {"kind": stuck[0], "where": stuck[1]}
    elif not failures:
        try:
            result["outcome"] = observe()
            final()
        except BaseException as e:
            result["failures"].append(_failure("final", e))
    return result


def _describe(r):
    """One run's result in words (when the program is run by hand)."""
    lines = []
    for f in r["failures"]:
        at = " (line %d: %s)" % (f["frames"][-1][0], f["frames"][-1][1]) if f["frames"] else ""
        lines.append("%s failed%s: %s: %s" % (f["party"], at, f["exc"], f["msg"]))
        lines.append(f["tb"].rstrip())
    if r["stuck"]:
        lines.append("%s: the program did not finish; where every thread is:" % r["stuck"]["kind"])
        for w in r["stuck"]["where"]:
            at = w["frames"][-1] if w["frames"] else None
            lines.append("  %s at line %s: %s%s" % (w["party"], at[0] if at else "?",
                                                    at[1] if at else "?",
                                                    (" (waiting in %s)" % w["in"]) if w["in"] else ""))
    if r["outcome"] is not None:
        values = ", ".join("%s = %r" % (n, v) for n, v in zip(OBSERVE, r["outcome"]))
        lines.append("finished: " + values if values else "finished")
    return "\n".join(lines)


def main():
    global _seed, _progress, _reports, _quiet
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1, help="how many runs (default 1)")
    ap.add_argument("--duration", type=float, default=None,
                    help="run for this many seconds instead (at least one run)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budget", type=float, default=2.0,
                    help="seconds a run may take before it counts as stuck")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON line per run")
    args = ap.parse_args()
    _seed, _quiet = args.seed, args.json
    if USES_PROCESSES:
        multiprocessing.set_start_method(START_METHOD, force=True)
    if TIME_SCALE:
        _work_rate()  # before any run: measured alone
    stable_for = None
    if STRESS:
        sys.setswitchinterval(1e-6)
        stable_for = 1.0 if USES_PROCESSES else 0.1
    budget = args.budget * 3 if USES_PROCESSES else args.budget
    out = sys.stdout
    if args.json:
        sys.stdout = open(os.devnull, "w")  # what the scenario prints is not a result
    manager = None
    if USES_PROCESSES:
        _reports = _ctx.SimpleQueue()
        _progress = _ctx.RawArray("q", 64)
    if USES_MANAGER:
        manager = _ctx.Manager()
        globals()["_manager"] = manager
    start = time.monotonic()
    i = 0
    while True:
        if args.duration is None and i >= args.runs:
            break
        if args.duration is not None and i > 0 and time.monotonic() - start >= args.duration:
            break
        _slots[0] = 0
        r = _run_once(budget, stable_for, args.max_steps)
        if args.json:
            out.write(json.dumps(r) + "\n")
            out.flush()
        else:
            out.write(_describe(r) + "\n")
        i += 1
    out.flush()
    if manager is not None:
        manager.shutdown()
    os._exit(0)
