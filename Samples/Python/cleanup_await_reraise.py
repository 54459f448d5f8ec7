"""Seed fix pattern: catch CancelledError, await the cleanup, re-raise (correct)."""
# EXPECT: []
# EXPECT-EVENTS-3.12+: [{"kind": "caught", "task": "my_task"}, {"kind": "cleanup-begin", "task": "my_task"}, {"kind": "cleanup-end", "task": "my_task", "result": "ok"}, {"kind": "rethrow", "task": "my_task"}]
import asyncio


async def some_operation():
    await asyncio.sleep(100)


async def cleanup():
    await asyncio.sleep(0.01)  # close connections, release locks, etc.
    print("cleaned up")


async def my_task():
    try:
        await some_operation()
    except asyncio.CancelledError:
        await cleanup()
        raise  # MUST re-raise so the task is properly cancelled


async def main():
    t = asyncio.create_task(my_task())
    await asyncio.sleep(0.02)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("my_task cancelled:", t.cancelled())


asyncio.run(main())
