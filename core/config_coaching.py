"""The playbook's speech, assistant and coaching settings (issues 16, 17)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from core.config_base import _Strict, _check_day, _check_ident, _check_time


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
