"""Voice notes and call recordings through the local Bot API server and a local fake speech service."""
from __future__ import annotations

import pytest
from sqlmodel import select

from core.config import load_config
from storage.models import Activity, Customer
from tests.audiofix import mp3_recording, video_note, voice_note
from tests.conftest import PG_OK, drop_pg_schema, fresh_pg_schema_url
from tests.fakeai import FakeAI, closed_port_url
from tests.harness import Harness, buttons


def playbook(audio: bool = True, text: bool = True, **speech):
    config = load_config()
    return config.model_copy(update={
        "privacy": config.privacy.model_copy(update={"audio_may_leave": audio, "text_may_leave": text}),
        "speech": config.speech.model_copy(update=speech)})


@pytest.fixture
async def fake_ai():
    fake = await FakeAI().start()
    yield fake
    await fake.stop()


async def start_bot(tmp_path, monkeypatch, url: str | None, config=None, timeout: str = "5",
                    audio_mode: str | None = None, db_url: str | None = None) -> Harness:
    for name in ("SALESBOT_STT_URL", "SALESBOT_STT_MODEL", "SALESBOT_STT_KEY", "SALESBOT_STT_TIMEOUT", "SALESBOT_STT_AUDIO"):
        monkeypatch.delenv(name, raising=False)
    if url:
        monkeypatch.setenv("SALESBOT_STT_URL", url)
        monkeypatch.setenv("SALESBOT_STT_MODEL", "paraformer-zh")
        monkeypatch.setenv("SALESBOT_STT_KEY", "sk-test")
        monkeypatch.setenv("SALESBOT_STT_TIMEOUT", timeout)
        if audio_mode:
            monkeypatch.setenv("SALESBOT_STT_AUDIO", audio_mode)
    h = Harness(tmp_path, config=config or playbook(), db_url=db_url)
    await h.start()
    return h


@pytest.fixture
async def bot(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url)
    try:
        yield h
    finally:
        await h.stop()


async def setup_rep(h):
    _, _, (rep, _) = await h.team(reps=2)
    await h.send(rep, "/new")
    for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
        await h.send(rep, value)
    return rep


async def customer(h, name: str = "张总") -> Customer:
    return await h.core.db.run(lambda s: s.exec(select(Customer).where(Customer.name == name)).one())


async def followups(h) -> list[Activity]:
    return await h.core.db.run(lambda s: list(s.exec(select(Activity).where(Activity.kind == "followup"))))


async def test_voice_note_transcript_confirmed_becomes_the_update(bot, fake_ai):
    rep = await setup_rep(bot)
    note = voice_note(3.0)
    replies = await bot.send_audio(rep, "voice", note, duration=3)
    card = replies[-1]
    assert "转写结果" in card["text"] and "五万" in card["text"], card["text"]
    call = fake_ai.speech_calls[-1]
    assert call["model"] == "paraformer-zh" and call["language"] == "zh" and call["response_format"] == "json"
    assert call["auth"] == "Bearer sk-test"
    # By default Telegram's OGG/Opus goes as it is (the services decode it themselves).
    assert call["content_type"] == "audio/ogg" and call["filename"] == "audio.ogg" and call["size"] == len(note)
    assert not await followups(bot), "nothing is saved before the rep confirms"
    preview = await bot.press(rep, card, text="使用")
    text = preview[-1]["text"]
    assert "50,000" in text and "下周二" in text and "15:00" in text, text
    saved = await bot.press(rep, preview[-1], text="保存")
    assert "已保存" in saved[-1]["text"]
    assert (await customer(bot)).amount == 50000
    assert len(await followups(bot)) == 1
    # The transcript button and the confirmation are used once, however often they are pressed.
    again = await bot.press(rep, card, data=buttons(card)[0]["callback_data"], validate=False)
    assert "过期" in again[-1]["text"]
    assert len(await followups(bot)) == 1 and len(fake_ai.speech_calls) == 1
    assert bot.tg.rejected() == []


async def test_transcript_can_be_corrected_before_use(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.transcript = "张总已经报价五万下周二回访"
    card = (await bot.send_audio(rep, "voice", voice_note(2.0), duration=2))[-1]
    prompt = await bot.press(rep, card, text="修改")
    assert "修改后的文字" in prompt[-1]["text"]
    preview = await bot.send(rep, "张总 已经报价两千五 十二月五号下午三点回访")
    text = preview[-1]["text"]
    assert "2,500" in text and "下周六" in text and "15:00" in text, text


async def test_video_note_is_a_note_and_only_its_sound_leaves(bot, fake_ai):
    rep = await setup_rep(bot)
    card = (await bot.send_audio(rep, "video_note", video_note(2.0), duration=2))[-1]
    assert "转写结果" in card["text"]
    wav = fake_ai.speech_calls[-1]["wav"]
    assert wav["rate"] == 16000 and wav["channels"] == 1 and abs(wav["frames"] / 16000 - 2.0) < 0.1


async def test_wav_mode_sends_16k_mono_pcm(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, audio_mode="wav")
    try:
        rep = await setup_rep(h)
        assert "转写结果" in (await h.send_audio(rep, "voice", voice_note(3.0), duration=3))[-1]["text"]
        wav = fake_ai.speech_calls[-1]["wav"]
        assert wav == {"rate": 16000, "channels": 1, "width": 2, "frames": wav["frames"]}
        assert abs(wav["frames"] / 16000 - 3.0) < 0.1
    finally:
        await h.stop()


async def test_call_recording_is_analysed(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.transcript = ("喂张总您好我是小李上次跟您说的那个系统您考虑得怎么样了价格有点贵我得跟老板汇报一下"
                          "如果合同能分期付款下个月可以签那我先把报价单发您")
    replies = await bot.send_audio(rep, "audio", mp3_recording(20.0), duration=20, file_name="call.mp3")
    card = replies[-1]
    assert "通话录音转写" in card["text"], card["text"]
    result = await bot.press(rep, card, text="分析")
    if "哪个客户" in result[-1]["text"]:
        result = await bot.press(rep, result[-1], text="张总")
    text = result[-1]["text"]
    assert "购买意向" in text and ("需要领导" in text or "价格" in text), text
    assert (await customer(bot)).intent_score is not None


async def test_labelled_call_transcript_asks_who_the_customer_is(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.transcript = ("老周：你们这个设备多少钱？交货期多久？\n小王：报价单我下午发您。\n"
                          "老周：价格太贵了，我们已经有合作的供应商了。\n小王：我们可以先免费试用。")
    card = (await bot.send_audio(rep, "audio", mp3_recording(5.0), duration=5, file_name="c.mp3"))[-1]
    ask = await bot.press(rep, card, text="分析")
    assert "谁是客户" in ask[-1]["text"], ask[-1]["text"]


async def test_not_configured_answers_in_one_line(tmp_path, monkeypatch):
    h = await start_bot(tmp_path, monkeypatch, None)
    try:
        rep = await setup_rep(h)
        replies = await h.send_audio(rep, "voice", voice_note(1.0), duration=1)
        assert len(replies) == 1 and "没有接入语音转文字" in replies[0]["text"]
        assert "\n" not in replies[0]["text"]
        assert "已记录" not in (await h.send(rep, "/today"))[-1]["text"]  # the bot goes on as usual
    finally:
        await h.stop()


async def test_privacy_switch_off_keeps_audio_home(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, config=playbook(audio=False))
    try:
        rep = await setup_rep(h)
        replies = await h.send_audio(rep, "voice", voice_note(1.0), duration=1)
        assert "不允许" in replies[-1]["text"] and fake_ai.speech_calls == []
    finally:
        await h.stop()


async def test_oversized_file_is_refused_before_download(bot, fake_ai):
    rep = await setup_rep(bot)
    big = b"\0" * (20 * 1024 * 1024 + 1)
    replies = await bot.send_audio(rep, "audio", big, duration=3000, file_name="long.mp3")
    assert "太大" in replies[-1]["text"] and "20 MB" in replies[-1]["text"]
    assert fake_ai.speech_calls == []


async def test_not_audio_gets_a_clear_answer(bot, fake_ai):
    rep = await setup_rep(bot)
    replies = await bot.send_audio(rep, "audio", b"ID3 this is not an mp3 at all" * 50, duration=10, file_name="x.mp3")
    assert "无法作为音频" in replies[-1]["text"] and fake_ai.speech_calls == []


async def test_429_is_retried_after_retry_after(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.plan = ["429"]
    card = (await bot.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
    assert "转写结果" in card["text"] and len(fake_ai.speech_calls) == 2


async def test_5xx_then_retry_button_nothing_lost_nothing_duplicated(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.plan = ["500", "500", "500"]
    failed = (await bot.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
    assert "暂时不可用" in failed["text"] and "不会丢失" in failed["text"]
    assert len(fake_ai.speech_calls) == 3  # three attempts with backoff
    card = (await bot.press(rep, failed, text="重试"))[-1]
    assert "转写结果" in card["text"]
    preview = await bot.press(rep, card, text="使用")
    await bot.press(rep, preview[-1], text="保存")
    old = await bot.press(rep, failed, data=buttons(failed)[0]["callback_data"], validate=False)  # the retry again
    assert "过期" in old[-1]["text"]
    assert len(await followups(bot)) == 1 and len(fake_ai.speech_calls) == 4


@pytest.mark.parametrize("mode, words", [("badjson", "无法识别的结果"), ("notext", "无法识别的结果"), ("slow", "超时")])
async def test_wrong_answers_and_slow_service(tmp_path, monkeypatch, fake_ai, mode, words):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, timeout="1")
    try:
        rep = await setup_rep(h)
        fake_ai.default = mode
        failed = (await h.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
        assert words in failed["text"] and "重试" in str(buttons(failed)), failed["text"]
        assert len(fake_ai.speech_calls) == 1, "a wrong answer or a timeout is not hammered"
        fake_ai.default = "ok"
        card = (await h.press(rep, failed, text="重试"))[-1]
        assert "转写结果" in card["text"]
    finally:
        await h.stop()


async def test_service_down_then_circuit_opens(tmp_path, monkeypatch):
    h = await start_bot(tmp_path, monkeypatch, closed_port_url())
    try:
        rep = await setup_rep(h)
        for _ in range(3):
            failed = (await h.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
            assert "暂时不可用" in failed["text"]
        fast = (await h.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
        assert "秒后可点" in fast["text"], fast["text"]  # the breaker answers without calling
        assert h.app.bot_data["speech"].endpoint.breaker.state == "open"
    finally:
        await h.stop()


async def test_daily_budget_survives_a_restart(tmp_path, monkeypatch, fake_ai):
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, config=playbook(daily_audio_seconds=6))
    try:
        rep = await setup_rep(h)
        assert "转写结果" in (await h.send_audio(rep, "voice", voice_note(3.0), duration=3))[-1]["text"]
        over = (await h.send_audio(rep, "voice", voice_note(3.0), duration=3))[-1]
        assert "额度已用完" in over["text"] and len(fake_ai.speech_calls) == 1
    finally:
        await h.stop()
    # A new process on the same database (what a restart or a second instance sees) spends the same budget.
    from services.resilience import ServiceError
    from services.speech import SpeechService
    from storage.db import Database
    db = Database(h.db_url)
    service = SpeechService.from_env(playbook(daily_audio_seconds=6), db=db)
    try:
        with pytest.raises(ServiceError) as err:
            await service.transcribe(voice_note(3.0), "2026-11-26")
        assert err.value.kind == "budget" and len(fake_ai.speech_calls) == 1
        assert (await service.transcribe(voice_note(2.0), "2026-11-26")).text
        assert len(fake_ai.speech_calls) == 2
    finally:
        await service.close()
        db.close()


async def test_english_user_gets_english(bot, fake_ai):
    _, manager, _ = await bot.team(reps=0)
    code = await bot.invite(manager)
    rep = await bot.join(code, "Sam", language_code="en")
    fake_ai.plan = ["500", "500", "500"]
    failed = (await bot.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
    assert "unavailable" in failed["text"] and "Retry" in str(buttons(failed))
    assert fake_ai.speech_calls[-1]["language"] == "en", "an English-speaking rep is transcribed as English"


async def test_long_call_is_sent_in_chunks_and_joined(bot, fake_ai):
    from tests.audiofix import wav_recording
    rep = await setup_rep(bot)
    fake_ai.transcript = "价格有点贵我得跟老板汇报一下"
    card = (await bot.send_audio(rep, "audio", wav_recording(310.0), duration=310, file_name="call.wav",
                                 mime_type="audio/wav"))[-1]
    assert "通话录音转写" in card["text"] and "5.2 分钟" in card["text"], card["text"]
    assert card["text"].count("价格有点贵我得跟老板汇报一下") == 2
    sizes = [c["wav"]["frames"] for c in fake_ai.speech_calls]
    assert sizes == [300 * 16000, 10 * 16000], "five-minute 16 kHz chunks, one at a time"
    assert await bot.app.bot_data["speech"].endpoint.budget.used("2026-11-26") == pytest.approx(310, abs=0.1)


async def test_a_voice_note_answers_the_question_the_bot_is_waiting_on(bot, fake_ai):
    rep = await setup_rep(bot)
    ask = await bot.send(rep, "/new")
    fake_ai.transcript = "李总"
    card = (await bot.send_audio(rep, "voice", voice_note(1.0), duration=1))[-1]
    next_question = await bot.press(rep, card, text="使用")
    assert next_question[-1]["text"] != ask[-1]["text"] and "公司" in next_question[-1]["text"], next_question[-1]["text"]


@pytest.mark.skipif(not PG_OK, reason="PostgreSQL not reachable: PostgreSQL end-to-end tests skipped")
async def test_voice_note_to_saved_update_on_postgresql(tmp_path, monkeypatch, fake_ai):
    url, schema = fresh_pg_schema_url()
    h = await start_bot(tmp_path, monkeypatch, fake_ai.url, db_url=url)
    try:
        rep = await setup_rep(h)
        card = (await h.send_audio(rep, "voice", voice_note(2.0), duration=2))[-1]
        preview = await h.press(rep, card, text="使用")
        assert "已保存" in (await h.press(rep, preview[-1], text="保存"))[-1]["text"]
        assert (await customer(h)).amount == 50000 and len(await followups(h)) == 1
        assert await h.app.bot_data["speech"].endpoint.budget.used("2026-11-26") == pytest.approx(2.0, abs=0.1)
    finally:
        await h.stop()
        drop_pg_schema(schema)


async def test_a_long_transcript_full_of_markup_is_escaped_and_fits(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.transcript = "<b>价格&优惠</b>" * 600
    card = (await bot.send_audio(rep, "audio", mp3_recording(5.0), duration=5, file_name="c.mp3"))[-1]
    assert "通话录音转写" in card["text"] and "<b>价格&优惠</b>" in card["text"] and len(card["text"]) <= 4096
    edit = await bot.press(rep, card, text="修改")
    assert "修改后的文字" in edit[-1]["text"]
    assert bot.tg.rejected() == []


async def test_the_rep_is_answered_while_a_long_transcription_runs(bot, fake_ai):
    rep = await setup_rep(bot)
    fake_ai.service_delay_s = 3.0
    before = len(bot.chat_messages(rep))
    await _maybe(bot.tg.send_audio_message(rep["id"], "voice", voice_note(2.0), 2))
    await bot.tg.wait_for_sent(rep["id"], count=before + 1, timeout=10)  # "正在转写…"
    await _maybe(bot.tg.send_text(rep["id"], "/help"))
    await bot.tg.wait_for_sent(rep["id"], count=before + 2, timeout=10)
    assert not any("转写结果" in (m.get("text") or "") for m in bot.chat_messages(rep)), \
        "/help was answered before the transcript came back"
    await bot.settle(None)
    assert any("转写结果" in (m.get("text") or "") for m in bot.chat_messages(rep))


async def _maybe(value):
    import asyncio
    return await value if asyncio.iscoroutine(value) else value
