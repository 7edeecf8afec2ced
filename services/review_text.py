"""The weekly 复盘 as one chat message (≤ 4096 characters; every user string escaped)."""
from __future__ import annotations

from core.clock import to_local
from core.config import Config
from core.texts import Raw, esc, format_local_date, t, tp
from services.digest import join_lines
from services.review import UNSPECIFIED, Review

MAX_STEPS = 8
MAX_FLAGS = 5
MAX_STALLS = 5


def _stage(config: Config, stage_id: str, lang: str) -> str:
    s = config.stage(stage_id)
    return ((s.name_en or s.name) if lang == "en" else s.name) if s else stage_id


def _item(config: Config, stage_id: str, item_id: str, lang: str) -> str:
    s = config.stage(stage_id)
    item = next((i for i in s.checklist if i.id == item_id), None) if s else None
    return ((item.text_en or item.text) if lang == "en" else item.text) if item else item_id


def _reason(config: Config, reason_id: str, lang: str) -> str:
    if reason_id == UNSPECIFIED:
        return tp("review_reason_unspecified", lang)
    r = config.lost_reason(reason_id)
    return ((r.label_en or r.label) if lang == "en" else r.label) if r else reason_id


def render(config: Config, r: Review, lang: str) -> str:
    fmt = lambda when: format_local_date(to_local(when, config.tz), lang, with_time=False)  # noqa: E731
    out = [t("review_title", lang, start=fmt(r.start), end=fmt(r.end))]
    # 1. Steps vs advancing deals.
    out.append(t("review_steps_header", lang))
    steps = sorted(r.steps, key=lambda s: (-(s.adv_n + s.other_n), config.stage_index(s.stage)))[:MAX_STEPS]
    if not steps:
        out.append(t("review_none", lang))
    for s in steps:
        caution = t("review_small", lang, n=r.min_sample) if s.small(r.min_sample) else ""
        out.append(t("review_step_line", lang, stage=_stage(config, s.stage, lang), item=_item(config, s.stage, s.item, lang),
                     adv_done=s.adv_done, adv_n=s.adv_n, other_done=s.other_done, other_n=s.other_n, caution=Raw(caution)))
    # 2. Front-line feedback.
    out.append(t("review_flags_header", lang))
    if not r.flags:
        out.append(t("review_none", lang))
    for f in r.flags[:MAX_FLAGS]:
        kinds = " · ".join(f"{tp('sop_kind_' + k, lang)} {n}" for k, n in f.kinds.most_common())
        notes = "".join(t("review_flag_note", lang, note=n) for n in f.notes)
        out.append(t("review_flag_line", lang, item=_item(config, f.stage, f.item, lang), stage=_stage(config, f.stage, lang),
                     n=f.total, kinds=kinds, notes=Raw(notes)))
    # 3. Lost reasons by stage and by competitor.
    out.append(t("review_lost_header", lang, n=r.lost_total))
    if not r.lost_by_stage:
        out.append(t("review_none", lang))
    for (stage_id, reason), n in sorted(r.lost_by_stage.items(), key=lambda kv: (-kv[1], config.stage_index(kv[0][0])))[:6]:
        out.append(t("review_lost_line", lang, stage=_stage(config, stage_id, lang), reason=_reason(config, reason, lang), n=n))
    for (comp_id, reason), n in sorted(r.lost_by_competitor.items(), key=lambda kv: -kv[1])[:4]:
        comp = config.competitor(comp_id)
        out.append(t("review_lost_comp_line", lang, competitor=comp.name if comp else comp_id,
                     reason=_reason(config, reason, lang), n=n))
    # 4. Stalled deals.
    out.append(t("review_stalls_header", lang, n=len(r.stalls)))
    for s in r.stalls[:MAX_STALLS]:
        out.append(t("review_stall_line", lang, name=s.customer.name, stage=_stage(config, s.customer.stage, lang),
                     days=s.idle_days, limit=s.limit))
    if len(r.stalls) > MAX_STALLS:
        out.append(t("review_more", lang, n=len(r.stalls) - MAX_STALLS))
    # 5. Pilots (a module some teams have and others not).
    out.extend(pilot_lines(config, r.pilots, lang))
    # 6. Suggestions, each naming the config.toml key.
    out.append(t("review_suggest_header", lang))
    if not r.suggestions:
        out.append(t("review_suggest_none", lang))
    for sg in r.suggestions:
        values = dict(sg.values)
        if "item" in values:
            values["item"] = _item(config, _stage_of_item(config, values["item"]), values["item"], lang)
        if "stage" in values:
            values["stage"] = _stage(config, values["stage"], lang)
        if "reason" in values:
            values["reason"] = _reason(config, values["reason"], lang)
        if "competitor" in values:
            comp = config.competitor(values["competitor"])
            values["competitor"] = comp.name if comp else values["competitor"]
        out.append(t(f"review_suggest_{sg.kind}", lang, **values) + f"\n   <code>{esc(sg.key)}</code>")
    return join_lines(out)


def _stage_of_item(config: Config, item_id: str) -> str:
    return next((s.id for s in config.stages for i in s.checklist if i.id == item_id), "")


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def pilot_lines(config: Config, pilots: list, lang: str) -> list[str]:
    """The pilot section: per stage, median days and conversion, pilot vs the others, with n."""
    from services.pilot import WINDOW_DAYS
    out = []
    for p in pilots:
        out.append(t("review_pilot_header", lang, module=p.module, state=tp("pilot_on" if p.pilot_on else "pilot_off", lang),
                     pilot="、".join(p.pilot_teams),
                     others="、".join(p.other_teams), days=WINDOW_DAYS))
        for s in p.stages:
            a, b = s.pilot, s.others
            if s.early(p.min_sample):
                out.append(t("review_pilot_early", lang, stage=_stage(config, s.stage, lang), na=a.decided, nb=b.decided,
                             min=p.min_sample))
                continue
            d, c = s.days_effect, s.conversion_effect
            out.append(t("review_pilot_line", lang, stage=_stage(config, s.stage, lang),
                         a=_days(a.median_days), b=_days(b.median_days), d="—" if d is None else f"{d:+.1f}",
                         na=len(a.days), nb=len(b.days), ca=_pct(a.conversion), cb=_pct(b.conversion),
                         dc="—" if c is None else f"{100 * c:+.0f}", da=a.decided, db=b.decided))
        out.append(t("review_pilot_note", lang))
    return out
