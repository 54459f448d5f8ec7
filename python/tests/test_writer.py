"""The writer process: encoding and writing happen there by default; the trace is the same as when the program
encodes it itself; a dead writer stops the recording, never the program; a forked child does not keep it alive."""
import os
import subprocess
import sys
import textwrap

import pytest

import ctutil
from canceltrace.reader import read

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the writer process is POSIX-only")

PROGRAM = """
    import asyncio
    async def leaf(i):
        try:
            await asyncio.sleep(10 if i % 3 == 0 else 0)
        except asyncio.CancelledError:
            if i % 2:
                raise
        return i
    async def main():
        ts = [asyncio.create_task(leaf(i), name="leaf-%d" % (i % 4)) for i in range(2000)]
        await asyncio.sleep(0)
        for t in ts[::3]:
            t.cancel("stop %d" % (ts.index(t) % 5))
        print(sum(1 for r in await asyncio.gather(*ts, return_exceptions=True) if isinstance(r, int)))
    asyncio.run(main())
"""


def shape(trace):
    """The events without their times and the per-run metadata."""
    skip = {"pid", "wall-clock-start-ns", "caught-detection"}
    out = []
    for e in trace.events:
        e = dict(e)
        e.pop("time", None)
        if e.get("kind") == "info" and e.get("key") in skip:
            continue
        if e.get("kind") == "site":
            continue      # written for a cancelled task that took over 100 ms to end: depends on the machine's speed
        out.append(tuple(sorted(e.items())))
    return out


def test_writer_process_trace_equals_in_process_trace(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM))
    results = {}
    for mode in ("process", "inprocess"):
        out = tmp_path / ("%s.ctrace" % mode)
        res = ctutil.record(script, out, env={"CANCELTRACE_WRITER": mode, "CANCELTRACE_BATCH": "256"})
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""
        results[mode] = (res.stdout, read(str(out)))
    (out_p, tr_p), (out_i, tr_i) = results["process"], results["inprocess"]
    assert out_p == out_i
    assert tr_p.closed and tr_i.closed and not tr_p.notices and not tr_i.notices
    assert len(ctutil.find_events(tr_p, {"kind": "spawn", "task": "leaf (leaf-1)"})) == 500
    assert shape(tr_p) == shape(tr_i)


def test_writer_is_used_by_default_and_finishes_the_file_at_stop(tmp_path):
    import asyncio
    import canceltrace
    rec = canceltrace.start(str(tmp_path / "a.ctrace"))
    try:
        assert rec.writer is not None
        pid = rec.writer.proc.pid

        async def main():
            await asyncio.gather(*(asyncio.sleep(0) for _ in range(100)))
        asyncio.run(main())
    finally:
        canceltrace.stop()
    assert rec.writer.proc.returncode == 0           # stop() waited for it
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    tr = read(str(tmp_path / "a.ctrace"))
    assert tr.closed and len(ctutil.find_events(tr, {"kind": "end", "task": "sleep"})) == 100


def test_dead_writer_stops_recording_not_the_program(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import asyncio, os, signal, time
        import canceltrace
        rec = canceltrace.start(os.environ["OUT"])
        async def work(n):
            await asyncio.gather(*(asyncio.sleep(0) for _ in range(n)))
        asyncio.run(work(10))
        rec.flush()
        from canceltrace.reader import read
        while not [e for e in read(os.environ["OUT"]).events if e["kind"] == "end"]:
            time.sleep(0.01)              # the writer has written the first batch
        os.kill(rec.writer.proc.pid, signal.SIGKILL)
        rec.writer.proc.wait()
        for _ in range(5):
            asyncio.run(work(2000))
            rec.flush()
        print("done", canceltrace.is_recording())
    """))
    out = tmp_path / "prog.ctrace"
    res = subprocess.run([sys.executable, str(script)], env=ctutil.env_with_pkg({"OUT": str(out)}),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "done True\n"
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("canceltrace: cannot write %s: the writer process stopped" % out)
    assert lines[0].endswith("; recording stopped")
    tr = read(str(out))                       # what the writer wrote before it died is readable
    assert not tr.closed and ctutil.find_events(tr, {"kind": "spawn", "task": "work"})


def test_forked_child_does_not_keep_the_writer_waiting(tmp_path):
    # The child blocks until the test lets it go, which the test does only after the recorded parent has
    # finished: if stop() waited for the child to let go of the writer, the parent would wait for the writer
    # until its timeout and report it on stderr.
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import asyncio, os, sys
        async def main():
            await asyncio.sleep(0)
        asyncio.run(main())
        release = int(sys.argv[1])
        pid = os.fork()
        if pid == 0:
            os.close(1); os.close(2)
            os.read(release, 1)          # until the test closes its end of the pipe
            os._exit(0)
        print("parent done", pid)
    """))
    out = tmp_path / "prog.ctrace"
    release, hold = os.pipe()
    try:
        res = subprocess.run([sys.executable, "-m", "canceltrace", "run", "--output", str(out), str(script),
                              str(release)], env=ctutil.env_with_pkg(), capture_output=True, text=True,
                             timeout=120, pass_fds=(release,))
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""
        assert res.stdout.startswith("parent done ")
        os.kill(int(res.stdout.split()[-1]), 0)      # the child is still waiting: the parent finished first
        tr = read(str(out))
        assert tr.closed and not tr.notices
    finally:
        os.close(hold)
        os.close(release)


def test_no_python_executable_falls_back_to_writing_in_process(tmp_path, monkeypatch):
    import asyncio
    import canceltrace
    monkeypatch.setattr(sys, "executable", "")
    rec = canceltrace.start(str(tmp_path / "b.ctrace"))
    try:
        assert rec.writer is None

        async def main():
            await asyncio.sleep(0)
        asyncio.run(main())
    finally:
        canceltrace.stop()
    tr = read(str(tmp_path / "b.ctrace"))
    assert tr.closed and ctutil.find_events(tr, {"kind": "end", "task": "main"})
