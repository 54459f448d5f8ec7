"""Seed cause 2 (correct): asyncio.wait_for() times out and cancels the coroutine, which re-raises;
main sees TimeoutError. On 3.9-3.11 wait_for runs the coroutine in its own task (cancelled with reason
timeout); on 3.12+ it runs in main's task, which asyncio.timeout cancels and then uncancels."""
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "cancel", "reason": "timeout"}]
# EXPECT-EVENTS-3.12+: [{"kind": "cancel", "task": "main", "reason": "timeout"}, {"kind": "uncancel", "task": "main"}, {"kind": "caught", "task": "main"}, {"kind": "rethrow", "task": "main"}]
import asyncio


async def slow_operation():
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        print("slow_operation cancelled by the timeout")
        raise


async def main():
    try:
        await asyncio.wait_for(slow_operation(), timeout=0.05)
    except asyncio.TimeoutError:
        print("timed out")


asyncio.run(main())
