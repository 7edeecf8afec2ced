"""Calling a service outside the deployment (speech, language model) without letting it hurt the bot.

One ``Endpoint`` per service: a thin httpx client with timeouts, retries with backoff on 429/5xx and
connection errors (honouring ``Retry-After``), a circuit breaker that stops calling a service that keeps
failing, and a per-day budget. Every failure ends in a ``ServiceError`` whose ``kind`` the handler
turns into one clear sentence; no exception text reaches a user.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Awaitable, Callable

import httpx

log = logging.getLogger(__name__)

# What went wrong, as the handler words it (core/texts_voice.py has a sentence for each).
KINDS = ("not_configured", "not_allowed", "budget", "circuit_open", "timeout", "unavailable", "rate_limited",
         "rejected", "bad_response")


class ServiceError(Exception):
    def __init__(self, kind: str, detail: str = "", retry_after: float | None = None) -> None:
        assert kind in KINDS, kind
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class ServiceSettings:
    """Where a service lives, from the environment (secrets never live in the playbook)."""

    url: str
    model: str
    key: str = ""
    timeout_s: float = 60.0

    @classmethod
    def from_env(cls, prefix: str, default_model: str, env: dict[str, str] | None = None) -> "ServiceSettings | None":
        """``{prefix}_URL`` (required), ``_MODEL``, ``_KEY``, ``_TIMEOUT``; None when no URL is set."""
        env = os.environ if env is None else env
        url = (env.get(f"{prefix}_URL") or "").strip().rstrip("/")
        if not url:
            return None
        if url.endswith("/v1"):  # both "http://host:8000" and "http://host:8000/v1" are accepted
            url = url[:-3]
        try:
            timeout = float(env.get(f"{prefix}_TIMEOUT") or 60.0)
        except ValueError:
            timeout = 60.0
        return cls(url=url, model=(env.get(f"{prefix}_MODEL") or default_model).strip(),
                   key=(env.get(f"{prefix}_KEY") or "").strip(), timeout_s=max(1.0, timeout))


@dataclass
class RetryPolicy:
    attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    # A Retry-After longer than this is not waited for: the rep is told when to try again instead.
    max_retry_after_s: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds before the next attempt (attempt counts from 0), or None: give up now."""
        if attempt + 1 >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after_s else None
        backoff = min(self.max_delay_s, self.base_delay_s * (2 ** attempt))
        return backoff * random.uniform(0.8, 1.2)


class CircuitBreaker:
    """Closed → open after ``threshold`` failed calls in a row; after ``reset_after_s`` one trial call
    is let through (half-open): success closes it, failure opens it again."""

    def __init__(self, threshold: int = 3, reset_after_s: float = 30.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.reset_after_s = reset_after_s
        self._now = now
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self._now() - self.opened_at >= self.reset_after_s else "open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._trial:
            self._trial = True
            return True
        return False

    def retry_in(self) -> float:
        return 0.0 if self.opened_at is None else max(0.0, self.reset_after_s - (self._now() - self.opened_at))

    def success(self) -> None:
        self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        self.failures += 1
        self._trial = False
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at = self._now()


class DailyBudget:
    """At most ``limit`` units (seconds of audio, calls) per day; reserved before a call, given back
    when the call fails. In memory (one process; tests): the bot uses services.usage.DbBudget, which
    has the same methods and keeps the count in the database for every instance."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._used: dict[str, float] = {}

    async def reserve(self, day: str, amount: float) -> bool:
        for stale in [d for d in self._used if d != day]:
            del self._used[stale]
        used = self._used.get(day, 0.0)
        if used + amount > self.limit:
            return False
        self._used[day] = used + amount
        return True

    async def release(self, day: str, amount: float) -> None:
        if day in self._used:
            self._used[day] = max(0.0, self._used[day] - amount)

    async def used(self, day: str) -> float:
        return self._used.get(day, 0.0)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


@dataclass
class Endpoint:
    """One external service: settings, one pooled httpx client, retries, breaker, budget."""

    settings: ServiceSettings
    budget: Any  # DailyBudget or services.usage.DbBudget
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    _client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            s = self.settings
            headers = {"Authorization": f"Bearer {s.key}"} if s.key else {}
            self._client = httpx.AsyncClient(
                base_url=s.url, headers=headers, transport=self.transport, follow_redirects=False,
                timeout=httpx.Timeout(s.timeout_s, connect=min(5.0, s.timeout_s)))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        """POST with retries; a 2xx response, or ServiceError."""
        if not self.breaker.allow():
            raise ServiceError("circuit_open", retry_after=self.breaker.retry_in())
        error: ServiceError | None = None
        for attempt in range(max(1, self.policy.attempts)):
            retry = True
            try:
                response = await self.client().post(path, **kw)
            except httpx.TimeoutException as exc:
                # A slow service will not be faster on the second try, and the rep is waiting.
                error, retry = ServiceError("timeout", type(exc).__name__), isinstance(exc, httpx.ConnectTimeout)
            except httpx.HTTPError as exc:
                error = ServiceError("unavailable", type(exc).__name__)
            else:
                status = response.status_code
                if status < 300:
                    self.breaker.success()
                    return response
                if status == 429:
                    error = ServiceError("rate_limited", "429", retry_after_seconds(response.headers.get("retry-after")))
                elif status >= 500 or status == 408:
                    error = ServiceError("unavailable", str(status), retry_after_seconds(response.headers.get("retry-after")))
                else:  # 4xx: our request or our key is wrong; retrying changes nothing, the service is fine
                    self.breaker.success()
                    raise ServiceError("rejected", str(status))
            delay = self.policy.delay(attempt, error.retry_after) if retry else None
            log.info("service %s attempt %d failed: %s%s", self.settings.url, attempt + 1, error,
                     f"; retrying in {delay:.1f}s" if delay is not None else "")
            if delay is None:
                break
            await self.sleep(delay)
        assert error is not None
        self.breaker.failure()
        raise error
