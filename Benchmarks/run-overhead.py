#!/usr/bin/env python3
"""Overhead of `canceltrace run` (Docs/Performance.md): the churn workload in plain Swift, built with swiftc -O,
run alone, with the preload library loaded but not recording ("hooks"), and under the library recording
("run"), alternating, ROUNDS times; prints each median and the ratios to the plain runs.

Usage: python3 Benchmarks/run-overhead.py [ROUNDS], after
`swift build -c release --product CancelTracePreload --scratch-path .build-bench` (or without --scratch-path: the
library in .build-bench is used when it exists, else the one in .build)."""
import os, statistics, subprocess, sys, tempfile, time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 21
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
library = os.path.join(root, ".build-bench", "release", "libCancelTracePreload.so")
if not os.path.exists(library):
    library = os.path.join(root, ".build", "release", "libCancelTracePreload.so")
print(f"library: {os.path.relpath(library, root)}")
work = tempfile.mkdtemp(prefix="run-overhead-")
binary = os.path.join(work, "churn")
subprocess.run(["swiftc", "-O", os.path.join(root, "Benchmarks", "RunChurn", "main.swift"), "-o", binary], check=True)

def once(mode):
    env = dict(os.environ)
    if mode != "plain":
        env["LD_PRELOAD"] = library  # "hooks": loaded, forwarding every call, recording nothing
    if mode == "run":
        env["CANCELTRACE_OUTPUT"] = work
    start = time.monotonic_ns()
    child = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    assert status == 0, status
    cpu = (usage.ru_utime + usage.ru_stime) * 1e9
    # the workload's wall time inside, the whole process's wall time, its CPU time (all threads, the writer's too)
    return int(out.strip()), time.monotonic_ns() - start, cpu

results = {"plain": [], "hooks": [], "run": []}
for _ in range(rounds):
    for mode in results:
        results[mode].append(once(mode))
plain = results["plain"]
for label, index in (("workload wall", 0), ("process wall (start to exit, trace flushed)", 1),
                     ("process CPU (user + system, all threads)", 2)):
    p = statistics.median(x[index] for x in plain) / 1e6
    print(f"{label}: plain {p:.1f} ms")
    for mode in ("hooks", "run"):
        t = statistics.median(x[index] for x in results[mode]) / 1e6
        ratios = sorted(t_[index] / p_[index] for p_, t_ in zip(plain, results[mode]))
        q = lambda f: ratios[min(len(ratios) - 1, int(f * len(ratios)))]
        print(f"  {mode:5}: {t:.1f} ms, ratio of medians {t / p:.2f}x, pairwise ratios p25/p50/p75 "
              f"{q(0.25):.2f}/{statistics.median(ratios):.2f}/{q(0.75):.2f}")
traces = [f for f in os.listdir(work) if f.endswith(".ctrace")]
size = sum(os.path.getsize(os.path.join(work, f)) for f in traces) / len(traces)
print(f"trace: {size / 1024:.0f} KiB per run ({len(traces)} files)")
