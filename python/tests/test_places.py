"""Findings point at code: names of wraps-decorated coroutines and eager tasks, the `site` of cancelled and
leaked tasks, and the pytest test a task ran in."""
import sys

import pytest

import ctutil
from canceltrace.reader import read
from test_recorder import run_program

PY = sys.version_info[:2]


def test_wraps_decorated_coroutines_keep_their_own_names(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio, functools
        def logged(f):
            @functools.wraps(f)
            async def wrapper(*a):
                return await f(*a)
            return wrapper
        @logged
        async def alpha(): await asyncio.sleep(0)
        @logged
        async def beta(): await asyncio.sleep(0)
        async def main():
            for c in (alpha, beta, alpha, beta):
                await asyncio.create_task(c())
        asyncio.run(main())
    """)
    assert res.returncode == 0, res.stderr
    names = [e["name"] for e in read(str(out)).events if e["kind"] == "spawn"][1:5]
    assert names == ["alpha", "beta", "alpha", "beta"]


@pytest.mark.skipif(PY < (3, 12), reason="eager task factory: Python 3.12+")
def test_eager_task_names(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def plain(): await asyncio.sleep(0)
        async def main():
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
            await asyncio.create_task(plain(), name="eager-one")
            await asyncio.get_running_loop().create_task(plain(), name="eager-two")
            await asyncio.create_task(plain())
        asyncio.run(main())
    """)
    assert res.returncode == 0, res.stderr
    names = [e["name"] for e in read(str(out)).events if e["kind"] == "spawn"][1:4]
    assert names == ["plain (eager-one)", "plain (eager-two)", "plain"]


def test_site_of_the_tasks_findings_can_be_about(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio
        class Worker:
            async def run(self):
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass
        async def quick(): pass
        async def prompt(): await asyncio.sleep(10)
        async def forgotten(): await asyncio.sleep(10)
        async def main():
            await asyncio.create_task(quick())
            for f in (Worker().run, prompt):
                t = asyncio.create_task(f())
                await asyncio.sleep(0); t.cancel()
                try:
                    await t
                except asyncio.CancelledError:
                    pass
            asyncio.get_running_loop().create_task(forgotten())
            await asyncio.sleep(0)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main())
        import canceltrace; canceltrace.stop()
    """)
    assert res.returncode == 0, res.stderr
    tr = read(str(out))
    names = ctutil.task_names(tr)
    sites = {names[e["task"]]: e["location"] for e in tr.events if e["kind"] == "site"}
    # Worker.run swallowed its cancellation, forgotten was left pending; prompt ended cancelled at once: no site.
    assert sites == {"Worker.run": "prog.py:4 (Worker.run)", "forgotten": "prog.py:11 (forgotten)"}, sites
    end = ctutil.find_events(tr, {"kind": "end", "task": "Worker.run"})[0]
    site = [e for e in tr.events if e["kind"] == "site" and names[e["task"]] == "Worker.run"][0]
    assert site["time"] == end["time"]
    assert tr.notices == [] or all("skipped" not in n for n in tr.notices)


def test_pytest_test_id_of_a_cancelled_task(tmp_path):
    out = tmp_path / "s.ctrace"
    res = ctutil.run_pytest(tmp_path, {"test_it.py": """
        import asyncio
        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
        def test_one():
            async def main():
                await asyncio.sleep(0)
            asyncio.run(main())
        def test_two():
            async def main():
                t = asyncio.create_task(stubborn())
                await asyncio.sleep(0); t.cancel(); await t
            asyncio.run(main())
    """}, trace=out)
    assert res.returncode == 0, res.stdout + res.stderr
    tr = read(str(out))
    names = ctutil.task_names(tr)
    stub = [t for t, n in names.items() if n == "stubborn"][0]
    marks = [e["label"] for e in tr.events if e["kind"] == "mark" and e["task"] == stub]
    assert marks == ["test test_it.py::test_two"]
    site = [e["location"] for e in tr.events if e["kind"] == "site" and e["task"] == stub]
    assert site == ["test_it.py:3 (stubborn)"]


def test_a_pytest_run_inside_a_test_does_not_take_over_its_tasks(tmp_path):
    # pytester runs an inner session in the same process (as anyio's own tests do): its tests get no marks, so
    # the outer test's task keeps the outer test's id.
    out = tmp_path / "s.ctrace"
    res = ctutil.run_pytest(tmp_path, {"test_outer.py": """
        import asyncio
        pytest_plugins = ["pytester"]
        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
        def test_outer(pytester):
            pytester.makepyfile(test_inner="def test_inner():\\n    pass\\n")
            pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
            async def main():
                t = asyncio.create_task(stubborn())
                await asyncio.sleep(0); t.cancel(); await t
            asyncio.run(main())
    """}, trace=out)
    assert res.returncode == 0, res.stdout + res.stderr
    tr = read(str(out))
    tests = sorted({e["label"] for e in tr.events if e["kind"] == "mark" and e["label"].startswith("test ")})
    assert tests == ["test test_outer.py::test_outer"], tests
    names = ctutil.task_names(tr)
    stub = [t for t, n in names.items() if n == "stubborn"][0]
    assert [e["label"] for e in tr.events if e["kind"] == "mark" and e["task"] == stub] == tests


@pytest.mark.skipif(PY >= (3, 11), reason="backports.asyncio.runner: Python 3.9 and 3.10")
def test_backport_runner_tasks_are_recorded(tmp_path):
    # pytest-asyncio on 3.9/3.10 runs each test's main task with backports.asyncio.runner's pure-Python Task.
    pytest.importorskip("backports.asyncio.runner")
    res, plain, out = run_program(tmp_path, """
        import asyncio
        from backports.asyncio.runner import Runner
        async def stubborn():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass
        async def main():
            t = asyncio.create_task(stubborn()); await asyncio.sleep(0); t.cancel(); await t
            print(type(asyncio.current_task()).__name__, asyncio.current_task().cancelling())
        with Runner() as r:
            r.run(main())
    """)
    assert res.returncode == plain.returncode == 0, res.stderr
    assert res.stdout == plain.stdout == "Task 0\n"
    tr = read(str(out))
    names = ctutil.task_names(tr)
    spawns = {names[e["task"]]: e for e in tr.events if e["kind"] == "spawn"}
    assert spawns["stubborn"]["parent"] == [t for t, n in names.items() if n == "main"][0]
    cancel = ctutil.find_events(tr, {"kind": "cancel", "task": "stubborn"})
    assert cancel and cancel[0]["by"] == spawns["stubborn"]["parent"]
    assert ctutil.unrethrown_catches(tr) == ["stubborn"]


def test_error_types_are_module_qualified(tmp_path):
    res, plain, out = run_program(tmp_path, """
        import asyncio, concurrent.futures, json
        async def conv():
            raise concurrent.futures.CancelledError("thread side")
        async def bad():
            json.loads("{")
        async def main():
            for f in (conv, bad):
                try:
                    await asyncio.create_task(f())
                except BaseException:
                    pass
        asyncio.run(main())
    """)
    assert res.returncode == 0, res.stderr
    tr = read(str(out))
    ends = {ctutil.task_names(tr)[e["task"]]: e["error"] for e in tr.events if e["kind"] == "end"
            and e["outcome"] == "failed"}
    assert ends == {"conv": "concurrent.futures._base.CancelledError", "bad": "json.decoder.JSONDecodeError"}
