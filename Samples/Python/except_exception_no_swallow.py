"""Not a bug since 3.8: `except Exception` does not catch CancelledError (a BaseException), so the
cancellation propagates and the task ends cancelled."""
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "end", "task": "worker", "outcome": "cancelled"}]
# EXPECT-NO-EVENTS: [{"kind": "caught", "task": "worker"}]
import asyncio


async def worker():
    try:
        await asyncio.sleep(100)
    except Exception as e:  # does not catch CancelledError
        print("never printed", e)


async def main():
    t = asyncio.create_task(worker())
    await asyncio.sleep(0.05)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("worker cancelled:", t.cancelled())


asyncio.run(main())
