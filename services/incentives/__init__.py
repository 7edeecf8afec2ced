"""Incentives: awards and anti-cheating, approvals, the rewards shop, honors and milestones, KPI and the
ability profile — one module per concept:

* ``awards``     — ``award()``: evidence rule → ledger (services.points) → screens; meetings; invalid leads
* ``anticheat``  — the evidence rule, burst / copy-paste screens, flags, approvals of large awards
* ``meetings``   — cross-department meetings (who attended)
* ``shop``       — rewards and their redemption
* ``honors``     — milestones, the data-quality star, monthly honors
* ``profile``    — KPI, compliance, the ability profile and its caption / radar
* ``common``     — who to tell and how (outbox payloads), a decision's outcome

Per-rep numbers are computed for a whole team at once with GROUP BY aggregates (services.rep_stats),
never one query per rep. No Telegram types here. Callers use ``services.incentives`` as one API; the
names below are that API.
"""
from core.clock import local_date
from services.incentives.anticheat import (decide_award, decide_flag, evidence_ok, pending_awards, pending_count,
                                           pending_redemptions, request_approval, screen_burst, screen_copy_paste)
from services.incentives.awards import (MeetingResult, after_award, award, evidence_of_customer, record_meeting,
                                        revoke_for_customer, revoke_lead)
from services.incentives.common import (SYSTEM_ACTIONS, Decision, action_label, button, customer_of_evidence,
                                        honor_label, managers_of, notify)
from services.incentives.honors import (award_quality_stars, check_milestones, due_missing, honor_score,
                                        monthly_honors, quality_snapshot, workdays_back)
from services.incentives.meetings import has_cross_department_meeting, is_cross_department, parse_attendees
from services.incentives.profile import (Profile, TeamCompliance, dimension_counts, dimension_scores, kpi_components,
                                         kpi_score, kpi_window, profile, profile_caption, profile_radar,
                                         team_compliance, weakest)
from services.incentives.shop import ShopView, decide_redemption, request_redemption, shop_view
from services.rep_stats import RepStats, day_bounds, period_bounds, rep_stats, rep_stats_many, team_users

__all__ = [
    "MeetingResult", "Profile", "RepStats", "SYSTEM_ACTIONS", "ShopView", "TeamCompliance", "Decision",
    "action_label", "after_award", "award", "award_quality_stars", "button", "check_milestones",
    "customer_of_evidence", "day_bounds", "decide_award", "decide_flag", "decide_redemption", "dimension_counts",
    "dimension_scores", "due_missing", "evidence_ok", "evidence_of_customer", "has_cross_department_meeting",
    "honor_label", "honor_score", "is_cross_department", "kpi_components", "kpi_score", "kpi_window",
    "local_date", "managers_of", "monthly_honors", "notify", "parse_attendees", "pending_awards", "pending_count",
    "pending_redemptions", "period_bounds", "profile", "profile_caption", "profile_radar", "quality_snapshot",
    "record_meeting", "rep_stats", "rep_stats_many", "request_approval", "request_redemption", "revoke_for_customer",
    "revoke_lead", "screen_burst", "screen_copy_paste", "shop_view", "team_compliance", "team_users", "weakest",
    "workdays_back",
]
