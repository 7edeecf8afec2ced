"""The HTTP transport under PTB's ``Bot``: aiohttp instead of PTB's default httpx.

Why: on this workload the bot process spends most of its CPU talking to the Bot API, and httpx
(with httpcore and anyio under it) costs about three times what aiohttp does per call — measured
against the local Bot API server on 2 cores: ``getMe`` 0.65 ms → 0.21 ms, an ``editMessageText``
with a card keyboard 1.24 ms → 0.55 ms of CPU (``bench.updates`` shows the effect end to end).
aiohttp is already the project's HTTP server; PTB documents ``BaseRequest`` as the seam for
exactly this.  Bodies go out as JSON (Telegram accepts JSON, urlencoded and multipart), files as
multipart.

Errors map the way PTB's own ``HTTPXRequest`` maps them, because the rate limiter and the outbox
depend on the difference: a timeout is ``TimedOut`` (the request may have been sent), anything
else that fails on the wire is ``NetworkError`` (it was not answered).  Status codes and Telegram's
error bodies are PTB's business (``BaseRequest._request_wrapper``).

``SALESBOT_BOT_HTTP=httpx`` switches back to PTB's default transport (``make_request``).
"""
from __future__ import annotations

import asyncio
import os
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

JSON_HEADERS = {"Content-Type": "application/json", "User-Agent": BaseRequest.USER_AGENT}
PLAIN_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}


class AiohttpRequest(BaseRequest):
    """One aiohttp session per instance; PTB keeps one for API calls and one for getUpdates."""

    __slots__ = ("_pool_size", "_timeouts", "_media_write_timeout", "_session", "_proxies")

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout}
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # certifi's CA bundle, as httpx uses: slim images without ca-certificates still verify.
            tls = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size, ssl=tls))

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, read: Any, write: Any, connect: Any, pool: Any, has_files: bool) -> aiohttp.ClientTimeout:
        """httpx's per-phase limits, as near as aiohttp has them: ``connect`` covers waiting for a
        pooled connection and opening one; ``sock_read`` bounds each wait for the answer (a long
        poll's read timeout includes its ``timeout``, added by PTB).  aiohttp has no write limit,
        so an upload is bounded as a whole by connect + write + read instead."""
        def pick(value: Any, name: str) -> float | None:
            return self._timeouts[name] if isinstance(value, DefaultValue) else value
        read, connect, pool = pick(read, "read"), pick(connect, "connect"), pick(pool, "pool")
        write = self._media_write_timeout if has_files and isinstance(write, DefaultValue) else pick(write, "write")
        total = None
        if has_files and None not in (connect, write, read):
            total = connect + write + read
        waiting = None if connect is None else connect + (pool or 0.0)
        return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)

    def _proxy_for(self, url: str) -> str | None:
        """HTTP(S)_PROXY / NO_PROXY from the environment, as httpx honours them, looked up once per
        origin: aiohttp's own trust_env looks them (and ~/.netrc) up on every request, in a worker
        thread, which costs more CPU than the request itself."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._proxies:
            proxies = urllib.request.getproxies_environment()
            bypass = parts.hostname and urllib.request.proxy_bypass_environment(parts.hostname, proxies)
            proxy = None if bypass else proxies.get(parts.scheme) or proxies.get("all")
            if proxy and not proxy.startswith(("http://", "https://")):
                raise NetworkError(f"proxy {proxy.split('://')[0]}:// is not supported by the aiohttp transport; "
                                   "use an HTTP proxy or SALESBOT_BOT_HTTP=httpx")
            self._proxies[origin] = proxy
        return self._proxies[origin]

    @staticmethod
    def _body(request_data: RequestData | None) -> tuple[Any, dict[str, str]]:
        if request_data is None:
            return None, PLAIN_HEADERS
        files = request_data.multipart_data
        if not files:
            return request_data.json_payload, JSON_HEADERS
        # quote_fields=False: file names go out as UTF-8, as httpx sends them (aiohttp would otherwise
        # percent-encode 客户.csv and the user would receive "%E5%AE%A2%E6%88%B7.csv").
        form = aiohttp.FormData(quote_fields=False)
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mime) in files.items():
            if hasattr(content, "read"):  # a file handle: aiohttp would close it, and a retry must resend it
                if content.seekable():
                    content.seek(0)
                content = content.read()
            form.add_field(name, content, filename=_header_safe(filename), content_type=mime)
        return form, PLAIN_HEADERS

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        body, headers = self._body(request_data)
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout,
                                has_files=not isinstance(body, (bytes, type(None))))
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout,
                                             proxy=self._proxy_for(url), allow_redirects=False) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


def _header_safe(filename: str) -> str:
    """A file name that cannot break its Content-Disposition header."""
    return "".join("_" if ch in '"\\\r\n' else ch for ch in filename) or "file"


def make_request(connection_pool_size: int = 256, **timeouts: float | None) -> BaseRequest:
    """The transport for a ``Bot``: aiohttp unless ``SALESBOT_BOT_HTTP=httpx``."""
    if os.environ.get("SALESBOT_BOT_HTTP", "aiohttp").lower() == "httpx":
        return HTTPXRequest(connection_pool_size=connection_pool_size, **timeouts)
    return AiohttpRequest(connection_pool_size=connection_pool_size, **timeouts)
