"""Seed: asyncio.shield(). Cancelling the caller does not cancel the shielded operation, which completes;
the caller ends cancelled. No finding."""
# EXPECT: []
# EXPECT-EVENTS: [{"kind": "cancel", "task": "caller", "reason": "explicit"}, {"kind": "end", "task": "critical_operation", "outcome": "returned"}, {"kind": "end", "task": "caller", "outcome": "cancelled"}]
# EXPECT-NO-EVENTS: [{"kind": "cancel", "task": "critical_operation"}]
import asyncio


async def critical_operation():
    await asyncio.sleep(0.1)
    print("critical operation finished")
    return 42


async def caller():
    result = await asyncio.shield(critical_operation())
    return result


async def main():
    t = asyncio.create_task(caller())
    await asyncio.sleep(0.02)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("caller cancelled; the shielded operation goes on")
    await asyncio.sleep(0.15)


asyncio.run(main())
