"""The playbook's incentive settings: anti-cheating, leaderboards, honors, rewards, milestones,
KPI, ability profile, spot checks, objection scripts."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.config_base import _IDENT, _Strict


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
