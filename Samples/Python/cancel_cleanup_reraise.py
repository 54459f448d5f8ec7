"""Seed example 1 (correct): task.cancel() on a running task; it cleans up and re-raises.
The seed sleeps 1 s before cancelling; DELAY keeps the sample fast."""
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "cancel", "task": "long_task", "reason": "explicit", "by": "main"}, {"kind": "end", "task": "long_task", "outcome": "cancelled"}]
# EXPECT-EVENTS-3.12+: [{"kind": "caught", "task": "long_task"}, {"kind": "rethrow", "task": "long_task"}]
import asyncio

DELAY = 0.05


async def long_task():
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        print("Task cancelled — cleaning up")
        raise  # must re-raise CancelledError


async def main():
    task = asyncio.create_task(long_task())
    await asyncio.sleep(DELAY)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass  # the canceller may catch its child's cancellation: not a swallow


asyncio.run(main())
