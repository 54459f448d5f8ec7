"""Buggy: the task catches its cancellation and raises a different error instead."""
# EXPECT: [{"rule": "cancellation-converted", "task": "fetch"}]
import asyncio


class FetchError(Exception):
    pass


async def fetch():
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        raise FetchError("fetch aborted")


async def main():
    t = asyncio.create_task(fetch())
    await asyncio.sleep(0.05)
    t.cancel()
    try:
        await t
    except FetchError as e:
        print("fetch failed:", e)


asyncio.run(main())
