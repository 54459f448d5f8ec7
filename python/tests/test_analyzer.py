"""The analyzer is the Swift `canceltrace` only (the wheel's, CANCELTRACE_BIN or PATH): `python -m canceltrace
check` runs it or says in one line how to get it; the pytest summary shows its findings (each xdist worker's
file); `check` of a trace with no close record (os._exit right after a swallow) exits 3, not 0."""
import json
import re
import subprocess
import sys

import pytest

import ctutil
from canceltrace import _analyzer
from canceltrace.reader import read
from test_recorder import run_program

SWALLOW = """
    import asyncio, os, sys
    async def stubborn():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if "slow" in sys.argv:
                await asyncio.sleep(10)     # still in its handler when the process stops
    async def main():
        t = asyncio.create_task(stubborn()); await asyncio.sleep(0); t.cancel(); await asyncio.sleep(0.05)
        if "exit" in sys.argv:
            os._exit(0)
    asyncio.run(main())
"""


def python_m(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "canceltrace"] + args, cwd=str(cwd),
                          env=ctutil.env_with_pkg(env), capture_output=True, text=True, timeout=120)


def need_analyzer():
    binary = ctutil.analyzer()
    if binary is None:
        pytest.skip("no `canceltrace` analyzer (CANCELTRACE_BIN, the wheel's or PATH)")
    return binary


def test_check_without_an_analyzer_is_one_line(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = dict(ctutil.env_with_pkg(), PATH=str(empty))
    env.pop("CANCELTRACE_BIN", None)
    probe = subprocess.run([sys.executable, "-c", "from canceltrace import _analyzer; print(_analyzer.find())"],
                           env=env, capture_output=True, text=True)
    if probe.stdout.strip() != "None":
        pytest.skip("this interpreter has the wheel's analyzer installed: %s" % probe.stdout.strip())
    res = subprocess.run([sys.executable, "-m", "canceltrace", "check", "x.ctrace"], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True)
    assert res.returncode == 127 and res.stdout == ""
    assert res.stderr == "canceltrace: %s\n" % _analyzer.HOW_TO_GET
    env["CANCELTRACE_BIN"] = str(tmp_path / "nowhere")
    res = subprocess.run([sys.executable, "-m", "canceltrace", "stats", "x.ctrace"], cwd=str(tmp_path), env=env,
                         capture_output=True, text=True)
    assert res.returncode == 127
    assert res.stderr == "canceltrace: CANCELTRACE_BIN=%r is not an executable file\n" % str(tmp_path / "nowhere")


def test_python_m_check_is_the_analyzer(tmp_path):
    binary = need_analyzer()
    res, plain, out = run_program(tmp_path, SWALLOW)
    assert res.returncode == plain.returncode == 0, res.stderr
    direct = subprocess.run([binary, "check", str(out), "--color", "never"], capture_output=True, text=True)
    via = python_m(["check", str(out), "--color", "never"], tmp_path)
    assert direct.returncode == via.returncode == 1
    assert via.stdout == direct.stdout and "error[swallowed-cancellation]: task \"stubborn\"" in via.stdout
    assert python_m(["check", "--list-rules"], tmp_path).stdout.startswith("swallowed-cancellation")


def test_a_trace_without_close_exits_3(tmp_path):
    binary = need_analyzer()
    res, plain, out = run_program(tmp_path, SWALLOW, args=["exit", "slow"])
    assert res.returncode == plain.returncode == 0
    ctutil.wait_for_writer(out)
    tr = read(str(out))
    assert not tr.closed and ctutil.find_events(tr, {"kind": "cancel", "task": "stubborn"})   # (a catch: 3.12+)
    assert not ctutil.find_events(tr, {"kind": "end", "task": "stubborn"})     # no end: nothing to judge
    for fmt in ("text", "json"):
        check = subprocess.run([binary, "check", str(out), "--format", fmt], capture_output=True, text=True)
        assert check.returncode == 3, check.stdout + check.stderr
        assert check.stderr.count("\n") == 1 and "incomplete trace: no close record" in check.stderr
    assert json.loads(check.stdout)["truncated"] is True
    # os._exit after the swallow ended: the error is found anyway, and 1 wins over 3.
    done = tmp_path / "done"
    done.mkdir()
    res, plain, out = run_program(done, SWALLOW, args=["exit"])
    ctutil.wait_for_writer(out)
    assert not read(str(out)).closed
    check = subprocess.run([binary, "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 1 and check.stderr == "" and "error[swallowed-cancellation]" in check.stdout


XDIST_TESTS = """
    import asyncio
    async def swallow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
    async def run():
        t = asyncio.create_task(swallow()); await asyncio.sleep(0); t.cancel(); await t
    def test_NAME():
        asyncio.run(run())
"""


def test_xdist_summary_checks_each_workers_trace(tmp_path):
    pytest.importorskip("xdist")
    (tmp_path / "s.gw7.ctrace").write_bytes(b"left over from an earlier run")
    res = ctutil.run_pytest(tmp_path, {"test_%s.py" % name: XDIST_TESTS.replace("NAME", name) for name in "ab"},
                            "-n", "2", "--dist", "load", trace="s.ctrace", timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "canceltrace: one trace per xdist worker: s.gw0.ctrace, s.gw1.ctrace\n" in res.stdout
    assert not (tmp_path / "s.ctrace").exists()                 # the controller records nothing
    swallows = []
    for worker in ("gw0", "gw1"):
        tr = read(str(tmp_path / ("s.%s.ctrace" % worker)))
        assert tr.closed                                        # closed before the worker reported back
        swallows += ctutil.unrethrown_catches(tr)
    assert swallows == ["swallow", "swallow"]
    if ctutil.analyzer() is not None:
        counts = re.findall(r"^(\d+) errors? in s\.gw[01]\.ctrace", res.stdout, re.M)
        assert sum(map(int, counts)) == 2, res.stdout           # one swallow per test, wherever it ran
        assert "canceltrace check s.gw0.ctrace" in res.stdout and "canceltrace check s.gw1.ctrace" in res.stdout
    else:
        assert "canceltrace: wrote s.gw0.ctrace; the analyzer" in res.stdout


def test_trace_closes_after_session_fixtures_are_torn_down(tmp_path):
    out = tmp_path / "s.ctrace"
    res = ctutil.run_pytest(tmp_path, {"test_s.py": """
        import asyncio, pytest
        async def teardown_swallow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
        async def teardown():
            t = asyncio.create_task(teardown_swallow()); await asyncio.sleep(0); t.cancel(); await t
        @pytest.fixture(scope="session")
        def resource():
            yield
            asyncio.run(teardown())
        def test_fails(resource):
            assert False
        def test_next(resource):
            pass
    """}, "-x", trace=out)
    # a session stopped by -x: the session fixture's teardown is still recorded, then the trace closed
    assert res.returncode == 1 and "1 failed" in res.stdout, res.stdout + res.stderr
    tr = read(str(out))
    assert tr.closed and ctutil.unrethrown_catches(tr) == ["teardown_swallow"]
    if ctutil.analyzer() is not None:
        assert "error[swallowed-cancellation]: task \"teardown_swallow\"" in res.stdout


def test_an_analyzer_that_cannot_run_is_one_line(tmp_path):
    bad = tmp_path / "canceltrace"
    bad.write_text("not a program")
    bad.chmod(0o755)
    env = {"CANCELTRACE_BIN": str(bad)}
    res = python_m(["check", "x.ctrace"], tmp_path, env)
    assert res.returncode == 126 and res.stderr.startswith("canceltrace: cannot run %s: " % bad)
    assert res.stderr.count("\n") == 1
    res = ctutil.run_pytest(tmp_path, {"test_t.py": "def test_t():\n    pass\n"}, trace="t.ctrace", env=env)
    assert res.returncode == 0 and "INTERNALERROR" not in res.stdout + res.stderr
    assert "canceltrace: cannot run %s: " % bad in res.stdout
