#!/usr/bin/env python3
"""Overhead of `canceltrace run` (Docs/Performance.md): the churn workload in plain Swift, built with swiftc -O,
run alone, with the preload library loaded but not recording ("hooks"), and under the library recording
("run"), alternating, ROUNDS times; prints each median and the ratios to the plain runs.

Usage: python3 Benchmarks/run-overhead.py [ROUNDS] [--threads N] [--old-library OLD.so], after
`swift build -c release --product CancelTracePreload --scratch-path .build-bench` (or without --scratch-path: the
library in .build-bench is used when it exists, else the one in .build). --threads N spawns and cancels the tasks
from N OS threads at once (the hooks then run on N threads); --old-library adds a fourth way, "old": recording
with another build of the library (side by side with the current one).

`--emit [ROUNDS] [--old-emit OLD-BINARY]`: the library's hot path alone (Benchmarks/RunChurn/emit-bench.c,
compiled with clang -O2 against Sources/CPreload/Writer.c): 1, 2, 4 and 16 threads at once each record 100 k
events; CPU per event per thread, wall per event of all threads, events dropped; alternating with OLD-BINARY (an
emit-bench built from another Writer.c) when given. Each run's trace is checked by `canceltrace stats` for
reader notices (times going backwards: file order is not time order) when a `canceltrace` is built."""
import argparse, os, statistics, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("rounds", nargs="?", type=int, default=21)
parser.add_argument("--threads", type=int, default=0)
parser.add_argument("--old-library")
parser.add_argument("--emit", action="store_true")
parser.add_argument("--old-emit")
parser.add_argument("--events", type=int, default=100_000)
args = parser.parse_args()
rounds = args.rounds
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
work = tempfile.mkdtemp(prefix="run-overhead-")


def canceltrace():
    for folder in (".build-bench/release", ".build/release", ".build/debug"):
        path = os.path.join(root, folder, "canceltrace")
        if os.path.exists(path):
            return path
    return None


def emit_bench():
    binary = os.path.join(work, "emit-bench")
    subprocess.run(["clang", "-O2", "-pthread", os.path.join(root, "Benchmarks", "RunChurn", "emit-bench.c"),
                    "-o", binary, "-lz", "-ldl"], check=True)
    builds = {"new": binary}
    if args.old_emit:
        builds["old"] = args.old_emit
    reader = canceltrace()
    results = {(name, threads): [] for name in builds for threads in (1, 2, 4, 16)}
    notices = {key: 0 for key in results}
    for _ in range(rounds):
        for threads in (1, 2, 4, 16):
            for name, path in builds.items():
                trace = os.path.join(work, f"{name}-{threads}.ctrace")
                out = subprocess.run([path, str(threads), str(args.events), trace], check=True,
                                     capture_output=True, text=True).stdout.split()
                results[(name, threads)].append([float(x) for x in out[1:]])
                if reader:
                    stats = subprocess.run([reader, "stats", trace, "--color", "never"], capture_output=True,
                                           text=True)
                    notices[(name, threads)] += (stats.stdout + stats.stderr).count("went backwards")
    print(f"{args.events} events per thread, median of {rounds} alternating rounds; load average "
          f"{os.getloadavg()[0]:.1f}; reader: {reader and os.path.relpath(reader, root)}")
    for threads in (1, 2, 4, 16):
        for name in builds:
            rows = results[(name, threads)]
            cpu, wall, dropped = (statistics.median(r[i] for r in rows) for i in range(3))
            print(f"  {name:3} {threads:2} thread(s): CPU {cpu:7.1f} ns/event/thread, wall {wall:7.1f} ns/event "
                  f"(all threads), dropped {dropped / (threads * args.events) * 100:5.1f} % (median), "
                  f"backwards-time notices {notices[(name, threads)]} in {rounds} traces")


def churn():
    library = os.path.join(root, ".build-bench", "release", "libCancelTracePreload.so")
    if not os.path.exists(library):
        library = os.path.join(root, ".build", "release", "libCancelTracePreload.so")
    print(f"library: {os.path.relpath(library, root)}; threads: {args.threads or 'async main'}; load average "
          f"{os.getloadavg()[0]:.1f}")
    binary = os.path.join(work, "churn")
    subprocess.run(["swiftc", "-O", os.path.join(root, "Benchmarks", "RunChurn", "main.swift"), "-o", binary],
                   check=True)

    def once(mode):
        env = dict(os.environ)
        if mode != "plain":
            env["LD_PRELOAD"] = args.old_library if mode == "old" else library  # "hooks": loaded, recording nothing
        if mode in ("run", "old"):
            env["CANCELTRACE_OUTPUT"] = os.path.join(work, mode)
            os.makedirs(env["CANCELTRACE_OUTPUT"], exist_ok=True)
        start = time.monotonic_ns()
        command = [binary] + (["50000", str(args.threads)] if args.threads else [])
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        assert status == 0, status
        cpu = (usage.ru_utime + usage.ru_stime) * 1e9
        # the workload's wall time inside, the whole process's wall time, its CPU time (all threads, the writer's)
        return int(out.strip()), time.monotonic_ns() - start, cpu

    results = {"plain": [], "hooks": [], "run": []}
    if args.old_library:
        results["old"] = []
    for _ in range(rounds):
        for mode in results:
            results[mode].append(once(mode))
    plain = results["plain"]
    for label, index in (("workload wall", 0), ("process wall (start to exit, trace flushed)", 1),
                         ("process CPU (user + system, all threads)", 2)):
        p = statistics.median(x[index] for x in plain) / 1e6
        print(f"{label}: plain {p:.1f} ms")
        for mode in list(results)[1:]:
            t = statistics.median(x[index] for x in results[mode]) / 1e6
            ratios = sorted(t_[index] / p_[index] for p_, t_ in zip(plain, results[mode]))
            q = lambda f: ratios[min(len(ratios) - 1, int(f * len(ratios)))]
            print(f"  {mode:5}: {t:.1f} ms, ratio of medians {t / p:.2f}x, pairwise ratios p25/p50/p75 "
                  f"{q(0.25):.2f}/{statistics.median(ratios):.2f}/{q(0.75):.2f}")
    if args.old_library:  # the two recordings against each other, round by round
        ratios = sorted(n[2] / o[2] for n, o in zip(results["run"], results["old"]))
        print(f"process CPU, run / old, pairwise p25/p50/p75: {ratios[len(ratios) // 4]:.3f}/"
              f"{statistics.median(ratios):.3f}/{ratios[3 * len(ratios) // 4]:.3f}")
    reader = canceltrace()
    for mode in ("run", "old"):
        folder = os.path.join(work, mode)
        if not os.path.isdir(folder):
            continue
        traces = [os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".ctrace")]
        size = sum(os.path.getsize(f) for f in traces) / len(traces)
        line = f"{mode} trace: {size / 1024:.0f} KiB per run ({len(traces)} files)"
        if reader:
            texts = [subprocess.run([reader, "stats", f, "--color", "never"], capture_output=True, text=True)
                     for f in traces]
            backwards = sum((t.stdout + t.stderr).count("went backwards") for t in texts)
            dropped = sum(int(l.split()[2]) for t in texts for l in t.stdout.splitlines()
                          if l.startswith("dropped events"))
            line += f"; backwards-time notices {backwards}; dropped events {dropped}"
        print(line)


emit_bench() if args.emit else churn()
