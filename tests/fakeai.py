"""Small fake external services for the tests and bench.voice: a speech service in the OpenAI shape
(``POST /v1/audio/transcriptions``) and a chat model (``POST /v1/chat/completions``), one aiohttp app.

Each request takes the next behaviour from ``plan`` (then ``default``): ok, slow, 429, 500, badjson,
notext. Requests are recorded (fields, file bytes, headers, messages) so tests check what left.
"""
from __future__ import annotations

import asyncio
import io
import json
import time
import wave
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeAI:
    transcript: str = "张总已经报价五万，下周二下午三点回访"
    reply: str = "客户需求：试用\n客户顾虑：价格\n购买意向：高\n关键信息：分期\n下一步：下周二回访"
    plan: list[str] = field(default_factory=list)
    chat_plan: list[str] = field(default_factory=list)
    default: str = "ok"
    slow_s: float = 3.0
    retry_after: str = "1"
    service_delay_s: float = 0.0  # an "ok" answer after this long (bench: a realistic service)
    speech_calls: list[dict[str, Any]] = field(default_factory=list)
    chat_calls: list[dict[str, Any]] = field(default_factory=list)
    speech_ms: list[float] = field(default_factory=list)  # the service's own time per request (bench.voice)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> "FakeAI":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _behave(self, plan: list[str]) -> web.Response | None:
        mode = plan.pop(0) if plan else self.default
        if mode == "slow":
            await asyncio.sleep(self.slow_s)
            return None
        if mode == "429":
            return web.json_response({"error": "rate limited"}, status=429, headers={"Retry-After": self.retry_after})
        if mode == "500":
            return web.json_response({"error": "boom"}, status=500)
        if mode == "badjson":
            return web.Response(text="<html>gateway</html>", content_type="text/html")
        if mode == "notext":
            return web.json_response({"result": "no text field here"})
        if self.service_delay_s:
            await asyncio.sleep(self.service_delay_s)
        return None

    async def _transcribe(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            return await self._transcribe_timed(request)
        finally:
            self.speech_ms.append((time.perf_counter() - started) * 1000)

    async def _transcribe_timed(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        content = upload.file.read() if upload is not None and hasattr(upload, "file") else b""
        call = {"model": form.get("model"), "language": form.get("language"),
                "response_format": form.get("response_format"), "auth": request.headers.get("Authorization"),
                "filename": getattr(upload, "filename", None), "size": len(content),
                "content_type": getattr(upload, "content_type", None), "wav": _wav_info(content)}
        self.speech_calls.append(call)
        answer = await self._behave(self.plan)
        if answer is not None:
            return answer
        return web.json_response({"text": self.transcript})

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.chat_calls.append({"body": body, "auth": request.headers.get("Authorization")})
        answer = await self._behave(self.chat_plan)
        if answer is not None:
            return answer
        return web.json_response({"id": "x", "object": "chat.completion", "model": body.get("model"),
                                  "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                                               "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160}})


def _wav_info(content: bytes) -> dict[str, int] | None:
    if not content.startswith(b"RIFF"):
        return None
    with wave.open(io.BytesIO(content)) as w:
        return {"rate": w.getframerate(), "channels": w.getnchannels(), "width": w.getsampwidth(), "frames": w.getnframes()}


def closed_port_url() -> str:
    """A URL nothing listens on: the service is down."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def messages_text(call: dict[str, Any]) -> str:
    return json.dumps(call["body"].get("messages"), ensure_ascii=False)
