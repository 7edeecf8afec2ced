"""The team's playbook (config.toml) and the process settings (environment).

A manager changes behaviour in config.toml, never in code, so the file is
validated strictly at start-up: an unknown key, a wrong type or a bad value
stops the program with a message naming the key, the value and what was
expected.  Secrets (token, database URL) come only from the environment.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


def _check_time(value: str) -> str:
    parse_hhmm(value)
    return value


class ChecklistItem(_Strict):
    id: str
    text: str
    text_en: str = ""
    points: int = Field(default=0, ge=0, le=1000)
    # Optional: the fields that must be filled for the item to count (anti-cheating evidence).
    requires_fields: list[str] = []
    # The playbook module this item belongs to, so a team can pilot one SOP at a time.
    module: str = "core"

    @field_validator("id")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not _IDENT.match(v):
            raise ValueError("expected a short id of lowercase letters, digits and _ (max 24)")
        return v


class Stage(_Strict):
    id: str
    name: str
    name_en: str = ""
    expected_days: int = Field(ge=1, le=365)
    required_fields: list[str] = []
    checklist: list[ChecklistItem] = []
    scripts: list[str] = []
    materials: list[str] = []
    # Rough probability that a customer in this stage closes within 14 days (prior for nlp.predict).
    close_prior: float = Field(default=0.1, ge=0.0, le=1.0)
    advance_points: int = Field(default=0, ge=0, le=1000)
    # Keywords in a free-text update that hint at this stage ("已报价" → quote).
    hints: list[str] = []

    @field_validator("id")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not _IDENT.match(v):
            raise ValueError("expected a short id of lowercase letters, digits and _ (max 24)")
        return v


class CustomField(_Strict):
    label: str
    label_en: str = ""
    type: Literal["text", "number", "date", "choice"] = "text"
    choices: list[str] = []


class TeamSettings(_Strict):
    name: str = "销售团队"
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as Asia/Shanghai") from None
        return v


class TelegramSettings(_Strict):
    webhook_url: str = ""
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=0, le=65535)
    webhook_path: str = "/telegram"


class ScheduleSettings(_Strict):
    brief_time: str = "08:30"
    digest_time: str = "08:15"
    spot_check_time: str = "09:30"
    leaderboard_daily: str = "18:00"
    leaderboard_weekly_day: str = "fri"
    leaderboard_weekly_time: str = "18:05"
    pool_recycle_time: str = "01:00"
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    workdays: list[str] = ["mon", "tue", "wed", "thu", "fri"]
    # A job whose time passed while the bot was down runs once on start if still within this many
    # minutes; APScheduler's own default is one second, which silently drops a morning after a restart.
    misfire_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    # Reminders beyond this many per day are folded into the next brief instead of pinging the rep.
    max_reminders_per_day: int = Field(default=5, ge=0, le=100)

    @field_validator("brief_time", "digest_time", "spot_check_time", "leaderboard_daily",
                     "leaderboard_weekly_time", "pool_recycle_time", "quiet_start", "quiet_end")
    @classmethod
    def _time(cls, v: str) -> str:
        return _check_time(v)

    @field_validator("leaderboard_weekly_day")
    @classmethod
    def _day(cls, v: str) -> str:
        if v not in WEEKDAYS:
            raise ValueError(f"expected one of {', '.join(WEEKDAYS)}")
        return v

    @field_validator("workdays")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"expected days from {', '.join(WEEKDAYS)}")
        return v


class InviteSettings(_Strict):
    ttl_hours: int = Field(default=72, ge=1, le=24 * 30)


class PoolSettings(_Strict):
    protect_days: int = Field(default=10, ge=1, le=365)
    extend_per_followup_days: int = Field(default=3, ge=0, le=60)
    max_protect_days: int = Field(default=20, ge=1, le=365)
    warn_before_days: int = Field(default=2, ge=0, le=30)
    max_holding: int = Field(default=200, ge=1, le=100000)
    reclaim_cooldown_days: int = Field(default=7, ge=0, le=365)

    @model_validator(mode="after")
    def _order(self) -> "PoolSettings":
        if self.max_protect_days < self.protect_days:
            raise ValueError("max_protect_days must be ≥ protect_days")
        return self


class DuplicateSettings(_Strict):
    fuzzy_threshold: float = Field(default=0.88, ge=0.5, le=1.0)


class QualitySettings(_Strict):
    # Values that only pretend to fill a field.
    junk_values: list[str] = ["无", "没有", "暂无", "不知道", "未知", "n/a", "na", "none", "null", "test", "测试", "xxx", "-", "--", "...", "。。。", "?", "？"]
    max_followup_days_ahead: int = Field(default=180, ge=1, le=3650)


class PointsSettings(_Strict):
    followup_logged: int = Field(default=2, ge=0)
    complete_data: int = Field(default=5, ge=0)
    contract_signed: int = Field(default=50, ge=0)
    payment_collected: int = Field(default=30, ge=0)
    # Awards at or above this many points wait for a manager's approval.
    approval_threshold: int = Field(default=30, ge=1)
    daily_cap_per_action: int = Field(default=10, ge=1)


class ObjectionScript(_Strict):
    label: str = ""
    script: str


class Config(_Strict):
    team: TeamSettings = TeamSettings()
    telegram: TelegramSettings = TelegramSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    invites: InviteSettings = InviteSettings()
    pool: PoolSettings = PoolSettings()
    duplicates: DuplicateSettings = DuplicateSettings()
    quality: QualitySettings = QualitySettings()
    points: PointsSettings = PointsSettings()
    fields: dict[str, CustomField] = {}
    stages: list[Stage]
    # Playbook modules switched on for teams that have no explicit choice (pilot one SOP at a time).
    modules_enabled: list[str] = ["core"]
    objections: dict[str, ObjectionScript] = {}

    @model_validator(mode="after")
    def _coherent(self) -> "Config":
        ids = [s.id for s in self.stages]
        if len(ids) < 2:
            raise ValueError("stages: expected at least two funnel stages")
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"stages: duplicate stage id {sorted(dupes)!r}")
        known = set(BUILTIN_FIELDS) | set(self.fields)
        for index, stage in enumerate(self.stages):
            for name in stage.required_fields:
                if name not in known:
                    raise ValueError(
                        f"stages[{index}].required_fields: unknown field {name!r}; expected one of "
                        f"{', '.join(sorted(known))} (declare custom fields under [fields.NAME])")
            item_ids = [c.id for c in stage.checklist]
            if len(set(item_ids)) != len(item_ids):
                raise ValueError(f"stages[{index}].checklist: duplicate item id")
        return self

    # --- convenience lookups -------------------------------------------------
    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def stage_index(self, stage_id: str) -> int:
        return next((i for i, s in enumerate(self.stages) if s.id == stage_id), -1)

    def next_stage(self, stage_id: str) -> Stage | None:
        index = self.stage_index(stage_id)
        return self.stages[index + 1] if 0 <= index < len(self.stages) - 1 else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.team.timezone)

    def field_label(self, name: str, lang: str = "zh") -> str:
        if name in self.fields:
            f = self.fields[name]
            return (f.label_en or f.label) if lang == "en" else f.label
        from core.texts import field_label
        return field_label(name, lang)


def _format_errors(path: Path, error: ValidationError, raw: dict[str, Any]) -> str:
    lines = [f"{path}: the playbook has {error.error_count()} problem(s):"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        value = item.get("input")
        shown = repr(value) if not isinstance(value, dict) else "{…}"
        if len(shown) > 80:
            shown = shown[:77] + "…"
        reason = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling; see the configuration reference in README.md)"
        elif item["type"] == "missing":
            shown = "(missing)"
        lines.append(f"  - {key} = {shown}: {reason}")
    return "\n".join(lines)


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate the playbook; raise ConfigError naming key, value and expectation."""
    path = Path(path or os.environ.get("SALESBOT_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (set SALESBOT_CONFIG or create config.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc, raw)) from None


@dataclass(frozen=True)
class Settings:
    """Process settings from the environment: secrets and deployment, never the playbook."""

    token: str
    api_base_url: str | None
    api_file_url: str | None
    database_url: str
    config_path: Path
    admin_ids: tuple[int, ...]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        base = env.get("TELEGRAM_API_BASE_URL") or None
        file_url = env.get("TELEGRAM_API_FILE_URL") or (base.replace("/bot", "/file/bot") if base else None)
        db = env.get("DATABASE_URL") or f"sqlite:///{REPO_ROOT / 'data' / 'salesbot.db'}"
        admins = tuple(int(x) for x in re.split(r"[,\s]+", env.get("SALESBOT_ADMIN_IDS", "")) if x.strip().lstrip("-").isdigit())
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", ""),
            api_base_url=base,
            api_file_url=file_url,
            database_url=db,
            config_path=Path(env.get("SALESBOT_CONFIG") or DEFAULT_CONFIG_PATH),
            admin_ids=admins,
        )
