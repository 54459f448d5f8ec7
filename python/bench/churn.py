"""Task-churn benchmark: spawn many small tasks, cancel half, gather them; plain vs. recorded, side by side
in one process (rounds alternate so that both see the same machine state). Prints medians and the ratio.

    python python/bench/churn.py [--tasks 20000] [--rounds 7] [--out /tmp/churn.ctrace]
"""
import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import canceltrace  # noqa: E402
from canceltrace import _recorder  # noqa: E402


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "churn.ctrace"))
    a = ap.parse_args()
    one_round(a.tasks)  # warm up
    plain, traced = [], []
    size = events = 0
    for _ in range(a.rounds):
        plain.append(one_round(a.tasks))
        canceltrace.start(a.out, process="churn")
        traced.append(one_round(a.tasks))
        rec = canceltrace.stop()
        events = rec.event_count
        size = os.path.getsize(a.out)
    p, t = statistics.median(plain), statistics.median(traced)
    print("python %s, %d tasks per round (half cancelled), %d rounds" % (sys.version.split()[0], a.tasks, a.rounds))
    print("plain    median %.1f ms  (%.2f us/task)" % (p * 1e3, p / a.tasks * 1e6))
    print("recorded median %.1f ms  (%.2f us/task)" % (t * 1e3, t / a.tasks * 1e6))
    print("ratio    %.3fx   trace: %d events, %d bytes, %.2f bytes/event" % (t / p, events, size, size / max(events, 1)))


if __name__ == "__main__":
    main()
