"""Seed cause 3 (correct, 3.11+): a TaskGroup child fails; the group cancels its siblings (which clean up
and re-raise) and main gets an ExceptionGroup. TaskGroup cancels and then uncancels main itself."""
# REQUIRES: 3.11
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "cancel", "task": "sibling", "reason": "sibling-failure", "by": "failing"}, {"kind": "cancel", "task": "main", "reason": "sibling-failure"}, {"kind": "uncancel", "task": "main"}, {"kind": "spawn", "task": "failing", "how": "group-child"}, {"kind": "end", "task": "main", "outcome": "returned"}]
import asyncio

cleaned = []  # TaskGroup cancels its children in set order (by address): print them sorted


async def sibling(n):
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        cleaned.append("sibling %d cancelled, cleaning up" % n)
        raise


async def failing():
    await asyncio.sleep(0.05)
    raise ValueError("boom")


async def main():
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(sibling(1))
            tg.create_task(sibling(2))
            tg.create_task(failing())
    except* ValueError as eg:
        print("\n".join(sorted(cleaned)))
        print("group failed:", eg.exceptions)


asyncio.run(main())
