"""Correct (3.11+): asyncio.timeout() cancels the task and turns its own cancellation into TimeoutError
(uncancel). Not a conversion finding."""
# REQUIRES: 3.11
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "cancel", "task": "main", "reason": "timeout"}, {"kind": "uncancel", "task": "main"}, {"kind": "end", "task": "main", "outcome": "returned"}]
import asyncio


async def main():
    try:
        async with asyncio.timeout(0.05):
            await asyncio.sleep(100)
    except TimeoutError:
        print("timed out")


asyncio.run(main())
