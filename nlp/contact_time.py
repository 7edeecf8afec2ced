"""The time of day to contact a customer: when they actually reply, recent replies weighing more,
inside the team's working hours.

Input: the customer's own message times (local wall-clock), from chats only — Telegram Business
messages, pasted or forwarded chats with time stamps, chat-archive connectors. A time written in
a rep's call note ("约了周三下午3点") is an appointment, not a reply, and is never passed in
(services.intel.reply_times decides what counts).

Rules (each has a test in tests/test_close_honest.py):

* minute resolution — replies are smoothed on a circular minute-of-day axis (Gaussian kernel,
  `BANDWIDTH_MINUTES`) and the answer is the best slot on a `STEP_MINUTES` grid (14:30, 15:00);
* recency — each reply weighs 0.5 ** (age_days / `HALF_LIFE_DAYS`), its age counted from `now`
  (30 days: a reply from last month counts half, from last quarter an eighth), so a customer who
  changed habits is followed within weeks;
* enough evidence — at least `MIN_REPLIES` replies on at least `MIN_DAYS` distinct days (five
  replies in one evening are one habit seen once); otherwise no answer;
* working hours — only slots in [work_start, work_end) are candidates, and the chosen slot must
  have at least `MIN_SUPPORT` replies within ±`SUPPORT_MINUTES` of it: a customer who only
  answers at 22:00 gets no "best time" rather than a made-up one at 17:30.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time
from typing import Iterable

HALF_LIFE_DAYS = 30.0
MIN_REPLIES = 5
MIN_DAYS = 3
STEP_MINUTES = 30
BANDWIDTH_MINUTES = 30.0
SUPPORT_MINUTES = 60
MIN_SUPPORT = 2
_DAY = 24 * 60


@dataclass(frozen=True)
class ContactTime:
    at: time            # start of the best slot (local)
    replies: int        # replies counted
    days: int           # distinct days they fall on

    @property
    def hour(self) -> int:
        return self.at.hour

    def text(self) -> str:
        return f"{self.at.hour}:{self.at.minute:02d}"


def best_contact_time(replies: Iterable[datetime], now: datetime, *, work_start: time = time(9),
                      work_end: time = time(18), half_life_days: float = HALF_LIFE_DAYS,
                      min_replies: int = MIN_REPLIES, min_days: int = MIN_DAYS,
                      step_minutes: int = STEP_MINUTES) -> ContactTime | None:
    """The best slot start within working hours, or None when the replies do not say."""
    stamps = sorted({t.replace(second=0, microsecond=0) for t in replies if t is not None and t <= now})
    days = {t.date() for t in stamps}
    if len(stamps) < min_replies or len(days) < min_days:
        return None
    weighted = [(_minute(t), 0.5 ** (max(0.0, (now - t).total_seconds() / 86400) / half_life_days))
                for t in stamps]
    best: tuple[float, int] | None = None
    for slot in _slots(work_start, work_end, step_minutes):
        support = sum(1 for m, _ in weighted if _distance(m, slot) <= SUPPORT_MINUTES)
        if support < MIN_SUPPORT:
            continue
        density = sum(w * math.exp(-0.5 * (_distance(m, slot) / BANDWIDTH_MINUTES) ** 2) for m, w in weighted)
        if best is None or density > best[0] + 1e-12:
            best = (density, slot)
    if best is None:
        return None
    return ContactTime(time(best[1] // 60, best[1] % 60), len(stamps), len(days))


def _slots(start: time, end: time, step: int) -> list[int]:
    """Grid minutes in [start, end); a window over midnight (22:00-02:00) wraps."""
    first, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    length = (last - first) % _DAY or _DAY
    begin = -(-first // step) * step
    return [m % _DAY for m in range(begin, first + length, step)]


def _minute(t: datetime) -> int:
    return t.hour * 60 + t.minute


def _distance(a: int, b: int) -> int:
    d = abs(a - b) % _DAY
    return min(d, _DAY - d)
