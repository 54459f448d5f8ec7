"""Buggy (3.11+): a TaskGroup sibling swallows the group's cancellation and returns normally."""
# REQUIRES: 3.11
# EXPECT: [{"rule": "swallowed-cancellation", "task": "stubborn"}]
import asyncio


async def stubborn():
    try:
        await asyncio.sleep(100)
    except BaseException:
        print("stubborn: ignoring cancellation")
    return 1


async def failing():
    await asyncio.sleep(0.05)
    raise ValueError("boom")


async def main():
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(stubborn())
            tg.create_task(failing())
    except* ValueError:
        print("group failed")


asyncio.run(main())
