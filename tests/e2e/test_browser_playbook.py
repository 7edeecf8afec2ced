"""The playbook editor in a real headless Chromium, against the real bot on the local Bot API server:
a manager adds a checklist item → publishes to their team as a pilot → the pilot rep's next card shows
the item (and it can be ticked) while another team's rep's card does not → rollback removes it again."""
from __future__ import annotations

import pytest
from sqlmodel import select

from console.browser import app_url, find_chromium, launch_args
from core.callbacks import CardAction, OpenCard
from services import users as users_svc
from storage.models import Activity, PointsEntry
from tests.incentive_helpers import new_customer

CHROMIUM, WHY = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=WHY)
ITEM = "加客户企业微信"


async def card(h, tg: dict, customer_id: int) -> dict:
    replies = await h.press(tg, {"message_id": 1, "chat_id": tg["id"]}, data=OpenCard(customer_id).encode(), validate=False)
    cards = [m for m in replies if "☐" in (m.get("text") or "") or "SOP" in (m.get("text") or "")]
    assert cards, replies
    return cards[-1]


async def test_edit_publish_to_pilot_team_then_rollback(harness):
    from playwright.async_api import async_playwright

    h = harness
    admin, manager_a, (rep_a,) = await h.team(reps=1)
    # A second team with its own manager and rep, joined through invites like real users.
    now = h.clock.now()

    def second_team(session):
        team = users_svc.ensure_team(session, "杭州二组", h.config.team.timezone, now)
        boss = users_svc.get_user(session, admin["id"])
        return team.id, users_svc.create_invite(session, boss, now, 72, "manager", team_id=team.id).code
    team_b, code = await h.core.db.run(second_team)
    manager_b = await h.join(code, "赵经理")
    rep_b_code = await h.invite(manager_b)
    rep_b = await h.join(rep_b_code, "钱七")
    users = {k: await h.core.db.run(users_svc.get_user, v["id"]) for k, v in
             {"a": rep_a, "b": rep_b, "ma": manager_a}.items()}
    cust_a = new_customer(h.core, users["a"], 1)
    cust_b = new_customer(h.core, users["b"], 2)
    assert ITEM not in (await card(h, rep_a, cust_a.id))["text"]

    runner, base = await h.serve_web()
    data = h.console_login(manager_a["id"], "王经理")
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=launch_args())
            page = await (await browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(app_url(base, data))
            await page.wait_for_selector("body[data-state=ready]")
            await page.click("[data-testid=open-playbook]")
            await page.wait_for_selector("[data-testid=pb-form]")
            assert "null" not in await page.text_content("#app")
            await page.click("details[data-stage=lead] > summary")
            await page.fill("[data-testid=new-item-id-lead]", "wecom_added")
            await page.fill("[data-testid=new-item-text-lead]", ITEM)
            await page.click("[data-testid=add-item-lead]")
            # An invalid value is shown next to its field and blocks publishing.
            await page.fill("[data-path='stages.0.expected_days']", "0")
            await page.click("[data-testid=save-draft]")
            await page.wait_for_selector("[data-path='stages.0.expected_days'] + .field-error")
            assert await page.locator("[data-testid=publish]").count() == 0
            await page.fill("[data-path='stages.0.expected_days']", "2")
            await page.click("[data-testid=save-draft]")
            # Wait for this save's answer (the first, refused save may still be on the page).
            await page.wait_for_function(
                "() => (document.querySelector('[data-testid=pb-message]') || {}).textContent?.includes('草稿已保存')")
            await page.wait_for_selector("[data-testid=pb-diff]")
            assert "stages[lead].checklist[wecom_added]" in await page.text_content("[data-testid=pb-diff]")
            assert "草稿已保存" in await page.text_content("[data-testid=pb-message]")
            # A manager publishes to their own team only: the pilot.
            assert await page.eval_on_selector_all("[data-testid=scope] option", "os => os.map(o => o.value)") == \
                [f"team:{users['ma'].team_id}"]
            await page.click("[data-testid=publish]")
            await page.wait_for_function("() => document.querySelector('[data-testid=pb-message]').textContent.includes('v2')")
            assert "(试点)" in await page.text_content("[data-testid=running]")

            # The pilot rep's next card shows the new item, and it can be ticked; the other team's does not.
            shown = await card(h, rep_a, cust_a.id)
            assert ITEM in shown["text"]
            more = (await h.press(rep_a, shown, data=CardAction(cust_a.id, "more").encode()))[-1]  # later items sit behind 更多
            await h.press(rep_a, more, data=CardAction(cust_a.id, "done", "wecom_added").encode())
            assert ITEM in (h.tg.calls("answerCallbackQuery")[-1]["params"].get("text") or "")  # "✅ 加客户企业微信 …"
            assert ITEM not in (await card(h, rep_a, cust_a.id))["text"]  # done: no longer open
            # The activity and the points record the version and item they were made under.
            act, entry = await h.core.db.run(lambda ses: (
                ses.exec(select(Activity).where(Activity.customer_id == cust_a.id, Activity.kind == "checklist")).one(),
                ses.exec(select(PointsEntry).where(PointsEntry.action == "item:wecom_added")).one()))
            assert act.data == {"item": "wecom_added", "stage": "lead", "playbook_version": 2} and act.text == ITEM
            assert entry.note == "playbook v2" and entry.user_id == users["a"].id
            assert ITEM not in (await card(h, rep_b, cust_b.id))["text"]

            # Rollback to version 1 (published as v3): the item is gone for the pilot team too.
            cust_a2 = new_customer(h.core, users["a"], 3)
            assert ITEM in (await card(h, rep_a, cust_a2.id))["text"]
            await page.click("[data-testid=rollback-1]")
            await page.wait_for_function("() => document.querySelector('[data-testid=pb-message]').textContent.includes('v3')")
            assert ITEM not in (await card(h, rep_a, cust_a2.id))["text"]
            log = await page.text_content("[data-testid=pb-log]")
            assert "rollback v3" in log and "publish v2" in log and "王经理" in log
            assert not errors
            await browser.close()
    finally:
        await runner.cleanup()
