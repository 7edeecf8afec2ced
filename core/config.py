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
from typing import Annotated, Any, Literal
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


# --- incentives: anti-cheating, leaderboards, honors, rewards, ability profile, KPI ----------------
# Metrics a KPI weight or an honor formula may use (each scored 0-100 per rep).
KPI_METRICS = ("data_completeness", "compliance", "target", "followup")
HONOR_METRICS = ("compliance", "kpi", "target", "data_completeness")


def _ident_check(v: str) -> str:
    if not _IDENT.match(v):
        raise ValueError("expected a short id of lowercase letters, digits and _ (max 24)")
    return v


class AntiCheatSettings(_Strict):
    # Per-action daily caps overriding points.daily_cap_per_action, keyed by ledger action:
    # followup_logged, complete_data, contract_signed, payment_collected, item:<checklist id>, stage:<stage id>.
    daily_caps: dict[str, int] = {}
    # Actions that always wait for a manager's tap, whatever their size (points.approval_threshold covers the rest).
    approval_actions: list[str] = []
    # "Mechanical" bursts: this many point-earning actions within the window are flagged to the manager.
    burst_window_seconds: int = Field(default=60, ge=5, le=3600)
    burst_max_actions: int = Field(default=8, ge=2, le=1000)
    # Copy-paste notes: the same text (at least this long) on this many different customers within the window.
    copy_paste_min_chars: int = Field(default=8, ge=2, le=500)
    copy_paste_repeats: int = Field(default=3, ge=2, le=100)
    copy_paste_window_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Checklist items that need a recorded meeting (/meeting) with someone from another department.
    cross_department_items: list[str] = ["tech_meeting"]
    own_department: str = "销售部"

    @field_validator("daily_caps")
    @classmethod
    def _caps(cls, v: dict[str, int]) -> dict[str, int]:
        for key, cap in v.items():
            if not isinstance(cap, int) or cap < 1:
                raise ValueError(f"daily_caps.{key}: expected a whole number ≥ 1")
        return v


class LeaderboardSettings(_Strict):
    top_n: int = Field(default=3, ge=1, le=20)            # the group sees at most this many per comparable group
    # Comparable groups: by tenure bands (days since joining), by User.cohort, by role, or one group.
    group_by: Literal["tenure", "cohort", "role", "none"] = "tenure"
    tenure_bands_days: list[int] = [90]                  # ascending: [90] = "< 90 days" and "≥ 90 days"
    show_most_improved: bool = True
    # Each rep's own rank by private message after the daily / weekly board (or never).
    private_rank: Literal["daily", "weekly", "both", "off"] = "daily"
    daily_period: Literal["day", "week", "month"] = "month"   # the daily board ranks month-to-date by default
    weekly_period: Literal["week", "month"] = "week"
    # A team with fewer reps than this is shown in the group as one team total (a lone name looks broken).
    min_team_ranked: int = Field(default=4, ge=1, le=100)

    @field_validator("tenure_bands_days")
    @classmethod
    def _bands(cls, v: list[int]) -> list[int]:
        if any(not isinstance(d, int) or d < 1 for d in v) or v != sorted(set(v)):
            raise ValueError("expected ascending whole numbers of days, e.g. [90, 365]")
        return v


class HonorFormula(_Strict):
    label: str
    label_en: str = ""
    # metric → weight; metrics: a dimension id, or one of compliance, kpi, target, data_completeness.
    weights: dict[str, float]
    min_score: float = Field(default=10.0, ge=0.0, le=100.0)  # nobody is honoured below this weighted score

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        if not v or any(not isinstance(w, (int, float)) or w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("expected at least one metric with a positive weight")
        return v


class HonorSettings(_Strict):
    advisor: HonorFormula = HonorFormula(label="专业顾问", label_en="Professional advisor",
                                         weights={"needs": 0.4, "proposal": 0.2, "compliance": 0.4})
    collaboration: HonorFormula = HonorFormula(label="最佳协同", label_en="Best collaboration",
                                               weights={"collab": 0.8, "compliance": 0.2})
    quality_star_label: str = "数据质量之星"
    quality_star_label_en: str = "Data quality star"
    quality_star_days: int = Field(default=5, ge=1, le=7)  # working days in a row without a missing required field
    announce: bool = True                                 # post honors in the team's bound groups


class Reward(_Strict):
    id: str
    name: str
    name_en: str = ""
    price: int = Field(ge=1, le=1_000_000)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _ident_check(v)


class Milestone(_Strict):
    id: str
    label: str
    label_en: str = ""
    metric: Literal["deals_won", "points_earned", "followups"]
    threshold: int = Field(ge=1)
    points: int = Field(ge=0, le=100000)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _ident_check(v)


class KpiSettings(_Strict):
    # metric → weight (sum 1): data_completeness, compliance, target (points vs own target), followup (on time).
    weights: dict[str, float] = {"data_completeness": 0.3, "target": 0.3, "compliance": 0.2, "followup": 0.2}
    window_days: int = Field(default=30, ge=1, le=365)  # KPI, compliance and dimension scores look this far back

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = [k for k in v if k not in KPI_METRICS]
        if unknown:
            raise ValueError(f"unknown KPI metric {unknown[0]!r}; expected one of {', '.join(KPI_METRICS)}")
        if any(not isinstance(w, (int, float)) or w < 0 for w in v.values()) or abs(sum(v.values()) - 1.0) > 0.001:
            raise ValueError("expected non-negative weights that add up to 1 (e.g. data_completeness = 0.3)")
        return v


class Dimension(_Strict):
    """One axis of the ability profile, scored from the rep's own actions."""
    id: str
    name: str
    name_en: str = ""
    items: list[str] = []        # checklist item ids done by the rep
    stages: list[str] = []       # stage ids the rep moved customers into
    activities: list[str] = []   # activity kinds (followup, paste, meeting, …)
    metric: Literal["count", "completeness", "compliance"] = "count"
    hint: str = ""
    hint_en: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _ident_check(v)


class SpotCheckReason(_Strict):
    id: str
    label: str
    label_en: str = ""
    revoke_points: bool = True   # claw back the points this record earned
    invalidate: bool = False     # the lead is fake or a duplicate: mark it invalid

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return _ident_check(v)


class SpotCheckSettings(_Strict):
    min_records: int = Field(default=3, ge=1, le=10)
    max_records: int = Field(default=5, ge=1, le=10)
    recent_days: int = Field(default=3, ge=1, le=60)          # "recent change" risk
    stale_days: int = Field(default=7, ge=1, le=365)          # "stale follow-up" risk
    big_deal_amount: float = Field(default=100000, ge=0)      # "big deal" risk
    new_rep_days: int = Field(default=30, ge=1, le=365)       # "new rep" risk
    recheck_after_days: int = Field(default=14, ge=0, le=365)  # a record is not drawn again sooner
    reasons: list[SpotCheckReason] = [
        SpotCheckReason(id="fake_followup", label="跟进记录不实", label_en="Follow-up not real"),
        SpotCheckReason(id="bad_data", label="资料不全或有误", label_en="Data missing or wrong", revoke_points=False),
        SpotCheckReason(id="duplicate", label="重复客户", label_en="Duplicate customer", invalidate=True),
        SpotCheckReason(id="invalid_lead", label="虚假/无效线索", label_en="Fake or invalid lead", invalidate=True),
    ]

    @model_validator(mode="after")
    def _order(self) -> "SpotCheckSettings":
        if self.max_records < self.min_records:
            raise ValueError("max_records must be ≥ min_records")
        if not 1 <= len(self.reasons) <= 8:
            raise ValueError("reasons: expected 1 to 8 preset reasons")
        ids = [r.id for r in self.reasons]
        if len(set(ids)) != len(ids):
            raise ValueError("reasons: duplicate reason id")
        return self


DEFAULT_REWARDS = [
    Reward(id="training", name="外部培训课程", name_en="External training course", price=300),
    Reward(id="half_day_off", name="带薪假半天", name_en="Half a day of paid leave", price=400),
    Reward(id="day_off", name="带薪假一天", name_en="A day of paid leave", price=700),
]

DEFAULT_MILESTONES = [
    Milestone(id="first_deal", label="首单回款", label_en="First deal collected", metric="deals_won", threshold=1, points=20),
    Milestone(id="deals_10", label="累计回款10单", label_en="Ten deals collected", metric="deals_won", threshold=10, points=100),
    Milestone(id="followups_100", label="累计跟进100次", label_en="100 follow-ups", metric="followups", threshold=100, points=20),
]

DEFAULT_DIMENSIONS = [
    Dimension(id="needs", name="需求挖掘", name_en="Needs discovery", items=["needs_analysis", "decision_chain", "pain_points"],
              stages=["quote"], hint="先问清痛点、预算和决策人，再谈方案：用需求调研表逐项确认，提交完整需求分析报告。",
              hint_en="Ask about pains, budget and the decision maker before any proposal; use the needs survey."),
    Dimension(id="proposal", name="方案报价", name_en="Proposal & quote", items=["confirm_budget", "proposal_sent"],
              stages=["negotiation"], hint="报价前先确认预算范围，方案要对应客户的三大痛点。",
              hint_en="Confirm the budget before quoting; tie the proposal to the customer's three pains."),
    Dimension(id="closing", name="推进成交", name_en="Closing", items=["objections_handled", "terms_agreed", "contract_archived"],
              stages=["contract", "payment"], hint="每次沟通都约定下一步和时间点；用付款节奏和排期换取尽快签约。",
              hint_en="End every talk with a dated next step; trade payment terms or scheduling for an earlier signature."),
    Dimension(id="care", name="客户维护", name_en="Account care", items=["invoice_sent", "payment_confirmed"],
              activities=["followup"], hint="按约定时间回访，不让客户超过一周没有音讯；成交后跟进回款与交付。",
              hint_en="Follow up when promised and never leave a customer silent for over a week."),
    Dimension(id="quality", name="数据质量", name_en="Data quality", metric="completeness",
              hint="新建客户当天补全主营产品、规模、预算等必填项，推进阶段前检查资料完整度。",
              hint_en="Fill in the required fields on the day you add a customer; check completeness before moving a stage."),
    Dimension(id="collab", name="协同", name_en="Collaboration", items=["tech_meeting"], activities=["meeting"],
              hint="复杂需求及早拉上技术、交付同事开对接会，用 /meeting 记录参会人。",
              hint_en="Bring in technical and delivery colleagues early; record the meeting with /meeting."),
]


class ObjectionScript(_Strict):
    label: str = ""
    script: str


# --- ingestion: sources, cleaning, assignment, connectors (issue 6) ------------------------

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,80}$")
# Pseudo-fields a source may map to besides customer fields: used for tags, notes, assignment.
INGEST_EXTRA_FIELDS = ("interest", "note", "region", "purchase_frequency", "owner", "external_id")
CONNECTOR_KINDS = ("erp", "chat_archive")
_SCHEDULE = re.compile(r"^(?:(?P<daily>([01]\d|2[0-3]):[0-5]\d)|hourly:(?P<minute>[0-5]\d))$")


def _check_env_name(v: str) -> str:
    if v and not _ENV_NAME.match(v):
        raise ValueError("expected the NAME of an environment variable (A-Z, 0-9, _), e.g. SALESBOT_SOURCE_WEBSITE_SECRET; "
                         "secrets never go in config.toml")
    return v


class Band(_Strict):
    """A value band for tagging: a number in the value ≥ min, or any of the words, gives the label."""
    label: str
    min: float | None = None
    words: list[str] = []


class TagRule(_Strict):
    """Add ``tag`` when the (cleaned) field matches the regex ``pattern``; {value} is the field value."""
    field: str
    pattern: str = ".+"
    tag: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return v


class CleaningSettings(_Strict):
    # canonical industry → words that mean it (matched as substrings, case-insensitive)
    industries: dict[str, list[str]] = {}
    # lead source label → words in a 来源 column or ``source`` field that mean it
    source_labels: dict[str, list[str]] = {}
    size_bands: list[Band] = []
    frequency_bands: list[Band] = []
    tag_rules: list[TagRule] = []
    # extra spreadsheet header synonyms: field → headers (added to the built-in ones)
    header_synonyms: dict[str, list[str]] = {}


class IngestSettings(_Strict):
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=10 * 1024 * 1024)
    replay_window_seconds: int = Field(default=300, ge=10, le=3600)
    idempotency_ttl_hours: int = Field(default=48, ge=1, le=24 * 30)
    max_import_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    max_import_rows: int = Field(default=5000, ge=1, le=100000)
    import_confirm_minutes: int = Field(default=60, ge=1, le=24 * 60)
    connector_poll_seconds: float = Field(default=5.0, ge=0.05, le=3600)
    # Slow clients (ingest/server.py): the request line and headers, then the body, must arrive within
    # these; bodies not yet authenticated (HMAC needs the body) are read at most this many at a time.
    header_timeout_seconds: float = Field(default=10.0, ge=0.1, le=300)
    body_timeout_seconds: float = Field(default=10.0, ge=0.1, le=300)
    max_unauthenticated_bodies: int = Field(default=32, ge=1, le=10000)
    cleaning: CleaningSettings = CleaningSettings()


class SourceSettings(_Strict):
    """One system that sends leads or events; its secret and token come from the environment."""
    label: str
    auth: Literal["hmac", "bearer", "either", "none"] = "either"
    secret_env: str = ""
    token_env: str = ""
    priority: int = Field(default=0, ge=-100, le=100)
    tags: list[str] = []
    # incoming key → field (customer field or one of INGEST_EXTRA_FIELDS)
    fields: dict[str, str] = {}
    # the customer name when none is sent: the first of these fields that has a value
    name_from: list[str] = ["contact", "company"]
    # fields a lead must carry (422 otherwise); "phone_or_company" accepts either
    required: list[str] = ["name", "phone"]

    @field_validator("secret_env", "token_env")
    @classmethod
    def _env(cls, v: str) -> str:
        return _check_env_name(v)

    @model_validator(mode="after")
    def _auth(self) -> "SourceSettings":
        if self.auth == "hmac" and not self.secret_env:
            raise ValueError("auth = \"hmac\" needs secret_env")
        if self.auth == "bearer" and not self.token_env:
            raise ValueError("auth = \"bearer\" needs token_env")
        if self.auth == "either" and not (self.secret_env or self.token_env):
            raise ValueError("auth = \"either\" needs secret_env and/or token_env")
        return self


class AssignmentRule(_Strict):
    field: Literal["region", "industry", "source"] = "region"
    values: list[str]
    # reps by name, @username or Telegram id
    reps: list[str | int]


class PriorityRule(_Strict):
    field: str
    contains: list[str] = []
    min: float | None = None
    points: int = Field(ge=-100, le=100)


class AssignmentSettings(_Strict):
    strategy: Literal["round_robin", "territory", "industry", "load"] = "round_robin"
    team: str = ""                      # team receiving API leads; "" = [team].name
    first_contact_minutes: int = Field(default=30, ge=0, le=7 * 24 * 60)
    high_priority: int = Field(default=60, ge=0, le=100)
    rules: list[AssignmentRule] = []
    priority_rules: list[PriorityRule] = []


class ConnectorSettings(_Strict):
    enabled: bool = False
    base_url: str = ""
    token_env: str = ""
    schedule: str = "02:00"             # "HH:MM" daily, or "hourly:MM"
    timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    max_attempts: int = Field(default=5, ge=1, le=20)
    backoff_seconds: float = Field(default=2.0, ge=0, le=600)
    page_size: int = Field(default=100, ge=1, le=1000)
    max_pages: int = Field(default=1000, ge=1, le=100000)
    label: str = ""
    upsell_after_days: int = Field(default=90, ge=0, le=3650)
    aftersales_after_days: int = Field(default=7, ge=0, le=3650)

    @field_validator("token_env")
    @classmethod
    def _env(cls, v: str) -> str:
        return _check_env_name(v)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        if not _SCHEDULE.match(v):
            raise ValueError('expected "HH:MM" (daily) or "hourly:MM"')
        return v

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if v and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("expected an http(s) URL")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _usable(self) -> "ConnectorSettings":
        if self.enabled and not self.base_url:
            raise ValueError("enabled = true needs base_url")
        return self

    @property
    def hourly(self) -> bool:
        return self.schedule.startswith("hourly:")

    def runs_at_hour(self, hour: int) -> bool:
        if not self.enabled:
            return False
        return self.hourly or int(self.schedule[:2]) == hour

    def slot_time(self, hour: int) -> str:
        if self.hourly:
            return f"{hour:02d}:{self.schedule[-2:]}"
        return self.schedule if int(self.schedule[:2]) == hour else f"{hour:02d}:00"


def _default_connectors() -> dict[str, ConnectorSettings]:
    return {"erp": ConnectorSettings(label="ERP订单"),
            "chat_archive": ConnectorSettings(schedule="hourly:05", label="企业微信会话存档")}


# --- speech and the AI assistant (issue 17): services outside the deployment, off by default ---

DEFAULT_SUMMARY_PROMPT = (
    "你是销售教练。根据下面销售与客户的对话，用中文写出正好五行的总结，每行以标签开头："
    "客户需求：…／客户顾虑：…／购买意向：…／关键信息：…／下一步：…。不要编造对话里没有的事实。")
DEFAULT_REPLY_PROMPT = (
    "你是销售教练。根据下面的对话和团队话术，为销售写三条可以发给客户的中文回复草稿，"
    "每条一行，以 1. 2. 3. 开头，语气专业友好，每条不超过80字。团队针对本次客户顾虑的话术：\n{scripts}")


class PrivacySettings(_Strict):
    # Whether a rep's audio (voice notes, call recordings) may be sent to the speech service, and
    # whether conversation text may be sent to the assistant's language model. Both off by default:
    # the offline analysis always works without them.
    audio_may_leave: bool = False
    text_may_leave: bool = False
    # Phone numbers and amounts are replaced by placeholders before text leaves the deployment.
    mask_numbers: bool = True


class SpeechSettings(_Strict):
    # The service itself comes from the environment: SALESBOT_STT_URL, SALESBOT_STT_MODEL, SALESBOT_STT_KEY.
    daily_audio_seconds: int = Field(default=7200, ge=0, le=864000)   # the team's budget per day
    note_max_seconds: int = Field(default=90, ge=5, le=600)           # longer audio counts as a call recording
    max_audio_seconds: int = Field(default=7200, ge=10, le=36000)     # longer files are refused
    cost_per_minute: float = Field(default=0.0, ge=0)                 # for the cost log line only


class AssistantSettings(_Strict):
    # The model comes from the environment: SALESBOT_LLM_URL, SALESBOT_LLM_MODEL, SALESBOT_LLM_KEY.
    summary_prompt: str = Field(default=DEFAULT_SUMMARY_PROMPT, min_length=10, max_length=4000)
    reply_prompt: str = Field(default=DEFAULT_REPLY_PROMPT, min_length=10, max_length=4000)
    daily_calls: int = Field(default=500, ge=0, le=100000)
    max_input_chars: int = Field(default=6000, ge=200, le=100000)
    cost_per_1k: float = Field(default=0.0, ge=0)  # per 1,000 tokens (prompt + answer), for the cost log line only

    @field_validator("reply_prompt")
    @classmethod
    def _reply_placeholders(cls, v: str) -> str:
        try:
            v.format(scripts="")
        except (KeyError, IndexError, ValueError):
            raise ValueError("the only placeholder allowed is {scripts} (write {{ and }} for literal braces)") from None
        return v

# --- coaching (issue 16): lost reasons, competitors, stalls, visits, the weekly review -------------------

def _clean_text(value: str) -> str:
    value = value.strip()
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


ShortText = Annotated[str, Field(min_length=1, max_length=40)]
LongText = Annotated[str, Field(max_length=300)]


class LostReason(_Strict):
    id: str
    label: str = Field(min_length=1, max_length=24)   # a button label
    label_en: str = Field(default="", max_length=40)

    _ident = field_validator("id")(classmethod(lambda cls, v: _check_ident(v)))
    _text = field_validator("label", "label_en")(classmethod(lambda cls, v: _clean_text(v)))


class Competitor(_Strict):
    id: str
    name: str = Field(min_length=1, max_length=40)
    # Other spellings a rep or customer uses ("金蝶", "Kingdee", "金蝶云"); matched case-insensitively.
    aliases: list[ShortText] = Field(default=[], max_length=20)
    positioning: LongText = ""
    price_level: Literal["low", "mid", "high"] = "mid"
    strengths: list[LongText] = Field(default=[], max_length=10)
    weaknesses: list[LongText] = Field(default=[], max_length=10)
    counter_scripts: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default=[], max_length=5)

    _ident = field_validator("id")(classmethod(lambda cls, v: _check_ident(v)))

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = _clean_text(v)
        if not v:
            raise ValueError("expected a name")
        return v

    @field_validator("positioning")
    @classmethod
    def _positioning(cls, v: str) -> str:
        return _clean_text(v)

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, v: list[str]) -> list[str]:
        cleaned = [_clean_text(a) for a in v]
        if any(len(a) < 2 for a in cleaned):
            raise ValueError("each alias needs at least 2 characters (a single character matches too much)")
        return cleaned

    def names(self) -> list[str]:
        """Every spelling that attributes a mention to this competitor."""
        return [self.name, *self.aliases]


class CoachingSettings(_Strict):
    # A stalled deal (see stages.stall_days) reaches the manager's digest this many days after the rep's flag.
    escalate_after_days: int = Field(default=3, ge=0, le=90)
    # The weekly 复盘 for managers: day, time, how far back it looks, and the sample below which it warns.
    review_day: str = "fri"
    review_time: str = "17:00"
    review_window_days: int = Field(default=7, ge=1, le=90)
    min_sample: int = Field(default=5, ge=1, le=1000)
    # Visit plans: length of a visit, the reminder before it and the check-in after it.
    visit_minutes: int = Field(default=60, ge=10, le=8 * 60)
    visit_remind_minutes: int = Field(default=60, ge=0, le=24 * 60)
    checkin_after_minutes: int = Field(default=60, ge=0, le=24 * 60)
    # A pilot's impact is "too early to tell" while either group has fewer deals than this.
    pilot_min_sample: int = Field(default=8, ge=2, le=10000)

    @field_validator("review_day")
    @classmethod
    def _day(cls, v: str) -> str:
        return _check_day(v)

    @field_validator("review_time")
    @classmethod
    def _time(cls, v: str) -> str:
        return _check_time(v)


DEFAULT_LOST_REASONS = [
    LostReason(id="price", label="价格太高", label_en="Price too high"),
    LostReason(id="competitor", label="选了竞品", label_en="Chose a competitor"),
    LostReason(id="no_budget", label="没有预算", label_en="No budget"),
    LostReason(id="no_decision", label="决策搁置", label_en="No decision"),
    LostReason(id="fit", label="产品不匹配", label_en="Product does not fit"),
    LostReason(id="unreachable", label="联系不上", label_en="Unreachable"),
    LostReason(id="other", label="其他", label_en="Other"),
]


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
