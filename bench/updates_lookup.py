"""bench.updates' name-lookup figures (``find_by_name_*``, ``team_customers``).

``lookup_figures`` runs services.customers.find_by_name on follow-up lines for a rep and for their
manager (the whole team) and, in the same run, the lookup it replaced (the first 2,000 visible
customers loaded and scored in Python): rows read per lookup, the share of lookups that found the
customer meant, and the time ratio.  Moved out of bench/updates.py without a change; still
importable from there.
"""
from __future__ import annotations

import random
import time

from bench.updates_workload import NOW

def lookup_figures(core, team_id: int, reps: list[dict], rep_user_ids: dict[int, int], n: int = 60) -> dict[str, float]:
    """find_by_name on follow-up lines, for a rep (≈ 200 customers) and for their manager (the
    whole team), against the lookup it replaced in the same run: the first 2,000 visible customers
    loaded and scored in Python on every message."""
    from sqlalchemy import func as sa_func
    from sqlmodel import select

    from services import customers as cs
    from storage.models import Customer, User

    def before(session, user, text):  # the previous services.customers.find_by_name candidate step
        visible = cs.visible_query(user).where(Customer.status == "open").subquery()
        rows = session.execute(select(visible.c.id, visible.c.name, visible.c.company, visible.c.company_norm)
                               .limit(2000)).all()
        score = cs.name_scorer(text)
        return rows, {cid for cid, name, company, norm in rows if score(name, company, norm) >= 0.6}

    rng = random.Random(5)
    manager = User(id=-1, tg_id=-1, name="经理", role="manager", team_id=team_id, joined_at=NOW)
    picks = [(rep, rep["customers"][rng.randrange(len(rep["customers"]))]) for rep in rng.choices(reps, k=n)]
    out: dict[str, float] = {}
    with core.db.session(read_only=True) as session:
        out["team_customers"] = session.exec(select(sa_func.count()).select_from(Customer)
                                             .where(Customer.team_id == team_id)).one()
        for who in ("rep", "manager"):
            rows_before = rows_after = found_before = found_after = 0
            t_before = t_after = 0.0
            for rep, (cid, name) in picks:
                user = manager if who == "manager" else session.get(User, rep_user_ids[rep["id"]])
                text = f"{name} 已报价5万 下周二回访"
                t0 = time.perf_counter()
                rows, hits = before(session, user, text)
                t_before += time.perf_counter() - t0
                rows_before += len(rows)
                found_before += cid in hits
                t0 = time.perf_counter()
                found = cs.find_by_name(session, user, text)
                t_after += time.perf_counter() - t0
                rows_after += len(cs.name_candidates(session, user, text))
                found_after += cid in [c.id for c in found]
            out[f"find_by_name_rows_{who}"] = rows_after / n
            out[f"find_by_name_rows_{who}_before"] = rows_before / n
            out[f"find_by_name_found_{who}"] = found_after / n
            out[f"find_by_name_found_{who}_before"] = found_before / n
            out[f"find_by_name_ms_{who}"] = t_after * 1000 / n
            out[f"find_by_name_ratio_{who}_to_before"] = t_after / t_before
    return out
