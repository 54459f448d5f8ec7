"""The recorder: what it records, that it never changes the program, and that a killed process leaves a
readable trace."""
import asyncio
import subprocess
import sys
import textwrap

import pytest

import ctutil
from canceltrace.reader import TraceError, read

PY = sys.version_info[:2]


def run_program(tmp_path, source, *, args=(), env=None):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    out = tmp_path / "prog.ctrace"
    res = ctutil.record(script, out, args=args, env=env, cwd=str(tmp_path))
    plain = ctutil.run_plain(script, args=args, env=env, cwd=str(tmp_path))
    return res, plain, out


def test_same_output_exit_status_and_exceptions(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio, sys
        async def boom():
            raise KeyError("k")
        async def main():
            t = asyncio.create_task(boom())
            await asyncio.sleep(0.01)
            print(sys.argv[1:], repr(t)[:20], type(t).__name__, isinstance(t, asyncio.Task))
            del t                   # "Task exception was never retrieved" must still be logged
            import gc; gc.collect()
            raise SystemExit(3)
        asyncio.run(main())
    """, args=["a", "b"])
    assert res.returncode == plain.returncode == 3
    assert res.stdout == plain.stdout
    assert "['a', 'b'] <Task finished name" in res.stdout
    assert "Task exception was never retrieved" in plain.stderr
    assert "Task exception was never retrieved" in res.stderr
    tr = read(str(out))
    assert tr.closed
    boom = ctutil.find_events(tr, {"kind": "end", "task": "boom"})
    assert boom and boom[0]["outcome"] == "failed" and boom[0]["error"] == "KeyError"


def test_spawn_fields_and_metadata(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def leaf(): await asyncio.sleep(0)
        async def mid():
            await asyncio.create_task(leaf(), name="the-leaf")
        async def main():
            await asyncio.gather(mid(), mid())
        asyncio.run(main())
    """)
    assert res.returncode == 0, res.stderr
    tr = read(str(out))
    info = dict(tr.info)
    assert info["runtime"] == "python" and info["pid"].isdigit() and info["process"] == "prog.py"
    assert info["caught-detection"] == ("sys.monitoring" if PY >= (3, 12) else "inferred-at-end")
    names = ctutil.task_names(tr)
    spawns = {e["task"]: e for e in tr.events if e["kind"] == "spawn"}
    main = [t for t, n in names.items() if n == "main"][0]
    assert spawns[main]["how"] == "root" and spawns[main]["parent"] == 0
    mids = [t for t, n in names.items() if n == "mid"]
    assert len(mids) == 2 and all(spawns[m]["parent"] == main for m in mids)
    leaves = [t for t, n in names.items() if n == "leaf (the-leaf)"]
    assert len(leaves) == 2 and {spawns[t]["parent"] for t in leaves} == set(mids)
    ends = {e["task"] for e in tr.events if e["kind"] == "end"}
    assert set(spawns) <= ends
    times = [e["time"] for e in tr.events]
    assert times == sorted(times)


def test_full_names_option(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def main(): pass
        asyncio.run(main())
    """, env={"CANCELTRACE_TASK_NAMES": "full"})
    assert "main (Task-1)" in ctutil.task_names(read(str(out))).values()


def test_cancel_message_and_canceller(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def victim(): await asyncio.sleep(10)
        async def main():
            t = asyncio.create_task(victim()); await asyncio.sleep(0)
            t.cancel("stop now")
            try: await t
            except asyncio.CancelledError: pass
        asyncio.run(main())
    """)
    tr = read(str(out))
    c = ctutil.find_events(tr, {"kind": "cancel", "task": "victim", "by": "main"})
    assert c and c[0]["message"] == "stop now" and c[0]["reason"] == "explicit"


def test_parent_propagation_reason(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def inner(): await asyncio.sleep(10)
        async def outer(): await asyncio.create_task(inner())
        async def gathered(): await asyncio.gather(inner())
        async def main():
            a = asyncio.create_task(outer()); b = asyncio.create_task(gathered())
            await asyncio.sleep(0.01)
            a.cancel(); b.cancel()
            await asyncio.gather(a, b, return_exceptions=True)
        asyncio.run(main())
    """)
    tr = read(str(out))
    parent_cancels = ctutil.find_events(tr, {"kind": "cancel", "task": "inner", "reason": "parent"})
    assert len(parent_cancels) == 2
    by = {ctutil.task_names(tr)[e["by"]] for e in parent_cancels}
    assert by == {"outer", "gathered"}


@pytest.mark.skipif(PY < (3, 12), reason="eager tasks are 3.12+")
def test_eager_tasks(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def quick(): return 1
        async def main():
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
            t = asyncio.create_task(quick())
            print(t.done(), await t)
        asyncio.run(main())
    """)
    assert res.stdout == plain.stdout == "True 1\n"
    tr = read(str(out))
    sp = ctutil.find_events(tr, {"kind": "spawn", "task": "quick"})
    end = ctutil.find_events(tr, {"kind": "end", "task": "quick"})
    assert sp and end and sp[0]["time"] <= end[0]["time"] and end[0]["outcome"] == "returned"


@pytest.mark.skipif(PY < (3, 12), reason="exact catches use sys.monitoring (3.12+)")
def test_except_exception_not_recorded_as_catch_but_finally_is(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def w1():
            try: await asyncio.sleep(10)
            except (ValueError, KeyError): pass
        async def w2():
            try: await asyncio.sleep(10)
            finally: print("cleanup")
        async def w3():
            try: await asyncio.sleep(10)
            except asyncio.CancelledError as e:
                raise e
        async def main():
            ts = [asyncio.create_task(f()) for f in (w1, w2, w3)]
            await asyncio.sleep(0.01)
            for t in ts: t.cancel()
            await asyncio.gather(*ts, return_exceptions=True)
        asyncio.run(main())
    """)
    tr = read(str(out))
    assert not ctutil.find_events(tr, {"kind": "caught", "task": "w1"})
    for name in ("w2", "w3"):
        kinds = [e["kind"] for e in tr.events if ctutil.task_names(tr).get(e.get("task")) == name
                 and e["kind"] not in ("site", "mark")]
        assert kinds[-5:] == ["caught", "cleanup-begin", "cleanup-end", "rethrow", "end"], (name, kinds)


@pytest.mark.skipif(PY < (3, 12), reason="exact catches use sys.monitoring (3.12+)")
def test_cleanup_that_throws(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def close(): raise OSError("gone")
        async def w():
            try: await asyncio.sleep(10)
            except asyncio.CancelledError:
                await close()
                raise
        async def main():
            t = asyncio.create_task(w()); await asyncio.sleep(0.01); t.cancel()
            await asyncio.gather(t, return_exceptions=True)
        asyncio.run(main())
    """)
    tr = read(str(out))
    ce = ctutil.find_events(tr, {"kind": "cleanup-end", "task": "w"})
    assert ce and ce[0]["result"] == "threw" and ce[0]["error"] == "OSError"


def test_os_exit_leaves_readable_truncated_trace(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio, os
        async def worker(i): await asyncio.sleep(10)
        async def main():
            ts = [asyncio.create_task(worker(i)) for i in range(3000)]
            await asyncio.sleep(0.3)
            os._exit(7)
        asyncio.run(main())
    """, env={"CANCELTRACE_FLUSH_INTERVAL": "0.1"})
    assert res.returncode == 7
    tr = read(str(out))
    assert not tr.closed
    assert len(ctutil.find_events(tr, {"kind": "spawn", "task": "worker"})) == 3000


def test_sigkill_mid_run(tmp_path):
    script = tmp_path / "spin.py"
    script.write_text(textwrap.dedent("""
        import asyncio
        async def tick():
            await asyncio.sleep(0)
        async def main():
            while True:
                await asyncio.gather(*(tick() for _ in range(100)))
        asyncio.run(main())
    """))
    out = tmp_path / "spin.ctrace"
    p = subprocess.Popen([sys.executable, "-m", "canceltrace", "run", "--output", str(out), str(script)],
                         env=ctutil.env_with_pkg({"CANCELTRACE_FLUSH_INTERVAL": "0.1"}))

    def chunks_on_disk():
        try:
            return read(str(out)).chunks
        except (OSError, TraceError):             # no file or header yet
            return 0
    try:
        import time
        deadline = time.monotonic() + 60          # a bound for a broken recorder, not a measurement
        while chunks_on_disk() < 2:               # killed once two chunks are on disk
            assert time.monotonic() < deadline and p.poll() is None, "no second chunk"
            time.sleep(0.05)
    finally:
        p.kill()
        p.wait()
    ctutil.wait_for_writer(out)
    tr = read(str(out))
    assert not tr.closed and tr.chunks >= 2
    assert len(ctutil.find_events(tr, {"kind": "spawn", "task": "tick"})) > 100


def test_run_module_and_default_output(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("import asyncio, sys\nasync def main(): print(sys.argv[1:])\nasyncio.run(main())\n")
    res = subprocess.run([sys.executable, "-m", "canceltrace", "run", "-m", "pkg.mod", "x"], cwd=str(tmp_path),
                         env=ctutil.env_with_pkg(), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "['x']\n"
    assert read(str(tmp_path / "pkg.mod.ctrace")).closed
    (tmp_path / "app.py").write_text("import asyncio\nasync def main(): pass\nasyncio.run(main())\n")
    res = subprocess.run([sys.executable, "-m", "canceltrace", "run", "app.py"], cwd=str(tmp_path),
                         env=ctutil.env_with_pkg(), capture_output=True, text=True)
    assert res.returncode == 0 and read(str(tmp_path / "app.ctrace")).closed


def test_auto_import_with_env(tmp_path):
    out = tmp_path / "auto-%p.ctrace"
    code = "import canceltrace.auto, asyncio, os\nasync def main(): print(os.getpid())\nasyncio.run(main())\n"
    res = subprocess.run([sys.executable, "-c", code], env=ctutil.env_with_pkg({"CANCELTRACE_OUTPUT": str(out)}),
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    pid = res.stdout.strip()
    tr = read(str(tmp_path / ("auto-%s.ctrace" % pid)))
    assert tr.closed and ctutil.find_events(tr, {"kind": "end", "task": "main"})


def test_pytest_plugin(tmp_path):
    out = tmp_path / "session.ctrace"
    res = ctutil.run_pytest(tmp_path, {"test_x.py": """
        import asyncio
        async def swallow():
            try: await asyncio.sleep(10)
            except BaseException: pass
        def test_one():
            async def main():
                t = asyncio.create_task(swallow()); await asyncio.sleep(0); t.cancel(); await t
            asyncio.run(main())
        def test_two():
            pass
    """}, trace=out)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 passed" in res.stdout and "canceltrace check %s" % out in res.stdout
    tr = read(str(out))
    assert tr.closed                                            # closed at session finish, before the summary
    marks = [e["label"] for e in tr.events if e["kind"] == "mark" and e["task"] == 0]
    assert marks == ["test test_x.py::test_one", "test test_x.py::test_two"]
    task_marks = [e["label"] for e in tr.events if e["kind"] == "mark" and e["task"] != 0]
    assert task_marks == ["test test_x.py::test_one"]          # the cancelled task: the test it ran in
    assert ctutil.unrethrown_catches(tr) == ["swallow"]
    cli = ctutil.check_with_cli(out)
    if cli is not None:
        assert [f["rule"] for f in cli] == ["swallowed-cancellation"]
        assert "error[swallowed-cancellation]" in res.stdout and "1 error in %s" % out in res.stdout
    else:
        assert "canceltrace: wrote %s; the analyzer `canceltrace` is not installed" % out in res.stdout


def test_recorder_errors_never_reach_user_code(tmp_path):
    # An unwritable output: the program still runs exactly as without the recorder.
    res = subprocess.run([sys.executable, "-c", "import canceltrace.auto, asyncio\n"
                          "async def main(): print('ok')\nasyncio.run(main())\n"],
                         env=ctutil.env_with_pkg({"CANCELTRACE_OUTPUT": str(tmp_path / "no" / "dir" / "x.ctrace")}),
                         capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout == "ok\n"
    assert "canceltrace: not recording" in res.stderr


def test_start_stop_in_process(tmp_path):
    import canceltrace
    from canceltrace import _recorder
    original = asyncio.tasks.Task
    canceltrace.start(str(tmp_path / "a.ctrace"))
    assert asyncio.tasks.Task is not original

    async def main():
        canceltrace.mark("hello")
        return 5
    assert asyncio.run(main()) == 5
    canceltrace.stop()
    assert asyncio.tasks.Task is original and not _recorder.is_recording()
    tr = read(str(tmp_path / "a.ctrace"))
    assert tr.closed and ctutil.find_events(tr, {"kind": "mark", "label": "hello", "task": "main"})


@pytest.mark.skipif(PY < (3, 12), reason="sys.monitoring is 3.12+")
def test_catch_monitoring_is_narrowed_after_the_last_cancel(tmp_path):
    import threading
    import canceltrace
    from canceltrace import _sysmon
    rec = canceltrace.start(str(tmp_path / "m.ctrace"), flush_interval=0.05)
    ticked = threading.Event()
    settle = rec.on_tick

    def tick():                                # the flush thread narrows the events here (_sysmon.settle)
        settle()
        ticked.set()
    rec.on_tick = tick
    try:
        tool = _sysmon.tool
        ev = sys.monitoring.events

        async def victim():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                raise

        async def main():
            t = asyncio.create_task(victim())
            await asyncio.sleep(0)
            t.cancel()
            await asyncio.sleep(0)             # the catch is open while victim handles the error
            assert sys.monitoring.get_events(tool) & ev.RERAISE
            with pytest.raises(asyncio.CancelledError):
                await t
        asyncio.run(main())
        for _ in range(2):                     # the second tick's settle began after the program's last catch
            ticked.clear()
            assert ticked.wait(60), "the flush thread stopped"
        assert not sys.monitoring.get_events(tool) & (ev.EXCEPTION_HANDLED | ev.RAISE | ev.RERAISE)
    finally:
        canceltrace.stop()
    tr = read(str(tmp_path / "m.ctrace"))
    assert ctutil.find_events(tr, {"kind": "rethrow", "task": "victim"})


@pytest.mark.skipif(PY < (3, 12), reason="exact catches are 3.12+")
def test_catches_along_the_await_chain_and_in_a_self_cancelled_task(tmp_path):
    import canceltrace
    from canceltrace import _sysmon
    canceltrace.start(str(tmp_path / "c.ctrace"))
    try:
        async def leaf():
            await asyncio.sleep(10)

        async def middle():
            try:
                await leaf()
            except asyncio.CancelledError:
                await asyncio.sleep(0)         # cleanup, then rethrow
                raise

        async def top():
            try:
                await middle()
            finally:
                pass

        async def selfish():
            asyncio.current_task().cancel()    # running: its await chain is not known yet
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass                           # swallowed
            return 1

        async def main():
            t = asyncio.create_task(top())
            s = asyncio.create_task(selfish())
            await asyncio.sleep(0)
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            assert await s == 1
        asyncio.run(main())
        assert _sysmon.blind_pending == 0
    finally:
        canceltrace.stop()
    tr = read(str(tmp_path / "c.ctrace"))
    kinds = [e["kind"] for e in ctutil.find_events(tr, {"task": "top"})
             if e["kind"] in ("caught", "cleanup-begin", "cleanup-end", "rethrow", "end")]
    # middle's except clause, then top's finally, each caught, cleaned up and rethrown
    assert kinds == ["caught", "cleanup-begin", "cleanup-end", "rethrow"] * 2 + ["end"], kinds
    kinds = [e["kind"] for e in ctutil.find_events(tr, {"task": "selfish"})
             if e["kind"] in ("caught", "cleanup-begin", "cleanup-end", "rethrow", "end")]
    assert kinds == ["caught", "cleanup-begin", "cleanup-end", "end"], kinds
