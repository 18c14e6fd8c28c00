#!/usr/bin/env python3
"""Seed 002's seven programs on the real CPython, against what `simrace time` predicts.

    cargo build --release
    python3 benches/cpython_time.py                      # 5 rounds, about 1 minute
    python3 benches/cpython_time.py --rounds 9 --simrace target/debug/simrace

The programs are scenarios/timing/{cpu,io}_*.toml: two tasks, CPU-bound (`work(0.5)`) or
I/O-bound (`sleep(0.5)`), run one after the other, in two threads, in two processes, or
(CPU) in a Pool of two. For each one:

- `simrace time FILE --cores N --format json` (N: this machine's cores) gives the
  predicted wall time and speedup (`serial_ms / wall_ms`, serial_ms being the sum of
  every `work` and `sleep`);
- `simrace export --python FILE` writes the program, which is run on python3 with
  `--runs 1 --json`, once per round, the programs taking turns so that the machine's
  load falls on all of them alike. Unstressed, `work(t)` is a loop of as many rounds as
  this machine runs in t seconds on one core (calibrated when the program starts) and
  `sleep(t)` is `time.sleep(t)`; each run reports its wall time, from making the objects
  (a Pool's workers start there) to the end of the last party.

CPython's speedup is serial_ms over the median wall time; the ratio is simrace's
prediction over CPython's measured speedup. The goal is every ratio within 20% of 1.
The exit status is 0 when every ratio is, 1 when one is not.

On a machine that other work keeps busy (this one is shared), CPU-bound programs show
the others' load, not CPython: two processes cannot run in parallel on cores that other
builds hold. So a run counts only when a probe just before it and just after it finds
every core free (as many CPU-bound processes as cores, started together, each on a CPU
for at least 90% of its wall time); a disturbed run is thrown away and tried again,
after waiting for the machine to calm down, for at most `--patience` seconds in all.
After that, runs count as they come, and the table says how many were disturbed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROGRAMS = [
    "cpu_serial",
    "cpu_threads",
    "cpu_processes",
    "cpu_pool",
    "io_serial",
    "io_threads",
    "io_processes",
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_simrace():
    for profile in ("release", "debug"):
        p = os.path.join(ROOT, "target", profile, "simrace")
        if os.path.exists(p):
            return p
    sys.exit("no target/release/simrace or target/debug/simrace: run cargo build --release")


def predict(simrace, path, cores):
    """simrace time's run on `cores` cores: (wall_ms, serial_ms, speedup)."""
    out = subprocess.run([simrace, "time", path, "--cores", str(cores), "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    run = json.loads(out)["runs"][0]
    return run["wall_ms"], run["serial_ms"], run["speedup"]


def export(simrace, path, folder):
    out = os.path.join(folder, os.path.basename(path)[:-len(".toml")] + ".py")
    subprocess.run([simrace, "export", "--python", path, "-o", out], check=True)
    return out


PROBE = """
import sys, time
def rounds(n):
    x = 0
    for i in range(n):
        x += i
t, c = time.perf_counter(), time.process_time()
rounds(int(sys.argv[1]))
print((time.process_time() - c) / (time.perf_counter() - t))
"""


def share_of_a_core(python, cores):
    """The least share of a CPU that `cores` CPU-bound processes started together get."""
    ps = [subprocess.Popen([python, "-c", PROBE, "1500000"], stdout=subprocess.PIPE, text=True)
          for _ in range(cores)]
    return min(float(p.communicate()[0]) for p in ps)


class Quiet:
    """Waits for the machine to be quiet, within a patience for the whole benchmark."""

    def __init__(self, python, cores, patience):
        self.python, self.cores = python, cores
        self.deadline = time.monotonic() + patience

    def patient(self):
        return time.monotonic() < self.deadline

    def now(self):
        return share_of_a_core(self.python, self.cores) >= 0.9

    def wait(self):
        while self.patient() and not self.now():
            time.sleep(5)


def measure(python, program, quiet):
    """One undisturbed run of the program, if patience allows: (wall ms, disturbed)."""
    while True:
        quiet.wait()
        wall = run_once(python, program)
        if quiet.now():
            return wall, False
        if not quiet.patient():
            return wall, True


def run_once(python, program):
    """One run of the program: its wall time in ms."""
    out = subprocess.run([python, program, "--runs", "1", "--json", "--budget", "60"],
                         check=True, capture_output=True, text=True,
                         cwd=os.path.dirname(program)).stdout
    result = json.loads(out.splitlines()[-1])
    if result["failures"] or result["stuck"]:
        sys.exit("%s did not run cleanly: %s" % (program, out))
    return result["wall"] * 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--simrace", default=None, help="the simrace binary")
    ap.add_argument("--python", default="python3")
    ap.add_argument("--rounds", type=int, default=5, help="runs of each program (median)")
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--patience", type=float, default=600,
                    help="seconds to wait in all for a quiet machine (default 600)")
    args = ap.parse_args()
    simrace = args.simrace or default_simrace()
    print("python: %s; cores: %d; load average before: %.2f %.2f %.2f"
          % (subprocess.run([args.python, "--version"], capture_output=True,
                            text=True).stdout.strip(), args.cores, *os.getloadavg()))
    quiet = Quiet(args.python, args.cores, args.patience)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for name in PROGRAMS:
            path = os.path.join(ROOT, "scenarios", "timing", name + ".toml")
            files[name] = (predict(simrace, path, args.cores), export(simrace, path, folder))
        walls = {name: [] for name in PROGRAMS}
        disturbed = {name: 0 for name in PROGRAMS}
        for r in range(args.rounds):
            for name in PROGRAMS:
                wall, bad = measure(args.python, files[name][1], quiet)
                walls[name].append(wall)
                disturbed[name] += bad
            print("round %d of %d done" % (r + 1, args.rounds), file=sys.stderr)
        for name in PROGRAMS:
            (sim_wall, serial, sim_speedup), _ = files[name]
            wall = statistics.median(walls[name])
            speedup = serial / wall
            rows.append((name, wall, min(walls[name]), max(walls[name]), disturbed[name],
                         speedup, sim_wall, sim_speedup, sim_speedup / speedup))
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    print()
    print("| program | CPython wall ms (median; min-max; disturbed runs) | CPython speedup "
          "| simrace wall ms | simrace speedup | simrace / CPython |")
    print("|---|---|---|---|---|---|")
    off = 0
    for name, wall, lo, hi, bad, speedup, sim_wall, sim_speedup, ratio in rows:
        mark = "" if abs(ratio - 1) <= 0.2 else " (off by more than 20%)"
        off += bool(mark)
        print("| %s | %.0f (%.0f-%.0f; %d) | %.2f | %.0f | %.2f | %.2f%s |"
              % (name, wall, lo, hi, bad, speedup, sim_wall, sim_speedup, ratio, mark))
    print()
    print("%d of %d predictions within 20%% of CPython's speedup (%d rounds, medians)"
          % (len(rows) - off, len(rows), args.rounds))
    sys.exit(1 if off else 0)


if __name__ == "__main__":
    main()
