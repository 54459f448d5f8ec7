"""A new user's first ten minutes: clear one-line failures, `run` behaving like python, suppression, fork and
os._exit."""
import os
import subprocess
import sys
import textwrap

import pytest

import ctutil
from canceltrace.reader import read
from test_recorder import run_program

PY = sys.version_info[:2]


def canceltrace(args, cwd):
    return subprocess.run([sys.executable, "-m", "canceltrace"] + args, cwd=str(cwd), env=ctutil.env_with_pkg(),
                          capture_output=True, text=True, timeout=60)


def test_run_rejects_unknown_options(tmp_path):
    (tmp_path / "app.py").write_text("print('ran')\n")
    res = canceltrace(["run", "--out", "x.ctrace", "app.py"], tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.strip() == "canceltrace run: unknown option --out (options: --output FILE, -m MODULE)"
    assert os.listdir(str(tmp_path)) == ["app.py"]


def test_run_missing_script_fails_like_python_and_writes_no_trace(tmp_path):
    res = canceltrace(["run", "nosuch.py"], tmp_path)
    plain = subprocess.run([sys.executable, "nosuch.py"], cwd=str(tmp_path), capture_output=True, text=True)
    assert res.returncode == plain.returncode == 2
    assert res.stderr == plain.stderr
    res = canceltrace(["run", "-m", "nosuch_module_xyz"], tmp_path)
    plain = subprocess.run([sys.executable, "-m", "nosuch_module_xyz"], cwd=str(tmp_path), capture_output=True,
                           text=True)
    assert res.returncode == plain.returncode == 1
    assert res.stderr == plain.stderr
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("where", ["missing-folder", "directory"])
def test_bad_output_is_one_line_exit_2(tmp_path, where):
    (tmp_path / "app.py").write_text("print('ran')\n")
    out = str(tmp_path / "no" / "x.ctrace") if where == "missing-folder" else str(tmp_path)
    res = canceltrace(["run", "--output", out, "app.py"], tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("canceltrace: cannot write %s: " % out), res.stderr


def test_pytest_bad_output_is_a_usage_error_not_internalerror(tmp_path):
    res = ctutil.run_pytest(tmp_path, {"test_a.py": "def test_a(): pass\n"}, trace=tmp_path / "no" / "x.ctrace",
                            timeout=60)
    assert res.returncode == 4, res.stdout + res.stderr           # pytest's usage-error status
    assert "INTERNALERROR" not in res.stdout + res.stderr
    assert "canceltrace: cannot write" in res.stderr and "No such file or directory" in res.stderr


def test_fork_warns_as_without_the_recorder(tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    res, plain, out = run_program(tmp_path, """
        import asyncio, os, warnings
        warnings.simplefilter("default")
        async def main():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            t = asyncio.create_task(asyncio.sleep(10)); await asyncio.sleep(0); t.cancel()
            print("parent done")
        asyncio.run(main())
    """)
    assert res.returncode == plain.returncode == 0
    assert res.stdout == plain.stdout == "parent done\n"
    assert "DeprecationWarning" not in res.stderr and "ResourceWarning" not in res.stderr, res.stderr
    assert res.stderr == plain.stderr
    assert read(str(out)).closed


def test_os_exit_flushes_what_was_recorded(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio, os
        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
        async def main():
            t = asyncio.create_task(stubborn()); await asyncio.sleep(0); t.cancel(); await asyncio.sleep(0.01)
            os._exit(3)
        asyncio.run(main())
    """, env={"CANCELTRACE_FLUSH_INTERVAL": "100"})
    assert res.returncode == plain.returncode == 3
    ctutil.wait_for_writer(out)
    tr = read(str(out))
    assert not tr.closed
    assert ctutil.unrethrown_catches(tr) == ["stubborn"]


SUPPRESS = """
    import asyncio
    async def deliberate():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:  COMMENT
            pass
    async def other():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
    async def main():
        for f in (deliberate, other):
            t = asyncio.create_task(f()); await asyncio.sleep(0); t.cancel(); await t
    asyncio.run(main())
"""


@pytest.mark.parametrize("how", ["comment", "comment-rule", "env-function", "env-other-rule"])
def test_suppression_marks(tmp_path, how):
    comment = {"comment": "# canceltrace: ignore",
               "comment-rule": "# canceltrace: ignore[swallowed-cancellation, leaked-task]"}.get(how, "")
    env = {"env-function": "function:delib*", "env-other-rule": "function:deliberate [slow-cleanup]"}.get(how)
    res, plain, out = run_program(tmp_path, SUPPRESS.replace("COMMENT", comment),
                                  env={"CANCELTRACE_IGNORE": env} if env else None)
    assert res.returncode == 0, res.stderr
    tr = read(str(out))
    names = ctutil.task_names(tr)
    ignores = {names[e["task"]]: e["label"] for e in tr.events if e["kind"] == "mark"
               and e["label"].startswith("ignore ")}
    want = {"comment": "ignore all", "comment-rule": "ignore swallowed-cancellation,leaked-task",
            "env-function": "ignore all", "env-other-rule": "ignore slow-cleanup"}[how]
    assert ignores == {"deliberate": want}
    assert sorted(ctutil.unrethrown_catches(tr)) == ["deliberate", "other"]     # the events are all there
    cli = ctutil.check_with_cli(out)
    if cli is not None:
        reported = sorted(ctutil.name_matches(f.get("taskName", ""), "deliberate") for f in cli
                          if f["rule"] == "swallowed-cancellation")
        assert reported == ([False, True] if how == "env-other-rule" else [False])


def test_suppression_by_test_in_pytest_ini(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\ncanceltrace_ignore =\n    test:*::test_deliberate\n")
    out = tmp_path / "s.ctrace"
    res = ctutil.run_pytest(tmp_path, {"test_s.py": """
        import asyncio
        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
        async def run():
            t = asyncio.create_task(stubborn()); await asyncio.sleep(0); t.cancel(); await t
        def test_deliberate():
            asyncio.run(run())
        def test_bug():
            asyncio.run(run())
    """}, trace=out)
    assert res.returncode == 0, res.stdout + res.stderr
    tr = read(str(out))
    by_task = {}
    for e in tr.events:
        if e["kind"] == "mark" and e["task"]:
            by_task.setdefault(e["task"], []).append(e["label"])
    assert sorted(by_task.values()) == [["test test_s.py::test_bug"],
                                        ["test test_s.py::test_deliberate", "ignore all"]]


DEFAULT_IGNORED = """
    class BlockingPortal:
        async def _call_func(self):
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass            # anyio hands the cancellation to the waiting thread's future here
    async def _call_func():     # same name, not the method: not a default
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass
"""


@pytest.mark.parametrize("defaults", ["on", "off"])
def test_default_suppressions_match_file_and_name(tmp_path, defaults):
    # A stand-in for anyio/from_thread.py: the default matches the file's path ending and the qualified name.
    (tmp_path / "lib" / "anyio").mkdir(parents=True)
    (tmp_path / "lib" / "anyio" / "__init__.py").write_text("")
    (tmp_path / "lib" / "anyio" / "from_thread.py").write_text("import asyncio\n" + textwrap.dedent(DEFAULT_IGNORED))
    (tmp_path / "lib" / "mine.py").write_text("import asyncio\n" + textwrap.dedent(DEFAULT_IGNORED))
    res, plain, out = run_program(tmp_path, """
        import asyncio, sys
        sys.path.insert(0, "lib")
        import anyio.from_thread as lib, mine
        async def main():
            for f in (lib.BlockingPortal()._call_func, lib._call_func, mine.BlockingPortal()._call_func):
                t = asyncio.create_task(f()); await asyncio.sleep(0); t.cancel(); await t
        asyncio.run(main())
    """, env={"CANCELTRACE_DEFAULT_IGNORES": "0"} if defaults == "off" else None)
    assert res.returncode == 0, res.stderr
    tr = read(str(out))
    ignored = [e["task"] for e in tr.events if e["kind"] == "mark" and e["label"] == "ignore swallowed-cancellation"]
    sites = {e["task"]: e["location"] for e in tr.events if e["kind"] == "site"}
    assert len(ctutil.unrethrown_catches(tr)) == 3
    if defaults == "off":
        assert ignored == []
    else:
        assert len(ignored) == 1 and sites[ignored[0]].startswith("lib/anyio/from_thread.py:")
    cli = ctutil.check_with_cli(out)
    if cli is not None:
        assert len([f for f in cli if f["rule"] == "swallowed-cancellation"]) == (3 if defaults == "off" else 2)
