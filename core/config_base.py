"""What every part of the playbook's schema shares: the strict model base, time and identifier
checks, the repository paths and the shared constants (core/config.py assembles the whole)."""
from __future__ import annotations

import re
from datetime import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.toml"

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,23}$")

# Customer columns that a stage may require; custom fields add to these.
BUILTIN_FIELDS = ("name", "company", "contact", "phone", "industry", "size", "source", "amount", "next_followup_at")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """Raised with a human-readable list of problems in the playbook."""


def parse_hhmm(value: str) -> time:
    match = _HHMM.match(value)
    if not match:
        raise ValueError("expected a time of day as HH:MM (00:00-23:59)")
    return time(int(match.group(1)), int(match.group(2)))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HHMM(str):
    """Marker type; validated by the models that use it."""


def _check_ident(value: str) -> str:
    if not _IDENT.match(value):
        raise ValueError("expected a short id of lowercase letters, digits and _ (max 24)")
    return value


def _check_time(value: str) -> str:
    parse_hhmm(value)
    return value


def _check_day(value: str) -> str:
    if value not in WEEKDAYS:
        raise ValueError(f"expected one of {', '.join(WEEKDAYS)}")
    return value
