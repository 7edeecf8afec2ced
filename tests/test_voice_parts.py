"""The parts behind voice notes: spoken numbers, audio preparation, retries, breaker, budget, settings."""
from __future__ import annotations

import httpx
import pytest

from core.config import ConfigError, load_config
from services import audio
from services.resilience import (CircuitBreaker, DailyBudget, Endpoint, RetryPolicy, ServiceError, ServiceSettings,
                                 retry_after_seconds)
from services.speech import SpeechService, read_text
from services.spoken import cn_number, normalize_spoken
from tests.audiofix import mp3_recording, voice_note


@pytest.mark.parametrize("spoken, value", [("五万", 50000), ("两千五", 2500), ("三万五", 35000), ("一百零五", 105),
                                           ("一点五万", 15000), ("十二万三千", 123000), ("十五", 15), ("一亿五千万", 150_000_000)])
def test_cn_number(spoken, value):
    assert cn_number(spoken) == value


@pytest.mark.parametrize("text, expected", [
    ("张总已经报价五万，下周二下午三点回访", "张总已经报价50000，下周二下午三点回访"),
    ("王总 两千五一台 十二月五号签", "王总 2500一台 12月5号签"),
    ("预算一点五万块", "预算15000块"),
    ("三百元", "300元"),
    # Not amounts or days: left alone.
    ("星期五见 三一重工", "星期五见 三一重工"),
    ("三天后再打", "三天后再打"),
    ("三百多人 周日 日子", "三百多人 周日 日子"),
    ("已报价5万 下周二", "已报价5万 下周二"),
])
def test_normalize_spoken(text, expected):
    assert normalize_spoken(text) == expected


def test_spoken_update_is_parsed_like_typed(core):
    from core.clock import to_local
    from services.quick_update import parse_update
    from storage.models import User
    user = User(id=1, tg_id=1, name="x", role="rep", team_id=None)
    draft = core.db.call_read(parse_update, core.config, user, "已经报价五万，下周二下午三点回访", core.clock.now())
    assert draft.amount == 50000
    local = to_local(draft.next_at, core.config.tz)
    assert (local.month, local.day, local.hour) == (12, 1, 15)  # 2026-11-26 is a Thursday


def test_wav_chunks_resample_to_16k_mono_and_cut_long_audio():
    chunks = list(audio.wav_chunks(voice_note(3.0), max_seconds=60))
    assert len(chunks) == 1 and chunks[0][:4] == b"RIFF"
    assert abs((len(chunks[0]) - 44) / 32000 - 3.0) < 0.05  # 16 kHz × 2 bytes
    long = list(audio.wav_chunks(mp3_recording(7.0), max_seconds=60, chunk_seconds=3))
    assert [len(c) - 44 for c in long[:2]] == [3 * 32000, 3 * 32000] and len(long) == 3
    with pytest.raises(audio.AudioError) as too_long:
        list(audio.wav_chunks(voice_note(5.0), max_seconds=2))
    assert too_long.value.kind == "too_long"
    for junk in (b"", b"hello" * 100, b"OggS" + b"\0" * 500):
        with pytest.raises(audio.AudioError):
            list(audio.wav_chunks(junk, max_seconds=60))
        with pytest.raises(audio.AudioError):
            audio.probe(junk)


def test_plan_sends_telegrams_file_unchanged_or_decodes():
    from tests.audiofix import video_note
    config = load_config()
    config = config.model_copy(update={"speech": config.speech.model_copy(update={"max_audio_seconds": 60})})
    service = SpeechService(ServiceSettings(url="http://x", model="m"), config)
    note = voice_note(2.0)
    seconds, whole = service.plan(note)
    assert abs(seconds - 2.0) < 0.05 and whole == ("audio.ogg", note, "audio/ogg")
    assert service.plan(video_note(1.0))[1] is None, "a video note's picture never leaves: its sound is decoded"
    with pytest.raises(audio.AudioError) as err:
        service.plan(voice_note(61.0))
    assert err.value.kind == "too_long"
    service.audio_mode = "wav"
    assert service.plan(note)[1] is None


def test_read_text():
    assert read_text(b'{"text": " \xe4\xbd\xa0\xe5\xa5\xbd "}') == "你好"
    for body in (b"<html>", b"[]", b'{"text": 5}', b'{"segments": []}', b"\xff\xfe"):
        with pytest.raises(ServiceError) as err:
            read_text(body)
        assert err.value.kind == "bad_response"


def test_breaker_opens_half_opens_and_closes():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, reset_after_s=10, now=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow() and breaker.retry_in() == 10
    now[0] = 10.5
    assert breaker.allow() and not breaker.allow(), "one trial call only"
    breaker.failure()
    assert breaker.state == "open"
    now[0] = 21
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


@pytest.mark.parametrize("kind", ["memory", "database"])
async def test_budget_per_day_and_release(kind, db):
    from services.usage import DbBudget
    budget = DailyBudget(10) if kind == "memory" else DbBudget(db, "speech", 10)
    assert await budget.reserve("d1", 6) and not await budget.reserve("d1", 5)
    await budget.release("d1", 6)
    assert await budget.used("d1") == 0
    assert await budget.reserve("d1", 10) and await budget.used("d1") == 10
    assert await budget.reserve("d2", 10), "a new day starts afresh"


async def test_database_budget_is_shared_by_instances(db_url, db):
    """Two bot processes (two engines) reserving at once never spend more than the limit together."""
    import asyncio

    from services.usage import DbBudget
    from storage.db import Database
    other = Database(db_url)
    try:
        a, b = DbBudget(db, "speech", 10), DbBudget(other, "speech", 10)
        results = await asyncio.gather(*[(a if i % 2 else b).reserve("d", 1) for i in range(30)])
        assert sum(results) == 10 and await a.used("d") == 10 == await b.used("d")
    finally:
        other.close()


def test_retry_policy_and_retry_after():
    policy = RetryPolicy(attempts=3, base_delay_s=1, max_delay_s=8, max_retry_after_s=10)
    assert 0.8 <= policy.delay(0, None) <= 1.2 and 1.6 <= policy.delay(1, None) <= 2.4
    assert policy.delay(2, None) is None
    assert policy.delay(0, 3.0) == 3.0 and policy.delay(0, 60.0) is None
    assert retry_after_seconds("7") == 7 and retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0


async def test_endpoint_retries_5xx_and_not_4xx():
    statuses = [503, 502, 200]
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0) if statuses else 401
        seen.append(status)
        return httpx.Response(status, json={"text": "ok"})

    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    endpoint = Endpoint(ServiceSettings(url="http://svc", model="m"), DailyBudget(10),
                        transport=httpx.MockTransport(handler), sleep=sleep)
    assert (await endpoint.post("/v1/x")).status_code == 200
    assert seen == [503, 502, 200] and len(slept) == 2
    with pytest.raises(ServiceError) as err:
        await endpoint.post("/v1/x")
    assert err.value.kind == "rejected" and seen[-1] == 401 and len(slept) == 2
    assert endpoint.breaker.state == "closed", "a refused request is our problem, not the service's"
    await endpoint.close()


def test_settings_from_env():
    assert ServiceSettings.from_env("SALESBOT_STT", "whisper-1", {}) is None
    s = ServiceSettings.from_env("SALESBOT_STT", "whisper-1", {"SALESBOT_STT_URL": "http://h:8000/v1/",
                                                              "SALESBOT_STT_TIMEOUT": "nonsense"})
    assert s.url == "http://h:8000" and s.model == "whisper-1" and s.key == "" and s.timeout_s == 60


def test_playbook_switches_default_off_and_prompts_are_checked(tmp_path):
    config = load_config()
    assert not config.privacy.audio_may_leave and not config.privacy.text_may_leave and config.privacy.mask_numbers
    bad = tmp_path / "c.toml"
    text = open("config.toml", encoding="utf-8").read().replace(
        'reply_prompt = "', 'reply_prompt = "{customer} ', 1)
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "assistant.reply_prompt" in str(err.value) and "{scripts}" in str(err.value)


# --- the assistant ---------------------------------------------------------------------------

def test_mask_phones_and_amounts():
    from services.assistant import mask
    text = ("手机 138 0013 8000，座机 021-62345678，报价五万，预算12.5万元，¥3000，两千五一台，"
            "2026-11-25 10:02 总价120000，合同号 A-123")
    masked = mask(text)
    assert masked == ("手机 [电话]，座机 [电话]，报价[金额]，预算[金额]，[金额]，[金额]一台，"
                      "2026-11-25 10:02 总价[金额]，合同号 A-123")


def test_read_completion():
    from services.assistant import read_completion
    body = b'{"choices":[{"message":{"content":"<think>hmm</think>\\n1. a\\n2. b"}}],"usage":{"total_tokens":33}}'
    assert read_completion(body) == ("1. a\n2. b", 33)
    for bad in (b"<html>", b'{"choices": []}', b'{"choices":[{"message":{"content":null}}]}', b"[]"):
        with pytest.raises(ServiceError) as err:
            read_completion(bad)
        assert err.value.kind == "bad_response"


async def test_assistant_budget_and_privacy():
    from services.assistant import Assistant
    config = load_config()
    config = config.model_copy(update={"assistant": config.assistant.model_copy(update={"daily_calls": 1}),
                                       "privacy": config.privacy.model_copy(update={"text_may_leave": True})})
    answers = [httpx.Response(500), httpx.Response(500),
               httpx.Response(200, json={"choices": [{"message": {"content": "a\nb\nc\nd\ne\nf"}}]})]
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json as _json
        seen.append(_json.loads(request.content))
        return answers.pop(0)

    async def no_sleep(_s: float) -> None:
        return None

    assistant = Assistant(ServiceSettings(url="http://llm", model="m"), config,
                          transport=httpx.MockTransport(handler), sleep=no_sleep)
    with pytest.raises(ServiceError) as err:
        await assistant.summary("客户：价格太贵", "2026-11-26")
    assert err.value.kind == "unavailable" and len(seen) == 2
    answer = await assistant.summary("客户：价格太贵", "2026-11-26")  # the failed call gave its budget back
    assert answer.lines == ["a", "b", "c", "d", "e"] and answer.tokens == 0
    with pytest.raises(ServiceError) as err:
        await assistant.summary("客户：价格太贵", "2026-11-26")
    assert err.value.kind == "budget" and len(seen) == 3
    closed = config.model_copy(update={"privacy": config.privacy.model_copy(update={"text_may_leave": False})})
    with pytest.raises(ServiceError) as err:
        await Assistant(ServiceSettings(url="http://llm", model="m"), closed,
                        transport=httpx.MockTransport(handler)).summary("x", "2026-11-26")
    assert err.value.kind == "not_allowed" and len(seen) == 3
    await assistant.close()


async def test_doctor_lines_for_the_optional_services():
    import asyncio

    from cli.voice_doctor import check_services
    from tests.fakeai import FakeAI, closed_port_url
    config = load_config()
    lines = await asyncio.to_thread(check_services, config, {})
    assert all(ok for ok, _ in lines) and "not configured" in lines[0][1] and "not configured" in lines[1][1]
    fake = await FakeAI().start()
    try:
        env = {"SALESBOT_STT_URL": fake.url, "SALESBOT_LLM_URL": closed_port_url()}
        (stt_ok, stt), (llm_ok, llm) = await asyncio.to_thread(check_services, config, env)
        assert stt_ok and "audio_may_leave = false" in stt
        assert not llm_ok and "cannot reach" in llm
        opened = config.model_copy(update={"privacy": config.privacy.model_copy(update={"audio_may_leave": True})})
        (stt_ok, stt), _ = await asyncio.to_thread(check_services, opened, env)
        assert stt_ok and "answers" in stt and "keeps data home" not in stt
    finally:
        await fake.stop()
