"""Regression tests for the false alarms found on real asyncio code (issue 15): each is the smallest program that
showed one, run on every Python version (ci.sh runs them on each). The assertion is the analyzer's view
(ctutil.unrethrown_catches, and `canceltrace check` itself when the analyzer is at hand), and every test also
keeps a real swallow of the same shape reported, so that a fix cannot pass by recording nothing."""
import sys

import pytest

import ctutil
from canceltrace.reader import read
from test_recorder import run_program

PY = sys.version_info[:2]


def analyzed(tmp_path, source, args=()):
    res, plain, out = run_program(tmp_path, source, args=args)
    assert res.returncode == plain.returncode == 0, res.stderr
    assert res.stdout == plain.stdout
    tr = read(str(out))
    cli = ctutil.check_with_cli(out)
    errors = None if cli is None else [f for f in cli if f["level"] == "error"]
    return tr, ctutil.unrethrown_catches(tr), errors


STOP_HELPER = """
    import asyncio, sys
    async def child():
        await asyncio.sleep(10)
    async def stop_helper():
        t = asyncio.create_task(child()); await asyncio.sleep(0); t.cancel()
        try:
            await t
        except asyncio.CancelledError:
            pass                                  # the helper's cancellation, not the worker's
    async def worker():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await stop_helper()
            RAISE
    async def fail():
        await asyncio.sleep(0.01); raise KeyError("x")
    async def main(how):
        if how == "wait_for":
            try:
                await asyncio.wait_for(worker(), 0.02)
            except asyncio.TimeoutError:
                pass
        elif how == "timeout":
            try:
                async with asyncio.timeout(0.02):
                    await worker()
            except TimeoutError:
                pass
        elif how == "taskgroup":
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(worker()); tg.create_task(fail())
            except BaseException as e:            # ExceptionGroup([KeyError])
                print(type(e).__name__)
    asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("how", ["wait_for", "timeout", "taskgroup"])
def test_handler_that_awaits_another_tasks_cancellation_then_reraises(tmp_path, how):
    # 1. 3.12+: the coroutine returning into the handler reports a StopIteration raise, which closed the catch as
    # a conversion, so the bare `raise` after it was never seen as a rethrow.
    if how != "wait_for" and PY < (3, 11):
        pytest.skip("asyncio.timeout and TaskGroup are 3.11+")
    tr, swallows, errors = analyzed(tmp_path, STOP_HELPER.replace("RAISE", "raise"), args=[how])
    assert swallows == [] and errors in (None, []), (swallows, errors)
    if PY >= (3, 12):
        assert ctutil.find_events(tr, {"kind": "rethrow"}), "the worker's re-raise is recorded"
    # The same handler without the re-raise is still a swallow (not visible on 3.11 inside asyncio.timeout: the
    # timeout withdraws its request when it expires, and 3.11 has no exact catches; see Docs/Python.md).
    tr, swallows, errors = analyzed(tmp_path, STOP_HELPER.replace("RAISE", "return"), args=[how])
    if not (how == "timeout" and PY < (3, 12)):
        assert swallows, "the swallow without re-raise must still be reported"


def test_nested_catch_of_another_cancellation_keeps_the_open_catch(tmp_path):
    # 1b. 3.12+, a task that cancelled itself (every handled CancelledError is looked at): the helper's catch of
    # its child's cancellation must not take the place of the worker's own catch.
    tr, swallows, errors = analyzed(tmp_path, STOP_HELPER.replace("RAISE", "raise").replace(
        'asyncio.run(main(sys.argv[1]))', '''
    async def selfcancel():
        asyncio.current_task().cancel()
        await worker()
    async def main2():
        try:
            await asyncio.create_task(selfcancel())
        except asyncio.CancelledError:
            print("cancelled")
    asyncio.run(main2())'''))
    assert swallows == [] and errors in (None, [])
    if PY >= (3, 12):
        w = [e for e in tr.events if e["kind"] in ("caught", "rethrow")
             and ctutil.task_names(tr)[e["task"]] == "selfcancel"]
        assert [e["kind"] for e in w] == ["caught", "rethrow"], w


ANYIO = """
    import sys, asyncio, anyio
    async def sleeper():
        await anyio.sleep(10)
    async def stubborn():
        try:
            await anyio.sleep(10)
        except asyncio.CancelledError:
            return                                # swallows the group's cancellation: a real finding
    async def main(how):
        if how == "tg":
            async with anyio.create_task_group() as tg:
                tg.start_soon(sleeper)
                await anyio.sleep(0.01)
                tg.cancel_scope.cancel()
        elif how == "move_on":
            with anyio.move_on_after(0.01):
                await anyio.sleep(10)
        elif how == "fail_after":
            try:
                with anyio.fail_after(0.01):
                    await anyio.sleep(10)
            except TimeoutError:
                pass
        elif how == "nested":
            with anyio.CancelScope() as outer:
                with anyio.move_on_after(5):
                    outer.cancel()
                    await anyio.sleep(10)
        elif how == "swallow":
            async with anyio.create_task_group() as tg:
                tg.start_soon(stubborn)
                await anyio.sleep(0.01)
                tg.cancel_scope.cancel()
        print("done", how)
    anyio.run(main, sys.argv[1])
"""


@pytest.mark.parametrize("how", ["tg", "move_on", "fail_after", "nested"])
def test_anyio_scope_consuming_its_own_cancel(tmp_path, how):
    # 2. A cancel scope cancels its host task and its __exit__ consumes exactly that cancellation.
    pytest.importorskip("anyio")
    tr, swallows, errors = analyzed(tmp_path, ANYIO, args=[how])
    assert swallows == [] and errors in (None, []), (swallows, errors)
    main = [e for e in tr.events if e["kind"] == "cancel" and ctutil.task_names(tr)[e["task"]].startswith("main")]
    assert main, "the scope's cancel of the host task is recorded"
    assert main[0]["reason"] == ("timeout" if how in ("move_on", "fail_after") else "explicit")
    withdrawn = ctutil.find_events(tr, {"kind": "uncancel", "task": "main"})
    assert len(withdrawn) == len(main), "every scope-owned request is withdrawn"


def test_anyio_child_that_swallows_is_still_reported(tmp_path):
    pytest.importorskip("anyio")
    tr, swallows, errors = analyzed(tmp_path, ANYIO, args=["swallow"])
    assert [n.split(" (")[-1] for n in swallows] == ["__main__.stubborn)"], swallows
    assert errors is None or len(errors) == 1


ASYNC_TIMEOUT = """
    import asyncio
    from async_timeout import timeout
    async def fetch():
        async with timeout(0.01):                 # library code converting its own cancel to TimeoutError
            await asyncio.sleep(10)
    async def main():
        try:
            async with timeout(0.01):
                await asyncio.sleep(10)
        except asyncio.TimeoutError:
            print("timed out")
        try:
            await asyncio.create_task(fetch())
        except asyncio.TimeoutError:
            print("fetch timed out")
    asyncio.run(main())
"""


def test_async_timeout(tmp_path):
    # 3. async-timeout (aiohttp, redis-py): its cancel is a timeout, and the TimeoutError it raises is its own.
    pytest.importorskip("async_timeout")
    tr, swallows, errors = analyzed(tmp_path, ASYNC_TIMEOUT)
    assert swallows == [] and errors in (None, []), (swallows, errors)
    cancels = [e for e in tr.events if e["kind"] == "cancel"]
    assert len(cancels) == 2 and {e["reason"] for e in cancels} == {"timeout"}
    fetch_end = ctutil.find_events(tr, {"kind": "end", "task": "fetch"})
    assert fetch_end[0]["outcome"] == "failed"
    assert fetch_end[0]["error"] == ("TimeoutError" if PY >= (3, 11) else "asyncio.TimeoutError")


def test_cleanup_ends_when_the_request_is_withdrawn(tmp_path):
    # 4. A handler that completed inside asyncio.timeout: its cleanup ends when the timeout withdraws the request,
    # not when the task ends (slow-cleanup measured the time after it).
    if PY < (3, 12):
        pytest.skip("cleanup records need sys.monitoring (3.12+)")
    tr, swallows, errors = analyzed(tmp_path, """
        import asyncio, time
        async def main():
            async with asyncio.timeout(0.01):
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    pass                          # swallowed: a real finding
            await asyncio.sleep(0.3)              # later work, not cleanup
        asyncio.run(main())
    """)
    assert swallows == ["main"]
    ev = [e for e in tr.events if e["kind"] in ("cleanup-begin", "cleanup-end", "uncancel", "end")
          and e["task"] == 1]
    kinds = [e["kind"] for e in ev]
    assert kinds == ["cleanup-begin", "cleanup-end", "uncancel", "end"], kinds
    assert ev[1]["time"] == ev[2]["time"]       # the cleanup ended with the withdrawal,
    assert ev[3]["time"] - ev[1]["time"] > 0.2e9  # and the 0.3 s of later work are not in it


def test_taskgroup_base_exception_group_at_shutdown_is_not_a_conversion(tmp_path):
    # 6. A TaskGroup whose child raises SystemExit: the group re-raises it as such (3.11+); not a conversion.
    if PY < (3, 11):
        pytest.skip("TaskGroup is 3.11+")
    res, plain, out = run_program(tmp_path, """
        import asyncio
        async def child():
            await asyncio.sleep(0.01); raise SystemExit(3)
        async def sibling():
            await asyncio.sleep(10)
        async def main():
            async with asyncio.TaskGroup() as tg:
                tg.create_task(child()); tg.create_task(sibling())
        asyncio.run(main())
    """)
    assert res.returncode == plain.returncode == 3
    tr = read(str(out))
    assert ctutil.unrethrown_catches(tr) == []
    cli = ctutil.check_with_cli(out)
    assert cli is None or [f for f in cli if f["rule"] in ("cancellation-converted", "swallowed-cancellation")] == []


def test_anyio_scope_withdrawal_is_recorded_when_the_scope_exited(tmp_path):
    # 2b/4. A consumed scope-owned request must not stay pending until the task's end (3.9/3.10 have no uncancel):
    # a later cancel would be measured from the scope's (slow-cancellation from a request long consumed).
    pytest.importorskip("anyio")
    res, plain, out = run_program(tmp_path, """
        import anyio, asyncio
        async def main():
            with anyio.move_on_after(0.01):
                await anyio.sleep(10)
            await anyio.sleep(0.2)
            asyncio.current_task().cancel()
            await anyio.sleep(1)
        try:
            anyio.run(main)
        except BaseException as e:
            print(type(e).__name__)
    """)
    assert res.returncode == plain.returncode == 0 and res.stdout == plain.stdout == "CancelledError\n"
    tr = read(str(out))
    kinds = [e["kind"] for e in tr.events if e.get("task") == 1 and e["kind"] in ("cancel", "uncancel", "end")]
    assert kinds == ["cancel", "uncancel", "cancel", "end"], kinds
    cli = ctutil.check_with_cli(out)
    assert cli is None or cli == []
