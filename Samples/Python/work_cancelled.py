"""Seed example 2: work() has no handler; t.cancel() raises CancelledError in work(), and `await t` in main
re-raises it, so asyncio.run() itself raises CancelledError (the program exits with status 1, as in the seed)."""
# EXPECT: []
# EXIT: 1
# EXPECT-EVENTS: [{"kind": "cancel", "task": "work", "reason": "explicit"}, {"kind": "end", "task": "work", "outcome": "cancelled"}, {"kind": "end", "task": "main", "outcome": "cancelled"}]
import asyncio

DELAY = 0.05


async def work():
    await asyncio.sleep(100)


async def main():
    t = asyncio.create_task(work())
    await asyncio.sleep(DELAY)
    t.cancel()  # CancelledError raised in work()
    await t


asyncio.run(main())
