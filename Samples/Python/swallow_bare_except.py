"""Buggy: a bare `except:` catches CancelledError and the task returns normally."""
# EXPECT: [{"rule": "swallowed-cancellation", "task": "long_task"}]
import asyncio


async def long_task():
    try:
        await asyncio.sleep(100)
    except:  # noqa: E722  -- catches CancelledError too
        print("Task cancelled — cleaning up")
    return "done"


async def main():
    task = asyncio.create_task(long_task())
    await asyncio.sleep(0.05)
    task.cancel()
    print("result:", await task, "cancelled:", task.cancelled())


asyncio.run(main())
