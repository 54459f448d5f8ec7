"""Buggy: a task is still pending when its loop is closed without cancelling it (no asyncio.run)."""
# EXPECT: [{"rule": "leaked-task", "task": "forgotten"}]
import asyncio


async def forgotten():
    await asyncio.sleep(100)


async def main():
    global keep
    keep = asyncio.get_running_loop().create_task(forgotten())
    await asyncio.sleep(0.02)


loop = asyncio.new_event_loop()
loop.run_until_complete(main())
loop.close()
