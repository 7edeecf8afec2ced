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
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator

# Every setting class stays importable from core.config, as before the split by concept.
from core.config_base import (BUILTIN_FIELDS, ConfigError, DEFAULT_CONFIG_PATH, HHMM, parse_hhmm, REPO_ROOT,
                              WEEKDAYS, _check_day, _check_ident, _check_time, _IDENT, _Strict)  # noqa: F401
from core.config_incentives import (AntiCheatSettings, DEFAULT_DIMENSIONS, DEFAULT_MILESTONES,
                                    DEFAULT_REWARDS, Dimension, HONOR_METRICS, HonorFormula, HonorSettings,
                                    KPI_METRICS, KpiSettings, LeaderboardSettings, Milestone, ObjectionScript,
                                    Reward, SpotCheckReason, SpotCheckSettings)  # noqa: F401
from core.config_ingest import (AssignmentRule, AssignmentSettings, Band, CleaningSettings, CONNECTOR_KINDS,
                                ConnectorSettings, INGEST_EXTRA_FIELDS, IngestSettings, PriorityRule,
                                SourceSettings, TagRule, _default_connectors)  # noqa: F401
from core.config_coaching import (AssistantSettings, CoachingSettings, Competitor, DEFAULT_LOST_REASONS,
                                  DEFAULT_REPLY_PROMPT, DEFAULT_SUMMARY_PROMPT, LongText, LostReason,
                                  PrivacySettings, ShortText, SpeechSettings)  # noqa: F401


class ChecklistItem(_Strict):
    id: str
    text: str
    text_en: str = ""
    points: int = Field(default=0, ge=0, le=1000)
    # Optional: the fields that must be filled for the item to count (anti-cheating evidence).
    requires_fields: list[str] = []
    # The playbook module this item belongs to, so a team can pilot one SOP at a time.
    module: str = "core"

    _ident = field_validator("id")(classmethod(lambda cls, v: _check_ident(v)))


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
    # Unset: nlp.predict.funnel_priors derives it from the stage's place in this playbook's funnel.
    close_prior: float | None = Field(default=None, ge=0.0, le=1.0)
    advance_points: int = Field(default=0, ge=0, le=1000)
    # Keywords in a free-text update that hint at this stage ("已报价" → quote).
    hints: list[str] = []
    # Coaching (issue 16): a deal with no progress (stage move or checklist step) for this many days is
    # flagged on the rep's card; unset = expected_days. [coaching] escalate_after_days later it reaches the digest.
    stall_days: int | None = Field(default=None, ge=1, le=365)

    _ident = field_validator("id")(classmethod(lambda cls, v: _check_ident(v)))


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


class ConsoleSettings(_Strict):
    # The manager's console (Telegram Mini App) served at /app/ by the bot's aiohttp server.
    # public_url: the HTTPS address Telegram opens (e.g. "https://bot.example.com/app/"); empty = no menu
    # button and no "打开看板" button (the page and its API are still served).
    public_url: str = ""
    # initData older than this is refused (401): a leaked link stops working.
    auth_max_age_seconds: int = Field(default=86400, ge=60, le=30 * 86400)

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not v.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("expected an https:// address (http only on 127.0.0.1/localhost for local tests)")
        return v


class ClusterSettings(_Strict):
    # Several bot processes on one PostgreSQL: exactly one of them (the holder of a lease row) runs
    # the schedule and sends the outbox. It renews the lease every third of this time; if it dies,
    # another instance takes over within this many seconds. See docs/deployment.md.
    lease_ttl_seconds: int = Field(default=30, ge=2, le=600)


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
    # The team's working hours (local): the card's best contact time is always inside them.
    work_start: str = "09:00"
    work_end: str = "18:00"
    # A job whose time passed while the bot was down runs once on start if still within this many
    # minutes; APScheduler's own default is one second, which silently drops a morning after a restart.
    misfire_grace_minutes: int = Field(default=120, ge=0, le=24 * 60)
    # Reminders beyond this many per day are folded into the next brief instead of pinging the rep.
    max_reminders_per_day: int = Field(default=5, ge=0, le=100)

    @field_validator("brief_time", "digest_time", "spot_check_time", "leaderboard_daily",
                     "leaderboard_weekly_time", "pool_recycle_time", "quiet_start", "quiet_end",
                     "work_start", "work_end")
    @classmethod
    def _time(cls, v: str) -> str:
        return _check_time(v)

    @field_validator("leaderboard_weekly_day")
    @classmethod
    def _day(cls, v: str) -> str:
        return _check_day(v)

    @field_validator("workdays")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d not in WEEKDAYS]
        if bad:
            raise ValueError(f"expected days from {', '.join(WEEKDAYS)}")
        return v

    @model_validator(mode="after")
    def _hours(self) -> "ScheduleSettings":
        if self.work_start == self.work_end:
            raise ValueError("schedule.work_end: must differ from work_start (a night shift may end after midnight)")
        return self


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
    # /查重 per person and hour: another team's customers are found only by exact keys, and this
    # keeps anyone from walking the phone-number space.
    lookups_per_hour: int = Field(default=20, ge=1, le=10_000)


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


class Config(_Strict):
    team: TeamSettings = TeamSettings()
    telegram: TelegramSettings = TelegramSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    cluster: ClusterSettings = ClusterSettings()
    console: ConsoleSettings = ConsoleSettings()
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
    # Incentives (issue 5): all optional, so an older playbook still loads.
    anticheat: AntiCheatSettings = AntiCheatSettings()
    leaderboard: LeaderboardSettings = LeaderboardSettings()
    honors: HonorSettings = HonorSettings()
    rewards: list[Reward] = DEFAULT_REWARDS
    milestones: list[Milestone] = DEFAULT_MILESTONES
    kpi: KpiSettings = KpiSettings()
    dimensions: list[Dimension] = DEFAULT_DIMENSIONS
    spotcheck: SpotCheckSettings = SpotCheckSettings()
    ingest: IngestSettings = IngestSettings()
    sources: dict[str, SourceSettings] = {}
    assignment: AssignmentSettings = AssignmentSettings()
    connectors: dict[str, ConnectorSettings] = Field(default_factory=_default_connectors)
    privacy: PrivacySettings = PrivacySettings()
    speech: SpeechSettings = SpeechSettings()
    assistant: AssistantSettings = AssistantSettings()
    # Coaching (issue 16): all optional, so an older playbook still loads.
    lost_reasons: list[LostReason] = DEFAULT_LOST_REASONS
    competitors: list[Competitor] = Field(default=[], max_length=30)
    coaching: CoachingSettings = CoachingSettings()

    @model_validator(mode="after")
    def _coaching_coherent(self) -> "Config":
        if not 1 <= len(self.lost_reasons) <= 12:
            raise ValueError("lost_reasons: expected 1 to 12 reasons (each becomes a button)")
        ids = [r.id for r in self.lost_reasons]
        if len(set(ids)) != len(ids):
            raise ValueError("lost_reasons: duplicate reason id")
        ids = [c.id for c in self.competitors]
        if len(set(ids)) != len(ids):
            raise ValueError("competitors: duplicate competitor id")
        seen: dict[str, str] = {}
        for comp in self.competitors:
            for name in comp.names():
                key = name.casefold().replace(" ", "")
                if key in seen and seen[key] != comp.id:
                    raise ValueError(f"competitors: {name!r} is a name or alias of both {seen[key]!r} and {comp.id!r}")
                seen[key] = comp.id
        return self

    @model_validator(mode="after")
    def _ingest_coherent(self) -> "Config":
        known = set(BUILTIN_FIELDS) | set(self.fields) | set(INGEST_EXTRA_FIELDS)
        for name, source in self.sources.items():
            if not _IDENT.match(name):
                raise ValueError(f"sources.{name}: expected a short id of lowercase letters, digits and _")
            for key, target in source.fields.items():
                if target not in known:
                    raise ValueError(f"sources.{name}.fields.{key}: unknown field {target!r}; expected one of "
                                     f"{', '.join(sorted(known))}")
            for target in source.name_from:
                if target not in known:
                    raise ValueError(f"sources.{name}.name_from: unknown field {target!r}")
            for target in source.required:
                if target not in known and target != "phone_or_company":
                    raise ValueError(f"sources.{name}.required: unknown field {target!r}")
        for target in self.ingest.cleaning.header_synonyms:
            if target not in known:
                raise ValueError(f"ingest.cleaning.header_synonyms.{target}: unknown field; expected one of "
                                 f"{', '.join(sorted(known))}")
        for index, rule in enumerate(self.ingest.cleaning.tag_rules):
            if rule.field not in known:
                raise ValueError(f"ingest.cleaning.tag_rules[{index}].field: unknown field {rule.field!r}")
        for index, rule in enumerate(self.assignment.priority_rules):
            if rule.field not in known:
                raise ValueError(f"assignment.priority_rules[{index}].field: unknown field {rule.field!r}")
        unknown = sorted(set(self.connectors) - set(CONNECTOR_KINDS))
        if unknown:
            raise ValueError(f"connectors: unknown connector {unknown[0]!r}; expected one of {', '.join(CONNECTOR_KINDS)}")
        merged = _default_connectors()
        merged.update(self.connectors)
        self.connectors = merged
        return self

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

    @model_validator(mode="after")
    def _incentives_coherent(self) -> "Config":
        items = {c.id for s in self.stages for c in s.checklist}
        stage_ids = {s.id for s in self.stages} | {"won"}
        actions = {"followup_logged", "complete_data", "contract_signed", "payment_collected"}
        actions |= {f"item:{i}" for i in items} | {f"stage:{s.id}" for s in self.stages}
        actions |= {f"milestone:{m.id}" for m in self.milestones}
        for key in self.anticheat.daily_caps:
            if key not in actions:
                raise ValueError(f"anticheat.daily_caps: unknown action {key!r}; expected one of {', '.join(sorted(actions))}")
        for key in self.anticheat.approval_actions:
            if key not in actions:
                raise ValueError(f"anticheat.approval_actions: unknown action {key!r}")
        for item in self.anticheat.cross_department_items:
            if item not in items:
                raise ValueError(f"anticheat.cross_department_items: unknown checklist item {item!r}")
        dim_ids = [d.id for d in self.dimensions]
        if not 3 <= len(dim_ids) <= 10:
            raise ValueError("dimensions: expected 3 to 10 dimensions (a radar chart needs at least 3)")
        if len(set(dim_ids)) != len(dim_ids):
            raise ValueError("dimensions: duplicate dimension id")
        for index, dim in enumerate(self.dimensions):
            for item in dim.items:
                if item not in items:
                    raise ValueError(f"dimensions[{index}].items: unknown checklist item {item!r}")
            for stage in dim.stages:
                if stage not in stage_ids:
                    raise ValueError(f"dimensions[{index}].stages: unknown stage {stage!r}")
            if dim.metric == "count" and not (dim.items or dim.stages or dim.activities):
                raise ValueError(f"dimensions[{index}]: a count dimension needs items, stages or activities")
        known_metrics = set(dim_ids) | set(HONOR_METRICS)
        for name in ("advisor", "collaboration"):
            for metric in getattr(self.honors, name).weights:
                if metric not in known_metrics:
                    raise ValueError(f"honors.{name}.weights: unknown metric {metric!r}; expected a dimension id or "
                                     f"one of {', '.join(HONOR_METRICS)}")
        reward_ids = [r.id for r in self.rewards]
        if len(set(reward_ids)) != len(reward_ids):
            raise ValueError("rewards: duplicate reward id")
        if len({m.id for m in self.milestones}) != len(self.milestones):
            raise ValueError("milestones: duplicate milestone id")
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

    def stall_limit(self, stage_id: str) -> int | None:
        """Days without progress after which a deal in this stage counts as stalled."""
        stage = self.stage(stage_id)
        return None if stage is None else (stage.stall_days or stage.expected_days)

    def competitor(self, competitor_id: str) -> "Competitor | None":
        return next((c for c in self.competitors if c.id == competitor_id), None)

    def lost_reason(self, reason_id: str) -> "LostReason | None":
        return next((r for r in self.lost_reasons if r.id == reason_id), None)

    def objection_scripts(self) -> dict[str, str]:
        """Objection id -> the scripted answer the analysis suggests."""
        return {key: objection.script for key, objection in self.objections.items()}

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
