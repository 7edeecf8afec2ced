"""Benchmark of voice notes: the bot's own time per 30-s voice note, the speech service's time excluded.
Run: python -m bench.voice [--notes 30] [--seconds 30] [--service-ms 300]

The real bot (PTB over HTTP) against the local Bot API server and a local fake speech service
(tests/fakeai.py) that answers after ``--service-ms``, all in one process like the end-to-end tests.
One `figure_name: value` a line:

* voice_overhead_ms_p50 / _p90 — a 30-s OGG/Opus voice note sent → its transcript card on the server,
  minus the time the speech service spent on each request (measured inside the service): update
  delivery, getFile + download, reading the file, the upload, the status message and its edit, with
  the default SALESBOT_STT_AUDIO=original (target p50 ≤ 50 ms)
* voice_overhead_wav_ms_p50 — the same with SALESBOT_STT_AUDIO=wav (decoded to 16 kHz mono PCM here)
* voice_prepare_wav_ms_p50 — decoding + resampling + WAV alone (services.audio.wav_chunks, called directly)
* baseline_text_update_ms_p50 — same run, same bot: a typed one-line update → its confirmation card
  (update delivery, the parser, one message), the path a transcript takes after the rep confirms it
* baseline_av_decode_ms_p50 — same run: PyAV decoding the note alone (no resampling), the floor of
  any bot that must read the audio itself
"""
from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import run_and_report


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def _wait_for(h, chat_id: int, marker: str, after: int, timeout: float = 30.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for message in h.tg.sent(chat_id)[after:]:
            if marker in (message.get("text") or ""):
                return time.perf_counter()
        await asyncio.sleep(0.0005)
    raise TimeoutError(marker)


async def _maybe(value):
    return await value if asyncio.iscoroutine(value) else value


async def run(args: argparse.Namespace) -> dict[str, float]:
    import os

    import av

    from core.config import load_config
    from services import audio
    from services.speech import SpeechService
    from tests.audiofix import tone
    from tests.fakeai import FakeAI
    from tests.harness import Harness

    fake = await FakeAI(service_delay_s=args.service_ms / 1000).start()
    server_ms = fake.speech_ms
    os.environ.update({"SALESBOT_STT_URL": fake.url, "SALESBOT_STT_MODEL": "bench", "SALESBOT_STT_TIMEOUT": "30"})
    os.environ.pop("SALESBOT_STT_AUDIO", None)
    config = load_config()
    config = config.model_copy(update={"privacy": config.privacy.model_copy(update={"audio_may_leave": True})})
    # Telegram voice notes are OGG/Opus at about 32 kbit/s, 48 kHz mono.
    note = tone(args.seconds, bitrate=32_000)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(Path(tmp), config=config)
        await h.start()
        try:
            _, _, (rep,) = await h.team(reps=1)
            await h.send(rep, "/new")
            for value in ("张总", "华东精密机械有限公司", "13800138000", "官网表单"):
                await h.send(rep, value)
            fake.transcript = "张总已经报价五万，下周二下午三点回访"

            async def voice_round() -> tuple[float, float]:
                await asyncio.sleep(0.35)  # Telegram's per-chat pace, not part of the figure
                after = len(h.tg.sent(rep["id"]))
                calls = len(server_ms)
                started = time.perf_counter()
                await _maybe(h.tg.send_audio_message(rep["id"], "voice", note, args.seconds))
                done = await _wait_for(h, rep["id"], "转写结果", after)
                await h.settle(None)
                service = sum(server_ms[calls:])
                return (done - started) * 1000, service

            async def text_round() -> float:
                await asyncio.sleep(0.35)
                after = len(h.tg.sent(rep["id"]))
                started = time.perf_counter()
                await _maybe(h.tg.send_text(rep["id"], "张总 已报价5万 下周二回访"))
                done = await _wait_for(h, rep["id"], "要这样记录吗", after)
                await h.settle(None)
                return (done - started) * 1000

            await voice_round()  # warm-up: the speech client's connection, PyAV's codecs
            await text_round()
            speech: SpeechService = h.app.bot_data["speech"]
            overheads, texts, wavs, prepare, decode = [], [], [], [], []
            for _ in range(args.notes):  # interleaved, so a busy moment of the machine hits all figures alike
                speech.audio_mode = "original"
                total, service = await voice_round()
                overheads.append(total - service)
                texts.append(await text_round())
                speech.audio_mode = "wav"
                total, service = await voice_round()
                wavs.append(total - service)
                started = time.perf_counter()
                list(audio.wav_chunks(note, 3600))
                prepare.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                with av.open(io.BytesIO(note)) as container:
                    for _frame in container.decode(audio=0):
                        pass
                decode.append((time.perf_counter() - started) * 1000)
        finally:
            await h.stop()
            await fake.stop()
    figures["voice_note_seconds"] = float(args.seconds)
    figures["voice_overhead_ms_p50"] = statistics.median(overheads)
    figures["voice_overhead_ms_p90"] = _p(overheads, 0.9)
    figures["voice_overhead_wav_ms_p50"] = statistics.median(wavs)
    figures["voice_prepare_wav_ms_p50"] = statistics.median(prepare)
    figures["service_ms_per_note"] = float(args.service_ms)
    figures["baseline_text_update_ms_p50"] = statistics.median(texts)
    figures["baseline_av_decode_ms_p50"] = statistics.median(decode)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--service-ms", type=float, default=300.0)
    return run_and_report(run, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
