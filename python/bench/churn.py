"""Task-churn benchmark: spawn many small tasks, cancel half, gather them; plain vs. recorded, side by side
in one process (rounds alternate so that both see the same machine state). Prints medians and ratios of:
- the program's CPU time (this process: what the recording costs the traced program's own core);
- wall time;
- total CPU, adding the writer process's (what the recording costs the machine).
Each recorded round includes start() and stop(), so the writer's start and its last chunk count too.

    python python/bench/churn.py [--tasks 20000] [--rounds 7] [--out /tmp/churn.ctrace]
    CANCELTRACE_WRITER=inprocess python python/bench/churn.py   # encode in the program's process instead

Timings on a shared machine vary by tens of percent from run to run; instruction counts do not. ``--once MODE``
runs a single round (after a 200-task warm-up) for callgrind, which counts the program's process only:

    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.plain python python/bench/churn.py --once plain
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.rec   python python/bench/churn.py --once recorded
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.base  python python/bench/churn.py --once plain --tasks 0
    # ratio = (rec - base) / (plain - base), from the "totals:" line of each file
"""
import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import canceltrace  # noqa: E402


async def small(i):
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return i


async def churn(n):
    tasks = [asyncio.create_task(small(i)) for i in range(n)]
    await asyncio.sleep(0)          # let every task start
    for t in tasks[::2]:
        t.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return sum(1 for r in results if isinstance(r, asyncio.CancelledError))


def one_round(n):
    t0 = time.process_time()
    cancelled = asyncio.run(churn(n))
    dt = time.process_time() - t0
    assert cancelled == n // 2 + (n % 2), cancelled
    return dt


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measured(n, out=None):
    """(program CPU, wall, program + writer CPU, recorder) of one round, recorded to ``out`` when given. The
    recorder starts before and stops after the timed part (a program starts it once); the writer's CPU for
    the round is its whole CPU minus that of an idle start/stop (``idle_writer_cpu``)."""
    c0 = children_cpu()
    rec = canceltrace.start(out, process="churn") if out else None
    w0, p0 = time.perf_counter(), time.process_time()
    cancelled = asyncio.run(churn(n))
    cpu, wall = time.process_time() - p0, time.perf_counter() - w0
    if rec is not None:
        canceltrace.stop()
    assert cancelled == n // 2 + (n % 2), cancelled
    writer = max(0.0, children_cpu() - c0 - idle_writer_cpu) if rec is not None else 0.0
    return cpu, wall, cpu + writer, rec


idle_writer_cpu = 0.0


def measure_idle(out):
    """CPU and wall of start() + stop() with nothing recorded, and the writer process's CPU in it."""
    global idle_writer_cpu
    runs = []
    for _ in range(3):
        c0, p0, w0 = children_cpu(), time.process_time(), time.perf_counter()
        canceltrace.start(out, process="idle")
        canceltrace.stop()
        runs.append((time.process_time() - p0, time.perf_counter() - w0, children_cpu() - c0))
    idle = [statistics.median(r[i] for r in runs) for i in range(3)]
    idle_writer_cpu = idle[2]
    return idle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "churn.ctrace"))
    ap.add_argument("--once", choices=("plain", "recorded"), help="one round, no timing (for callgrind)")
    a = ap.parse_args()
    if a.once:
        one_round(200)
        if a.once == "recorded":
            canceltrace.start(a.out, process="churn")
        if a.tasks:
            asyncio.run(churn(a.tasks))
        if a.once == "recorded":
            canceltrace.stop()
        return
    one_round(a.tasks)  # warm up
    idle = measure_idle(a.out)
    plain, traced = [], []
    size = events = 0
    writer = "?"
    for _ in range(a.rounds):
        plain.append(measured(a.tasks))
        *m, rec = measured(a.tasks, a.out)
        traced.append(m)
        events = rec.event_count
        writer = "writer process" if getattr(rec, "writer", None) is not None else "in-process"
        size = os.path.getsize(a.out)
    med = [statistics.median(x[i] for x in plain) for i in range(3)]
    tmed = [statistics.median(x[i] for x in traced) for i in range(3)]
    print("python %s, %d tasks per round (half cancelled), %d rounds, encoding: %s"
          % (sys.version.split()[0], a.tasks, a.rounds, writer))
    # The machine is shared: besides the ratio of medians, the median of the ratios of adjacent rounds (drift
    # cancels out) and the ratio of the fastest rounds (interference only ever adds time).
    for label, i in (("program CPU", 0), ("wall", 1), ("total CPU", 2)):
        paired = statistics.median(t[i] / p[i] for p, t in zip(plain, traced))
        fastest = min(t[i] for t in traced) / min(p[i] for p in plain)
        print("%-12s plain %7.1f ms  recorded %7.1f ms  ratio %.3fx  (paired %.3fx, fastest %.3fx)"
              % (label, med[i] * 1e3, tmed[i] * 1e3, tmed[i] / med[i], paired, fastest))
    print("start+stop  program CPU %.1f ms, wall %.1f ms, writer process CPU %.1f ms (not in the figures above)"
          % (idle[0] * 1e3, idle[1] * 1e3, idle[2] * 1e3))
    print("trace: %d events, %d bytes, %.2f bytes/event" % (events, size, size / max(events, 1)))


if __name__ == "__main__":
    main()
