"""`make demo`: a scripted sales morning, offline — the real bot against the embedded local
Telegram Bot API server, on the default playbook and a fresh SQLite file.

It prints the conversation as it happens and exits 0 when every step behaved as expected.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import textwrap
from datetime import datetime
from pathlib import Path

from cli.sandbox import Sandbox, _maybe_await, buttons

OUT = Path(__file__).resolve().parents[1] / "demo-out"


class Script:
    def __init__(self, sandbox: Sandbox, names: dict[int, str]) -> None:
        self.sb = sandbox
        self.names = names
        self.problems: list[str] = []

    def scene(self, title: str) -> None:
        print(f"\n━━━ {title} ━━━")

    def show(self, who: dict, said: str, replies: list[dict]) -> list[dict]:
        print(f"👤 {self.names.get(who['id'], who.get('first_name'))}: {said}")
        for message in replies:
            self.print_bot(message)
        return replies

    def print_bot(self, message: dict) -> None:
        body = message.get("text") or message.get("caption") or ""
        kind = message.get("kind", "text")
        prefix = "🤖 " + ("[图片] " if kind == "photo" else "[文件] " if kind == "document" else "")
        lines = body.splitlines() or [""]
        shown = lines[:14] + (["…"] if len(lines) > 14 else [])
        print(prefix + textwrap.indent("\n".join(shown), "   ")[3:])
        labels = [b.get("text", "") for b in buttons(message)]
        if labels:
            print("   " + " ".join(f"[{label}]" for label in labels[:8]))

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            self.problems.append(what)
            print(f"   ❌ expected: {what}")

    async def say(self, who: dict, text: str) -> list[dict]:
        return self.show(who, text, await self.sb.send(who, text))

    async def tap(self, who: dict, message: dict, label: str) -> list[dict]:
        return self.show(who, f"(点按 [{label}])", await self.sb.press(who, message, text=label))


async def play(out_dir: Path) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="salesbot-demo-"))
    sb = Sandbox(tmp, now=datetime(2026, 11, 26, 0, 0))  # Thursday 08:00 in Shanghai
    await sb.start()
    try:
        return await _story(sb, out_dir)
    finally:
        await sb.stop()
        shutil.rmtree(tmp, ignore_errors=True)


async def _story(sb: Sandbox, out_dir: Path) -> int:
    names: dict[int, str] = {}
    s = Script(sb, names)
    s.scene("1. 管理员邀请经理，经理邀请两名销售")
    admin = await sb.make_admin("Ada")
    names[admin["id"]] = "管理员 Ada"
    invite = await s.say(admin, "/invite manager")
    code = invite[-1]["text"].split("start=")[1].split()[0]
    manager = sb.user("王经理")
    names[manager["id"]] = "王经理"
    await s.say(manager, f"/start {code}")
    reps = []
    for name in ("李明", "陈静"):
        link = await s.say(manager, "/invite")
        rep = sb.user(name)
        names[rep["id"]] = name
        joined = await s.say(rep, "/start " + link[-1]["text"].split("start=")[1].split()[0])
        s.expect("欢迎" in joined[-1]["text"], f"{name} joins the team")
        reps.append(rep)
    li, chen = reps
    stranger = sb.user("陌生人")
    names[stranger["id"]] = "陌生人"
    refused = await s.say(stranger, "/customers")
    s.expect(len(refused) == 1 and "邀请" in refused[0]["text"], "a stranger gets one polite refusal")

    s.scene("2. 李明录入客户（/new 引导式对话）")
    await s.say(li, "/new")
    for value in ("张总", "华东精密机械集团有限公司", "138-0013-8000", "官网表单"):
        created = await s.say(li, value)
    s.expect("已创建" in created[-1]["text"], "customer created")
    await s.say(li, "/new")
    for value in ("刘老师", "智学教育科技有限公司", "13900139000", "转介绍"):
        await s.say(li, value)

    s.scene("3. 查重：陈静想录入同一集团的苏州分公司")
    owner = await s.say(chen, "查重 华东精密机械(苏州)分公司")  # plain text: commands are Latin-only (/dup)
    s.expect("李明" in owner[-1]["text"], "/查重 names the owner")
    await s.say(chen, "/new")
    for value in ("孙经理", "华东精密机械(苏州)分公司", "13700137000", "外呼名单"):
        dup = await s.say(chen, value)
    s.expect("已存在" in dup[-1]["text"] and "李明" in dup[-1]["text"], "duplicate by subsidiary caught")

    s.scene("4. 08:30 早间任务卡自动推送")
    before = {m["message_id"] for m in sb.chat_messages(li)}
    await sb.run_schedule(datetime(2026, 11, 26, 0, 31))
    brief = [m for m in sb.chat_messages(li) if m["message_id"] not in before]
    for message in brief:
        s.print_bot(message)
    s.expect(bool(brief) and "今日任务" in brief[-1]["text"], "the morning brief arrives at 08:30")
    card = await s.tap(li, brief[-1], "张总")
    card = await s.tap(li, card[-1], "核实联系人与电话")
    card = await s.tap(li, card[-1], "下一阶段")
    blocked = await s.tap(li, card[-1], "下一阶段")
    s.expect("缺少必填项" in blocked[-1]["text"], "a stage move with missing fields is blocked")
    for label, value in (("填写公司", None), ("填写联系人", "张伟"), ("填写行业", "机械制造")):
        if label == "填写公司":
            continue
        await s.tap(li, blocked[-1], label)
        await s.say(li, "无") if label == "填写联系人" else None
        await s.say(li, value)
    moved = await s.say(li, "/stage 张总")
    s.expect("需求挖掘" in moved[-1]["text"], "after filling in place the stage moves")

    s.scene("5. 一句话更新，确认后保存")
    preview = await s.say(li, "张总 已报价5万 下周二回访")
    if preview and buttons(preview[-1]):
        await s.tap(li, preview[-1], "保存")

    s.scene("6. 粘贴聊天记录：意向、异议与建议话术")
    chat = ("张总 2026-11-25 10:02\n你们这个系统报价多少？能不能先试用一下？\n"
            "李明 2026-11-25 10:05\n可以的张总，我们有两周免费试用。\n"
            "张总 2026-11-25 10:09\n价格有点贵，我们已经在用金蝶了，我得跟老板汇报一下。\n"
            "张总 2026-11-25 10:11\n如果合同能分期付款，下个月可以签。")
    analysis = await s.say(li, chat)
    if analysis and "意向" not in (analysis[-1].get("text") or "") and buttons(analysis[-1]):
        analysis = await s.tap(li, analysis[-1], "张总")   # "who is the customer?"
    s.expect(any("意向" in (m.get("text") or "") for m in analysis), "the paste is analysed")
    if analysis and buttons(analysis[-1]):                  # the card's 准 / 不准 (the team teaches it)
        await s.tap(li, analysis[-1], "准")

    await _incentives_scenes(s, sb, admin, manager, li, chen, out_dir)
    await _console_scene(s, sb, out_dir)
    await _screens_scene(s, sb, admin, manager, li, out_dir)
    rejected = sb.tg.rejected()
    s.expect(not rejected, f"no request rejected by the Bot API server ({len(rejected)})")
    print("\n━━━ 结果 ━━━")
    if s.problems:
        print("Demo finished with problems:\n- " + "\n- ".join(s.problems))
        return 1
    print("Demo finished: every step behaved as expected.")
    return 0


async def _incentives_scenes(s: Script, sb: Sandbox, admin, manager, li, chen, out_dir: Path) -> None:
    s.scene("7. 经理在群里绑定排行榜，18:00 自动发布")
    group = sb.tg.add_group("销售一部作战群", member_ids=[manager["id"], li["id"], chen["id"]])
    await _maybe_await(sb.tg.add_bot_to_group(group["id"], manager["id"]))
    bound = s.show(manager, "/bind（群内）", await sb.send(manager, "/bind", chat_id=group["id"]))
    s.expect(bool(bound), "the group is bound")
    await sb.run_schedule(datetime(2026, 11, 26, 10, 1))
    posts = sb.chat_messages(group["id"])
    for post in posts[1:]:
        s.print_bot(post)
    s.expect(any(p.get("kind") == "photo" for p in posts), "the leaderboard image is posted to the group")
    s.scene("8. 次日 08:15 经理日报（含漏斗图）")
    before = {m["message_id"] for m in sb.chat_messages(manager)}
    await sb.run_schedule(datetime(2026, 11, 27, 0, 16))
    digest = [m for m in sb.chat_messages(manager) if m["message_id"] not in before]
    for message in digest:
        s.print_bot(message)
    s.expect(any(m.get("kind") == "photo" for m in digest), "the digest carries a funnel chart")
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = 0
    for chat in (group["id"], manager["id"]):
        for message in sb.chat_messages(chat):
            if message.get("kind") == "photo":
                data = sb.tg.file_bytes(message)
                name = "leaderboard" if chat == group["id"] else "digest"
                (out_dir / f"{name}-{message['message_id']}.png").write_bytes(data)
                saved += 1
    print(f"\n图表已保存到 {out_dir}（{saved} 个 PNG）")


async def _console_scene(s: Script, sb: Sandbox, out_dir: Path) -> None:
    """Two more teams with three weeks of history, and the console (Mini App) on the bot's server."""
    from console.browser import app_url, find_chromium, launch_args
    from console.seed import seed
    s.scene("9. 看板（Mini App）：两个团队、三周的数据")
    seeded = await sb.core.db.run(seed, sb.config, sb.clock.now(), teams=2, reps_per_team=4, customers_per_rep=12,
                                  days=21, team_names=["华东一组", "华南二组"], admin_tg=None, tg_base=9_000_000_000)
    for team in seeded.teams:
        print(f"   {team.name}：经理 + {len(team.reps)} 名销售，{sum(1 for c in seeded.customers if c[0] == team.id)} 个客户")
    runner, base = await sb.serve_web()
    manager_tg = seeded.teams[0].manager_tg
    url = app_url(base, sb.console_login(manager_tg, "经理"))
    try:
        path, why = find_chromium()
        if path is None:
            print(f"   （未截图：{why}）")
            return
        from playwright.async_api import async_playwright
        out_dir.mkdir(parents=True, exist_ok=True)
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=path, args=launch_args())
            page = await (await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                                     device_scale_factor=2)).new_page()
            await page.goto(url)
            await page.wait_for_selector("body[data-state=ready]")
            await page.screenshot(path=str(out_dir / "console-dashboard.png"), full_page=True)
            bottleneck = await page.text_content("[data-testid=bottleneck]")
            print(f"   {bottleneck}")
            await page.click("[data-testid=board] tbody tr")
            await page.wait_for_selector("[data-testid=rep-name]")
            await page.screenshot(path=str(out_dir / "console-rep.png"), full_page=True)
            print(f"   {await page.text_content('[data-testid=weakest]')}")
            await page.click("[data-testid=back]")
            await page.wait_for_selector("[data-testid=open-playbook]")
            await page.click("[data-testid=open-playbook]")
            await page.wait_for_selector("[data-testid=pb-form]")
            await page.screenshot(path=str(out_dir / "console-playbook.png"), full_page=False)
            await browser.close()
        s.expect((out_dir / "console-dashboard.png").stat().st_size > 10_000, "the dashboard screenshot is saved")
        print(f"   看板截图已保存到 {out_dir}（console-dashboard.png, console-rep.png, console-playbook.png）")
    finally:
        await runner.cleanup()
    print("   本地打开看板：`salesbot run` 的服务器在 http://127.0.0.1:8080/app/ 提供页面；在 Telegram 中由菜单按钮打开"
          "（需 [console] public_url 为 HTTPS 地址）。浏览器调试可用 `salesbot console-link <Telegram ID>` 生成签名链接。")
async def _screens_scene(s: Script, sb: Sandbox, admin, manager, li, out_dir: Path) -> None:
    """The screenshot set: brief, card, digest, board and radar in Chinese and English (cli/screens.py)."""
    from cli.screens import SCREENS, capture
    s.scene("10. 截图集：中文与英文的主要界面")
    alice = await sb.join(await sb.invite(manager), "Alice", language_code="en")
    bob = await sb.join(await sb.invite(admin, "manager"), "Bob", language_code="en")
    s.names.update({alice["id"]: "Alice (en)", bob["id"]: "Bob (en)"})
    await s.say(alice, "/new")
    for value in ("Mr Wang", "Globex Trading Company Ltd", "+86 136 0013 6000", "website form"):
        created = await s.say(alice, value)
    s.expect("created" in created[-1]["text"], "an English rep adds a customer")
    preview = await s.say(alice, "Mr Wang revisit tomorrow")
    if preview and buttons(preview[-1]):
        await s.tap(alice, preview[-1], "Confirm")
    written = await capture(sb, out_dir, {"zh": (li, manager), "en": (alice, bob)})
    names = {p.name for p in written}
    for lang in ("zh", "en"):
        missing = [x for x in SCREENS if f"{lang}-{x}.txt" not in names]
        s.expect(not missing, f"every {lang} screen captured (missing: {missing})")
    s.expect({"zh-radar.png", "en-radar.png", "zh-digest.png", "en-board.png"} <= names, "the charts are saved")
    print(f"截图集已保存到 {out_dir}：{len(written)} 个文件（index.html 并排显示中英文）")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="salesbot offline demo")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "apscheduler", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The demo jumps the clock across days: slots it jumps over are skipped by design, not news.
    logging.getLogger("scheduler.jobs").setLevel(logging.ERROR)
    return asyncio.run(play(args.out))


def register(sub) -> None:
    demo = sub.add_parser("demo", help="play the offline demo against the embedded Bot API server")
    demo.add_argument("--out", type=Path, default=OUT)
    demo.set_defaults(fn=lambda a: asyncio.run(play(a.out)))


if __name__ == "__main__":
    sys.exit(main())
