"""Buggy: the coroutine under wait_for() swallows the timeout's cancellation, so wait_for returns its value
instead of raising TimeoutError (on 3.9-3.11 wait_for's inner task returns normally; on 3.12+ the
coroutine runs in main's task, which catches its own cancellation and returns)."""
# EXPECT: [{"rule": "swallowed-cancellation", "task": "slow_operation"}]
# EXPECT-3.12+: [{"rule": "swallowed-cancellation", "task": "main"}]
import asyncio


async def slow_operation():
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        return "partial"  # swallowed


async def main():
    result = await asyncio.wait_for(slow_operation(), timeout=0.05)
    print("wait_for returned", result, "instead of raising TimeoutError")


asyncio.run(main())
