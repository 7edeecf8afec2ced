"""Time, in one place, so tests control it instead of sleeping.

All stored timestamps are naive UTC; the team's time zone is applied only for schedules and display.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from core.config import Config


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Clock:
    """Real time, or a frozen/offset time set by a test or the demo."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Current naive-UTC time."""
        if self._fixed is not None:
            return self._fixed
        return utcnow() + self._offset

    def set(self, when: datetime) -> None:
        """Freeze the clock at ``when`` (aware datetimes are converted to naive UTC)."""
        self._fixed = to_naive_utc(when)

    def advance(self, delta: timedelta) -> None:
        if self._fixed is not None:
            self._fixed += delta
        else:
            self._offset += delta

    def release(self) -> None:
        self._fixed = None
        self._offset = timedelta(0)


def to_naive_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when
    return when.astimezone(timezone.utc).replace(tzinfo=None)


def to_local(when: datetime, tz: ZoneInfo) -> datetime:
    return when.replace(tzinfo=timezone.utc).astimezone(tz)


def local_to_utc(when: datetime, tz: ZoneInfo) -> datetime:
    return when.replace(tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def local_date(config: "Config", when: datetime) -> date:
    """The team's local calendar day (``config.tz``) of a naive-UTC instant."""
    return to_local(when, config.tz).date()
