"""Buggy: a background task swallows the cancellation asyncio.run() sends at shutdown (graceful shutdown
broken: it keeps running its loop body once more and returns as if it had finished)."""
# EXPECT: [{"rule": "swallowed-cancellation", "task": "heartbeat"}]
# EXPECT-EVENTS: [{"kind": "cancel", "task": "heartbeat", "reason": "shutdown"}]
import asyncio


async def heartbeat():
    try:
        while True:
            await asyncio.sleep(0.01)
    except BaseException:
        print("heartbeat: ignoring shutdown")


async def main():
    asyncio.create_task(heartbeat())
    await asyncio.sleep(0.05)


asyncio.run(main())
