#!/usr/bin/env python3
"""Overhead of `canceltrace run` (Docs/Performance.md): the churn workload in plain Swift, built with swiftc -O,
run alone and under the preload library, alternating, ROUNDS times; prints each median and their ratio.

Usage: python3 Benchmarks/run-overhead.py [ROUNDS] (after `swift build`; run from the package root)."""
import os, statistics, subprocess, sys, tempfile, time

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
library = os.path.join(root, ".build", "debug", "libCancelTracePreload.so")
work = tempfile.mkdtemp(prefix="run-overhead-")
binary = os.path.join(work, "churn")
subprocess.run(["swiftc", "-O", os.path.join(root, "Benchmarks", "RunChurn", "main.swift"), "-o", binary], check=True)

def once(traced):
    env = dict(os.environ)
    if traced:
        env["LD_PRELOAD"] = library
        env["CANCELTRACE_OUTPUT"] = work
    start = time.monotonic_ns()
    out = subprocess.run([binary], env=env, check=True, capture_output=True, text=True).stdout
    return int(out.strip()), time.monotonic_ns() - start  # the workload inside, the whole process

plain, traced = [], []
for _ in range(rounds):
    plain.append(once(False))
    traced.append(once(True))
for label, index in (("workload", 0), ("process (start to exit, trace flushed)", 1)):
    p = statistics.median(x[index] for x in plain) / 1e6
    t = statistics.median(x[index] for x in traced) / 1e6
    print(f"{label}: plain {p:.1f} ms, under run {t:.1f} ms, ratio {t / p:.2f}x")
traces = [f for f in os.listdir(work) if f.endswith(".ctrace")]
size = sum(os.path.getsize(os.path.join(work, f)) for f in traces) / len(traces)
print(f"trace: {size / 1024:.0f} KiB per run ({len(traces)} files)")
