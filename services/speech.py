"""Speech to text through any service in the OpenAI shape: ``POST {base}/v1/audio/transcriptions``
(multipart ``file``, ``model``, ``language=zh`` — ``en`` for a rep whose Telegram is in English —,
``response_format=json`` → ``{"text": …}``), served by FunASR, whisper.cpp's server, LocalAI, vLLM and
cloud APIs.

Configured in the environment: ``SALESBOT_STT_URL`` (required), ``SALESBOT_STT_MODEL``,
``SALESBOT_STT_KEY``, ``SALESBOT_STT_TIMEOUT`` (seconds per request) and ``SALESBOT_STT_AUDIO``:
``original`` (default: Telegram's OGG/Opus, MP3 or M4A file as it is — OpenAI, FunASR, vLLM and LocalAI
decode it themselves; only read, not decoded, here) or ``wav`` (16 kHz mono PCM, for servers that take
nothing else, e.g. whisper.cpp's). Video notes and recordings longer than one chunk are always decoded
(the audio track only, cut into 5-minute WAV chunks).
No Telegram types here.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

from core.config import Config
from services import audio
from services.resilience import DailyBudget, Endpoint, ServiceError, ServiceSettings
from services.usage import DbBudget

log = logging.getLogger(__name__)
PATH = "/v1/audio/transcriptions"
MAX_TEXT = 50_000
_MIME = {"ogg": "audio/ogg", "mp3": "audio/mpeg", "wav": "audio/wav", "mov": "video/mp4", "matroska": "audio/webm",
         "flac": "audio/flac"}


@dataclass
class Transcription:
    text: str
    seconds: float
    service_ms: float  # time spent waiting for the service (the bot's own work is the rest)
    prepare_ms: float


class SpeechService:
    def __init__(self, settings: ServiceSettings, config: Config, audio_mode: str = "original", db: Any = None,
                 **endpoint_kw: Any) -> None:
        limit = config.speech.daily_audio_seconds
        budget = DbBudget(db, "speech", limit) if db is not None else DailyBudget(limit)
        self.endpoint = Endpoint(settings, budget, **endpoint_kw)
        self.config = config
        self.audio_mode = audio_mode if audio_mode in ("wav", "original") else "original"

    @classmethod
    def from_env(cls, config: Config, env: dict[str, str] | None = None, db: Any = None) -> "SpeechService | None":
        env = os.environ if env is None else env
        settings = ServiceSettings.from_env("SALESBOT_STT", "whisper-1", env)
        if settings is None:
            return None
        return cls(settings, config, (env.get("SALESBOT_STT_AUDIO") or "original").strip().lower(), db=db)

    async def close(self) -> None:
        await self.endpoint.close()

    def plan(self, data: bytes) -> tuple[float, tuple[str, bytes, str] | None]:
        """(seconds, (name, bytes, mime) of the file to send as it is — or None: decode it into WAV chunks). Reads the packets
        only (cheap); call it in a worker thread."""
        seconds, fmt, video = audio.probe(data)
        if seconds > self.config.speech.max_audio_seconds:
            raise audio.AudioError("too_long", seconds)
        if self.audio_mode == "original" and seconds <= audio.CHUNK_SECONDS and fmt in _MIME and not video:
            ext = {"mov": "mp4", "matroska": "webm"}.get(fmt, fmt)
            return seconds, (f"audio.{ext}", data, _MIME[fmt])
        return seconds, None

    async def transcribe(self, data: bytes, day: str, language: str = "zh") -> Transcription:
        """The text of ``data`` (any container PyAV reads) spoken in ``language`` (ISO 639-1).
        Raises audio.AudioError or ServiceError."""
        if not self.config.privacy.audio_may_leave:
            raise ServiceError("not_allowed")
        timing = {"prepare": 0.0, "service": 0.0}
        started = time.perf_counter()
        seconds, whole = await asyncio.get_running_loop().run_in_executor(None, self.plan, data)
        timing["prepare"] += (time.perf_counter() - started) * 1000
        budget = self.endpoint.budget
        if not await budget.reserve(day, seconds):
            raise ServiceError("budget", f"{await budget.used(day):.0f}/{budget.limit:.0f} s used")
        texts: list[str] = []
        try:
            async for part in self._parts(data, whole, timing):
                t0 = time.perf_counter()
                response = await self.endpoint.post(
                    PATH, files={"file": part},
                    data={"model": self.endpoint.settings.model, "language": language, "response_format": "json"})
                timing["service"] += (time.perf_counter() - t0) * 1000
                texts.append(read_text(response.content))
        except BaseException:
            await budget.release(day, seconds)  # nothing was transcribed: the rep may send it again
            raise
        text = "".join(x for x in texts if x).strip()[:MAX_TEXT]
        cost = seconds / 60 * self.config.speech.cost_per_minute
        log.info("speech call model=%s audio_s=%.1f parts=%d service_ms=%.0f prepare_ms=%.0f cost=%.4f chars=%d",
                 self.endpoint.settings.model, seconds, len(texts), timing["service"], timing["prepare"], cost, len(text))
        return Transcription(text=text, seconds=seconds, service_ms=timing["service"], prepare_ms=timing["prepare"])

    async def _parts(self, data: bytes, whole: tuple[str, bytes, str] | None,
                     timing: dict[str, float]) -> AsyncIterator[tuple[str, bytes, str]]:
        """The file as it is, or its WAV chunks decoded one at a time in a worker thread."""
        if whole is not None:
            yield whole
            return
        loop = asyncio.get_running_loop()
        chunks = audio.wav_chunks(data, self.config.speech.max_audio_seconds)
        try:
            while True:
                t0 = time.perf_counter()
                content = await loop.run_in_executor(None, next, chunks, None)
                timing["prepare"] += (time.perf_counter() - t0) * 1000
                if content is None:
                    return
                yield "audio.wav", content, "audio/wav"
        finally:
            chunks.close()


def read_text(body: bytes) -> str:
    """``{"text": "…"}``; anything else is a bad response (never shown to the rep)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ServiceError("bad_response", "not JSON") from None
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        raise ServiceError("bad_response", "no text field")
    return text.strip()
