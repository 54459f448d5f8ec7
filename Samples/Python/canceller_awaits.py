"""Correct: the canceller cancels a child, awaits it and catches the child's CancelledError. The canceller was
not cancelled, so its `except CancelledError: pass` is not a swallow."""
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "cancel", "task": "child", "by": "main"}, {"kind": "end", "task": "child", "outcome": "cancelled"}, {"kind": "end", "task": "main", "outcome": "returned"}]
# EXPECT-NO-EVENTS: [{"kind": "caught", "task": "main"}]
import asyncio


async def child():
    await asyncio.sleep(100)


async def main():
    t = asyncio.create_task(child())
    await asyncio.sleep(0.05)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        pass
    print("child cancelled:", t.cancelled())


asyncio.run(main())
