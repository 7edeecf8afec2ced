"""The playbook's intake settings: cleaning, sources, assignment, connectors (issue 6)."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.config_base import _Strict


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
