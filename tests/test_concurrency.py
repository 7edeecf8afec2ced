"""bot/concurrency.py: one person's updates in order, different people's side by side."""
from __future__ import annotations

import asyncio

from telegram import Update

from bot.concurrency import PerUserUpdateProcessor, ordering_key

_ids = iter(range(1, 10_000))


def message_from(user_id: int, text: str = "hi", chat_id: int | None = None) -> Update:
    chat = chat_id if chat_id is not None else user_id
    return Update.de_json({
        "update_id": next(_ids),
        "message": {"message_id": next(_ids), "date": 0, "text": text,
                    "chat": {"id": chat, "type": "private" if chat > 0 else "group", "title": "组"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "A"}},
    }, None)


def channel_post(chat_id: int) -> Update:
    return Update.de_json({"update_id": next(_ids), "channel_post": {
        "message_id": 1, "date": 0, "text": "x", "chat": {"id": chat_id, "type": "channel", "title": "c"}}}, None)


async def test_one_users_updates_wait_for_each_other_and_others_do_not():
    processor = PerUserUpdateProcessor(max_concurrent_updates=16)
    started: list[str] = []
    release = {name: asyncio.Event() for name in ("a1", "a2", "b1")}

    async def work(name: str) -> None:
        started.append(name)
        await release[name].wait()

    tasks = [asyncio.create_task(processor.process_update(update, work(name)))
             for name, update in (("a1", message_from(1)), ("a2", message_from(1)), ("b1", message_from(2)))]
    await asyncio.sleep(0.05)
    assert started == ["a1", "b1"]      # a2 waits behind a1; b1 did not wait for anyone
    release["b1"].set()
    await asyncio.sleep(0.05)
    assert started == ["a1", "b1"]      # b1 finishing does not let a2 overtake a1
    release["a1"].set()
    await asyncio.sleep(0.05)
    assert started == ["a1", "b1", "a2"]
    release["a2"].set()
    await asyncio.gather(*tasks)
    assert processor.lanes == 0         # nothing kept for people who have gone quiet


async def test_many_updates_of_one_user_run_in_arrival_order():
    processor = PerUserUpdateProcessor(max_concurrent_updates=8)
    seen: list[int] = []

    async def work(i: int) -> None:
        await asyncio.sleep(0.001 * ((7 * i) % 5))  # uneven durations would reorder a plain gather
        seen.append(i)

    await asyncio.gather(*(processor.process_update(message_from(5), work(i)) for i in range(40)))
    assert seen == list(range(40))


async def test_a_failing_update_releases_its_lane():
    processor = PerUserUpdateProcessor()

    async def boom() -> None:
        raise RuntimeError("handler bug")

    async def fine() -> str:
        return "ok"

    results = await asyncio.gather(processor.process_update(message_from(9), boom()),
                                   processor.process_update(message_from(9), fine()), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] is None
    assert processor.lanes == 0


def test_keys_are_the_sender_then_the_chat():
    assert ordering_key(message_from(1, chat_id=-100)) == ordering_key(message_from(1)) == ("user", 1)
    assert ordering_key(message_from(2, chat_id=-100)) != ordering_key(message_from(1, chat_id=-100))
    assert ordering_key(channel_post(-1007)) == ("chat", -1007)
    assert ordering_key(object()) == ("other", None)


async def test_one_users_backlog_does_not_take_everyones_slots():
    """A rep with a burst of updates queued in their lane must not starve another rep."""
    processor = PerUserUpdateProcessor(max_concurrent_updates=4)
    gate = asyncio.Event()
    done: list[str] = []

    async def slow(i: int) -> None:
        await gate.wait()
        done.append(f"a{i}")

    async def quick() -> None:
        done.append("b")

    backlog = [asyncio.create_task(processor.process_update(message_from(1), slow(i))) for i in range(50)]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(processor.process_update(message_from(2), quick()), 2)  # not behind the 50
    assert done == ["b"]
    gate.set()
    await asyncio.gather(*backlog)
    assert done[1:] == [f"a{i}" for i in range(50)]


async def test_the_limit_on_running_handlers_holds():
    processor = PerUserUpdateProcessor(max_concurrent_updates=3)
    running, peak = 0, 0
    gate = asyncio.Event()

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1

    tasks = [asyncio.create_task(processor.process_update(message_from(100 + i), work())) for i in range(10)]
    await asyncio.sleep(0.02)
    assert running == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 3
