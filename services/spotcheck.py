"""Manager spot-checks: 3-5 customer records a day, drawn at random but weighted toward risk.

Risk: a recent change, a stale follow-up, a big deal, a new rep.  The manager answers with one tap
(👍 looks right / ⚠️ + a preset reason).  A flag notifies the owner, counts against the owner's
compliance (services.incentives.RepStats.flags) and, per reason, claws back the points the
record earned or marks the lead invalid.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.callbacks import SpotCheckVote
from core.config import Config
from core.texts import t, tp
from core.when import day_text
from services import incentives as inc
from storage.models import Activity, Customer, SpotCheck, User
from storage.rows import transition

RISK_WEIGHT = 2.0


@dataclass
class Candidate:
    customer: Customer
    risks: list[str] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return 1.0 + RISK_WEIGHT * len(self.risks)


def risks_of(config: Config, c: Customer, owner: User | None, now: datetime) -> list[str]:
    sc = config.spotcheck
    risks = []
    if c.updated_at and now - c.updated_at <= timedelta(days=sc.recent_days):
        risks.append("recent")
    last = c.last_followup_at or c.created_at
    if c.status == "open" and (now - last > timedelta(days=sc.stale_days)
                               or (c.next_followup_at is not None and c.next_followup_at < now)):
        risks.append("stale")
    if (c.amount or 0) >= sc.big_deal_amount > 0:
        risks.append("big")
    if owner is not None and now - owner.joined_at <= timedelta(days=sc.new_rep_days):
        risks.append("new_rep")
    return risks


def candidates(session: Session, config: Config, team_id: int, now: datetime) -> list[Candidate]:
    recent = set(session.exec(select(SpotCheck.customer_id).where(
        SpotCheck.drawn_at >= now - timedelta(days=config.spotcheck.recheck_after_days))))
    owners = {u.id: u for u in session.exec(select(User).where(User.team_id == team_id))}
    rows = session.exec(select(Customer).where(
        Customer.team_id == team_id, Customer.owner_id.is_not(None), Customer.invalid == False,  # noqa: E712
        Customer.status.in_(("open", "won"))))
    return [Candidate(c, risks_of(config, c, owners.get(c.owner_id), now)) for c in rows if c.id not in recent]


def weighted_sample(items: list[Candidate], k: int, rng: random.Random) -> list[Candidate]:
    """Without replacement, probability proportional to weight (Efraimidis-Spirakis keys)."""
    keyed = sorted(items, key=lambda c: rng.random() ** (1.0 / c.weight), reverse=True)
    return keyed[:k]


def draw(session: Session, config: Config, team_id: int, manager: User, now: datetime,
         rng: random.Random | None = None) -> list[tuple[SpotCheck, Candidate]]:
    rng = rng or random.Random()
    pool = candidates(session, config, team_id, now)
    k = min(len(pool), rng.randint(config.spotcheck.min_records, config.spotcheck.max_records))
    drawn = []
    for cand in weighted_sample(pool, k, rng):
        check = SpotCheck(customer_id=cand.customer.id, manager_id=manager.id, owner_id=cand.customer.owner_id, drawn_at=now)
        session.add(check)
        drawn.append((check, cand))
    session.flush()
    return drawn


def mask_phone(phone: str | None) -> str:
    if not phone:
        return "—"
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 8 else "****"


def card_text(session: Session, config: Config, check: SpotCheck, customer: Customer, risks: list[str], lang: str,
              index: int, total: int, now: datetime) -> str:
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    stage = config.stage(customer.stage)
    stage_label = ((stage.name_en or stage.name) if lang == "en" else stage.name) if stage else customer.stage
    last = session.exec(select(Activity).where(Activity.customer_id == customer.id, Activity.kind.in_(("followup", "note", "paste", "meeting")))
                        .order_by(Activity.at.desc(), Activity.id.desc()).limit(2)).all()
    notes = "\n".join(t("spot_note", lang, when=day_text(inc.local_date(config, a.at), lang, inc.local_date(config, now)),
                                     text=(a.text or a.kind)[:80])
                      for a in last) or t("spot_no_notes", lang)
    missing = inc.due_missing(config, customer, now)
    return t("spot_card", lang, index=index, total=total, name=customer.name, company=customer.company or "—",
             owner=owner.name if owner else "—", stage=stage_label, days=max(0, (now - customer.stage_entered_at).days),
             completeness=customer.completeness, phone=mask_phone(customer.phone), notes=notes,
             missing="、".join(config.field_label(f, lang) for f in missing) or "—",
             risks="、".join(tp(f"risk_{r}", lang) for r in risks) or tp("risk_random", lang))


def card_buttons(check_id: int, lang: str) -> list[list[dict]]:
    return [[inc.button(tp("btn_spot_ok", lang), SpotCheckVote(check_id, "ok").encode()),
             inc.button(tp("btn_spot_flag", lang), SpotCheckVote(check_id, "flag").encode())]]


def reason_buttons(config: Config, check_id: int, lang: str) -> list[list[dict]]:
    rows = [[inc.button((r.label_en or r.label) if lang == "en" else r.label, SpotCheckVote(check_id, f"r{i}").encode())]
            for i, r in enumerate(config.spotcheck.reasons)]
    rows.append([inc.button(tp("btn_back", lang), SpotCheckVote(check_id, "back").encode())])
    return rows


def _decide(session: Session, check: SpotCheck, result: str, reason: str, now: datetime) -> bool:
    """Record the verdict once, even if the manager taps twice at the same moment."""
    return transition(session, check, "result", "pending", result=result, reason=reason, decided_at=now)


@dataclass
class Vote:
    status: str  # ok | flagged | menu | card | already | forbidden | missing
    check: SpotCheck | None = None
    customer: Customer | None = None
    reason: str = ""
    revoked: int = 0


def vote(session: Session, config: Config, manager: User, check_id: int, verdict: str, now: datetime) -> Vote:
    check = session.get(SpotCheck, check_id)
    if check is None:
        return Vote("missing")
    customer = session.get(Customer, check.customer_id)
    if check.manager_id != manager.id and not (manager.role == "admin" and customer is not None):
        return Vote("forbidden")
    if check.result != "pending":
        return Vote("already", check, customer, check.reason)
    if verdict in ("flag", "back"):
        return Vote("menu" if verdict == "flag" else "card", check, customer)
    if verdict == "ok":
        if not _decide(session, check, "ok", "", now):
            return Vote("already", check, customer, check.reason)
        return Vote("ok", check, customer)
    if not (verdict.startswith("r") and verdict[1:].isdigit() and int(verdict[1:]) < len(config.spotcheck.reasons)):
        return Vote("missing")
    reason = config.spotcheck.reasons[int(verdict[1:])]
    if not _decide(session, check, "flagged", reason.id, now):
        return Vote("already", check, customer, check.reason)
    revoked = 0
    owner = session.get(User, check.owner_id) if check.owner_id else None
    if customer is not None:
        if reason.invalidate:
            revoked = -sum(r.points for r in inc.revoke_lead(session, config, customer, now, reason.label, actor=manager,
                                                               notify_owner=False))
        elif reason.revoke_points:
            revoked = -sum(r.points for r in inc.revoke_for_customer(session, customer, now, f"spot-check {check.id}: {reason.id}"))
    if owner is not None and customer is not None:
        lang = owner.language
        inc.notify(session, owner, t("spot_flag_owner", lang, name=customer.name,
                                     reason=(reason.label_en or reason.label) if lang == "en" else reason.label,
                                     manager=manager.name, points=revoked), f"spotflag:{check.id}", now)
    return Vote("flagged", check, customer, reason.id, revoked)
