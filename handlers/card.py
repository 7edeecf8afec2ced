"""The customer card, drawn in place: the card view, the close probability and best hour, and what
coaching adds to it (the stall flag and competitor lines; the visit and SOP buttons behind 更多)."""
from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from core.texts import t
from handlers import coaching, views
from handlers.common import core_of, safe_answer, show, stale
from services import brief as brief_svc
from services import customers as cust_svc
from services import intel, playbook
from storage.models import User


async def render_card(update: Update, context: ContextTypes.DEFAULT_TYPE, user: User, customer_id: int,
                      notice: str = "", undo_id: int | None = None, more: bool = False, answer: bool = False,
                      view: brief_svc.CardView | None = None) -> None:
    """Show the card in place; ``answer``: the button press is not answered yet (a gone customer → popup).
    ``view``: the card's view already read (``card_view_of`` in the caller's transaction), else read here."""
    core = core_of(context)
    if view is None:
        view = await core.db.read(_card_for, user, customer_id, core)
    if view is None:
        if answer:
            await stale(update, t("not_yours", user.language))
        else:
            await show(update, t("not_yours", user.language))
        return
    if answer:
        await safe_answer(update.callback_query)
    config = playbook.config_cached(core, view.customer.team_id)  # the team's active playbook version
    text = views.card_text(view, config, user.language, rep_name=user.name, team_name=core.config.team.name,
                           now=core.clock.now())
    if notice:
        text = f"{notice}\n\n{text}"
    markup = views.card_keyboard(view, user.language, undo_id=undo_id, more=more)
    # Coaching (issue 16): the stall flag and competitor counter-scripts on the card; the visit plan and
    # SOP feedback buttons behind "更多" (the card keeps two rows).
    text += coaching.card_addendum(view.coaching, user.language)
    if more:
        markup = coaching.card_row(markup, customer_id, user.language)
    await show(update, text, markup)


def _card_for(session, user: User, customer_id: int, core) -> brief_svc.CardView | None:
    found = cust_svc.get_with_team_for(session, user, customer_id)  # one statement: the team comes along
    if found is None:
        return None
    customer, team = found
    return card_view_of(session, core, customer, team)


def card_view_of(session, core, customer, team) -> brief_svc.CardView:
    """The card's view of a customer (with its team) already read in this transaction: a write that
    ends on the card (a save) builds it before its commit instead of reading the customer again."""
    config = playbook.config_for(session, core, customer.team_id)  # the team's stages: the close prior's too
    now = core.clock.now()
    steps = cust_svc.stage_steps(session, customer)  # one read: the open items and the stall flag
    view = brief_svc.card_view(session, config, customer, now, done=steps[0], team=team)
    view.close = intel.close_probability(session, config, customer, now)
    if view.close is not None:
        view.probability, view.reasons = view.close.probability, view.close.reasons
    view.best_time = intel.best_time(session, config, customer, now)
    view.coaching = coaching.card_extra(session, core, customer, steps)  # same transaction: no second read
    return view
