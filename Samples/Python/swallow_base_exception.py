"""Buggy: `except BaseException` catches CancelledError and does not re-raise."""
# EXPECT: [{"rule": "swallowed-cancellation", "task": "worker"}]
import asyncio


async def worker():
    try:
        await asyncio.sleep(100)
    except BaseException as e:
        print("caught", type(e).__name__)


async def main():
    t = asyncio.create_task(worker())
    await asyncio.sleep(0.05)
    t.cancel()
    await t
    print("worker cancelled?", t.cancelled())


asyncio.run(main())
