"""End-to-end update handling: salesbot against bare PTB bots on the same transport, same local server, same run.

``python -m bench.updates [--reps 100] [--customers-per-rep 200] [--updates 1500] [--quick]``

``python -m tgfake`` runs in its own process with two bot tokens; each bot runs in this process
(one after the other, so they never share the CPU) with long polling, like production.  Each rep
owns ``--customers-per-rep`` customers (≈ 200, realistic names and companies: the name lookup on
every free-text line and paste works on a real list).  The workload per rep: 40% button presses
(open one of the rep's customers' cards from /today: an answer and an edit), 25% follow-up lines
("王伟 已报价5万 下周二回访": the name lookup, a parsed preview with buttons), 15% saves (✅ 确认保存 on
such a preview, sent untimed beforehand: amount, follow-up, task and points written, then the card)
and 20% pasted conversations (analysed in a worker thread).

Throughput: the updates are queued at the server before the bot starts polling; the clock runs
from the start of polling until every update was handled (its last handler group ran).  Latency:
then updates are offered at half the measured throughput, and the time from the moment one is
queued at the server to the end of its handling is taken (``updates_p99_ms``).  The server's clock
runs ``time_scale`` times faster so Telegram's flood limits (1 msg/s per chat, 30/s overall) do not
cap either bot; the salesbot limiter scales the same way.

Baselines, all bare PTB on salesbot's own transport (bot/transport.py, aiohttp), same updates:

- ``mirror_*``: a bot that makes salesbot's Telegram calls and does nothing else (a press or a save
  is answered *and* its message edited into a card with a keyboard; a message gets a reply with
  buttons).  ``updates_ratio_to_mirror`` is what salesbot's own work costs: database, rendering,
  parsing, NLP.
- ``echo_*``: the least a bot can do (a press is answered, a message echoed).
- ``*_rtt50ms``: salesbot and the echo bots again with a 50 ms network round trip added by the
  server to every API call (``--compare-rtt-ms``; Telegram is 50–300 ms away).  salesbot handles
  different people's updates side by side (bot/concurrency.py); ``concurrent_echo_*`` is the echo
  bot with PTB's ``concurrent_updates(64)``, the fair baseline for that design
  (``updates_ratio_to_concurrent_echo_rtt50ms``).

``find_by_name_*``: the name lookup every follow-up line and paste runs, for a rep and for a manager
who sees the whole team (``team_customers``), against the previous lookup in the same run (the
first 2,000 visible customers loaded and scored in Python): rows loaded per lookup, share of
lookups that found the customer meant, time ratio.

``updates_per_claim_transaction``: updates whose ids were claimed per database transaction (bot/dedupe.py
groups them), over the whole run; ``updates_gc_pause_ms_*``: the collector's pauses while salesbot was
measured (bot/app.py freezes the start-up heap); ``updates_p95_ms_<kind>``: the latency phase by kind of
update (press, log, save, paste).

``updates_saves_pressed`` / ``updates_saves_applied``: confirmations in the two workloads and the
follow-ups they stored (a save whose draft was gone would only answer "expired").  bench.floor
compares the transports themselves.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bench.common import (ECHO_TOKEN, TOKEN, ServerProcess, drop_pg_schema, pg_schema, run_and_report, seed_customers,
                          seed_reps)
# The workload and its timing instruments (bench/updates_workload.py) and the name-lookup figures
# (bench/updates_lookup.py); their names are still importable from here.
from bench.updates_lookup import lookup_figures
from bench.updates_workload import (DB_PROFILER, MIX, NOW, PASTE, GcPauses, Tracker, _customer,  # noqa: F401
                                    _profile_db, cpu_workload, push, wait_done, workload)


async def measure(server: ServerProcess, token: str, app, tracker: Tracker, reps: list[dict], n: int,
                  latency_n: int) -> tuple[float, float]:
    """(updates per second from a queued backlog, p99 latency in ms at half that rate)."""
    with GcPauses() as gc_pauses:
        result = await _measure(server, token, app, tracker, reps, n, latency_n)
    tracker.gc_ms = sum(gc_pauses.pauses)
    tracker.gc_max_ms = max(gc_pauses.pauses, default=0.0)
    return result


async def _measure(server: ServerProcess, token: str, app, tracker: Tracker, reps: list[dict], n: int,
                   latency_n: int) -> tuple[float, float]:
    ids = [await push(server, token, kind, rep, pick) for kind, rep, pick in workload(reps, n)]
    started, cpu = time.monotonic(), time.process_time()
    await app.updater.start_polling(poll_interval=0.0, timeout=10)
    finished = await wait_done(tracker, ids)
    tracker.cpu_ms = (time.process_time() - cpu) * 1000 / n
    throughput = n / (finished - started)
    # Latency at half the throughput, offered at an even pace.
    gap = 2.0 / throughput
    pushed: dict[int, float] = {}
    kinds: dict[int, str] = {}
    next_at = time.monotonic()
    for kind, rep, pick in workload(reps, latency_n, seed=11):
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        at = time.monotonic()
        update_id = await push(server, token, kind, rep, pick)
        pushed[update_id], kinds[update_id] = at, kind
        next_at += gap
    await wait_done(tracker, list(pushed))
    if CPU_PER_KIND:
        tracker.cpu_by_kind = await cpu_by_kind(server, token, tracker, reps)
    await app.updater.stop()
    latencies = sorted((tracker.done[i] - t) * 1000 for i, t in pushed.items())
    # Where the tail is: the p95 of each kind of update (the slowest kind sets the overall p99).
    tracker.p95_by_kind = {}
    for kind in MIX:
        mine = sorted((tracker.done[i] - t) * 1000 for i, t in pushed.items() if kinds[i] == kind)
        if mine:
            tracker.p95_by_kind[kind] = mine[min(len(mine) - 1, int(0.95 * len(mine)))]
    return throughput, latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]


CPU_PER_KIND = 30  # updates of each kind in the CPU phase (--cpu-per-kind)
PROFILE: str | None = None  # --profile PATH: cProfile of salesbot's CPU phase, one file per kind


async def cpu_by_kind(server: ServerProcess, token: str, tracker: Tracker, reps: list[dict]) -> dict[str, float]:
    """CPU time of this process per update, by kind, with one update in flight at a time: far less
    sensitive to the machine's load than throughput (the bot's process is alone in this process; the
    server runs in its own).  Each update is timed from before it is queued at the server (the bench's
    control call, the same for every bot) to its handling's end plus 5 ms idle (trailing work: the next
    getUpdates).  The paste analysis's worker thread is counted (process time covers every thread)."""
    profiler = db_profiler = None
    if PROFILE and token != ECHO_TOKEN:
        import cProfile
    out: dict[str, float] = {}
    runs: dict[str, list[float]] = {}
    saving = [rep for rep in reps if rep.get("cpu_saves")]
    for kind, rep, pick in cpu_workload(reps, CPU_PER_KIND):
        if kind == "save" and saving:  # salesbot: a real ✅ 确认保存 (set aside for this phase)
            rep = saving[0]
            rep = {**rep, "saves": rep["cpu_saves"]}
            if len(saving[0]["cpu_saves"]) == 1:
                saving.pop(0)
        if profiler is None and PROFILE and token != ECHO_TOKEN:  # CPU time: the main thread, and the DB threads
            profiler = cProfile.Profile(time.thread_time)
            db_profiler = DB_PROFILER[0] = cProfile.Profile(time.thread_time)
        cpu = time.process_time()
        if profiler is not None:
            profiler.enable()
        update_id = await push(server, token, kind, rep, pick)
        await tracker.wait([update_id], 60)
        await asyncio.sleep(0.005)
        if profiler is not None:
            profiler.disable()
        runs.setdefault(kind, []).append((time.process_time() - cpu) * 1000)
        if profiler is not None and len(runs[kind]) == CPU_PER_KIND:
            profiler.dump_stats(f"{PROFILE}.{kind}")
            db_profiler.dump_stats(f"{PROFILE}.{kind}.db")
            profiler = db_profiler = DB_PROFILER[0] = None
    for kind, times in runs.items():
        out[kind] = sum(times) / len(times)
    weights = {kind: MIX[kind] for kind in out}
    out["mix"] = sum(out[k] * w for k, w in weights.items()) / sum(weights.values())
    return out


cpu_figures: dict[str, dict[str, float]] = {}  # CPU per update by kind of the last run of each bot

CARD_TEXT = "<b>客户</b> · 公司\n阶段：线索 · 已 3 天\n" + "☐ 核实联系人与电话\n" * 4 + "💬 推荐话术：您好，我是……" * 6


def _keyboard(rows: int):
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"✅ 第{i}项", callback_data=f"m:{i}:done"),
                                  InlineKeyboardButton(f"📝 {i}", callback_data=f"m:{i}:log")] for i in range(rows)])


async def run_echo(server: ServerProcess, reps: list[dict], n: int, latency_n: int, mirror: bool = False,
                   request_factory=None, claim_db=None, concurrent: int = 0,
                   claim_grouped: bool = True) -> tuple[float, float, float]:
    """The bare PTB echo bot — or, with ``mirror``, a bare bot that makes salesbot's Telegram calls
    with none of its work: a press is answered and its message edited into a card-sized text with a
    nine-button keyboard, a message gets a reply with buttons.  The gap between the two is what the
    extra Bot API calls cost; the gap between the mirror and salesbot is salesbot's own work.

    bench.floor also passes ``request_factory`` (the HTTP transport) and ``claim_db`` (a Database:
    each update id is claimed first, exactly as bot/dedupe.py does — grouped per transaction, or one
    transaction per update with ``claim_grouped=False`` — and nothing else).
    ``concurrent``: PTB's ``concurrent_updates(N)`` instead of one update at a time."""
    from telegram import Update
    from telegram.constants import ParseMode
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, MessageHandler, TypeHandler, filters

    card, buttons = _keyboard(5), _keyboard(2)

    grouped = None
    if claim_db is not None and claim_grouped:
        from types import SimpleNamespace

        from bot.dedupe import UpdateClaims
        grouped = UpdateClaims(SimpleNamespace(db=claim_db, clock=SimpleNamespace(now=lambda: NOW)))

    async def claim(update: Update, _context) -> None:
        from bot.dedupe import remember
        if grouped is not None:  # as salesbot claims (bot/dedupe.py): updates starting together, one transaction
            await grouped.claim(update.update_id, None)
        else:
            await claim_db.run(remember, update.update_id, NOW)

    async def echo(update: Update, _context) -> None:
        text = update.effective_message.text[:4096]
        if mirror:
            await update.effective_message.reply_text(text[:300], reply_markup=buttons)
        else:
            await update.effective_message.reply_text(text)

    async def answer(update: Update, _context) -> None:
        await update.callback_query.answer()
        if mirror:
            await update.callback_query.edit_message_text(f"{CARD_TEXT}{update.update_id}", parse_mode=ParseMode.HTML,
                                                          reply_markup=card)

    builder = ApplicationBuilder().token(ECHO_TOKEN).base_url(server.base_url).base_file_url(server.base_file_url)
    if request_factory is not None:
        builder = builder.request(request_factory(256)).get_updates_request(request_factory(1))
    if concurrent:
        builder = builder.concurrent_updates(concurrent)
    app = builder.build()
    if claim_db is not None:
        app.add_handler(TypeHandler(Update, claim), group=-1)
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(answer))
    tracker = Tracker()
    tracker.install(app)
    echo_reps = []
    for rep in reps:  # each rep talked to the echo bot once: a message to press on
        update = await server.control("send_text", user_id=rep["id"], text="hi", token=ECHO_TOKEN)
        message_id = update["message"]["message_id"]
        if mirror:  # the mirror edits what it pressed on, so that must be the bot's own message
            sent = await server.api("sendMessage", token=ECHO_TOKEN, chat_id=rep["id"], text="hi",
                                    reply_markup=card.to_dict())
            message_id = sent["result"]["message_id"]
        echo_reps.append({**rep, "message_id": message_id, "saves": []})
    last = await server.api("getUpdates", token=ECHO_TOKEN, offset=-1, timeout=0)
    await server.api("getUpdates", token=ECHO_TOKEN, offset=last["result"][-1]["update_id"] + 1, timeout=0)
    async with app:
        await app.start()
        result = await measure(server, ECHO_TOKEN, app, tracker, echo_reps, n, latency_n)
        await app.stop()
    cpu_figures[f"{'mirror' if mirror else 'echo'}{'_concurrent' if concurrent else ''}"] = tracker.cpu_by_kind
    return (*result, tracker.cpu_ms)


async def run_salesbot(server: ServerProcess, args: argparse.Namespace, reps_n: int, n: int,
                       latency_n: int) -> tuple[float, float]:
    from bot.app import build_application, shutdown, startup
    from core.callbacks import OpenCard
    from core.clock import Clock
    from core.config import Settings, load_config
    from services.core import Core
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Activity, User
    from sqlalchemy import func
    from sqlmodel import select

    tmp = Path(tempfile.mkdtemp(prefix="bench-updates-"))
    db_url = args.db or f"sqlite:///{tmp / 'updates.db'}"
    config = load_config()
    upgrade(db_url)
    clock = Clock()
    clock.set(NOW)
    core = Core(db=Database(db_url), config=config, clock=clock)
    if PROFILE:
        _profile_db(core.db)
    ids = []
    for i in range(reps_n):
        user = await server.control("add_user", first_name=f"rep{i}")
        ids.append(user["id"])
    loop = asyncio.get_running_loop()
    team_id = await loop.run_in_executor(None, seed_reps, core.db, config, ids, NOW)
    owned = await loop.run_in_executor(None, seed_customers, core.db, config, team_id,
                                       max(0, args.customers_per_rep - 1), NOW)
    settings = Settings(token=TOKEN, api_base_url=server.base_url, api_file_url=server.base_file_url,
                        database_url=db_url, config_path=Path("config.toml"), admin_ids=())
    app = build_application(settings, config, core=core, tick_seconds=None, time_scale=args.time_scale)
    tracker = Tracker()
    tracker.install(app)
    await app.initialize()
    try:
        await startup(app)
        await app.bot_data["nlp_ready"]
        await app.start()
        # Each rep opens /today once (untimed): the list message whose buttons the presses use.
        users = core.db.call(lambda s: {u.tg_id: u.id for u in s.exec(select(User).where(User.tg_id.in_(ids)))})
        first = [await server.control("send_text", user_id=i, text="/today") for i in ids]
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await wait_done(tracker, [u["update_id"] for u in first])
        reps = []
        for i in ids:
            sent = await server.control("sent", chat_id=i)
            listing = [m for m in sent if m.get("reply_markup")]
            message_id = (listing or sent)[-1]["message_id"]
            customers = owned[users[i]]
            reps.append({"id": i, "message_id": message_id, "customer": customers[0][1],
                         "data": OpenCard(customers[0][0]).encode(), "customers": customers})
        # The saves press ✅ 确认保存 on previews of follow-up lines each rep sent beforehand (untimed):
        # as many per rep as the two workloads hold (drafts are kept per rep, bot/handlers/updates.py).
        wanted = {rep["id"]: 0 for rep in reps}
        for kind, rep, _ in workload(reps, n) + workload(reps, latency_n, seed=11) + cpu_workload(reps, CPU_PER_KIND):
            wanted[rep["id"]] += kind == "save"
        # About 2 in 5 previews offer ✅ 确认保存 (the others ask for the stage's missing fields first).
        wanted = {i: w * 5 // 2 + 1 for i, w in wanted.items()}
        drafts = [await push(server, TOKEN, "log", rep, (k + 0.5) / max(1, wanted[rep["id"]]))
                  for rep in reps for k in range(wanted[rep["id"]])]
        await wait_done(tracker, drafts)
        await app.updater.stop()
        for rep in reps:
            confirms = [(m["message_id"], row[0]["callback_data"]) for m in await server.control("sent", chat_id=rep["id"])
                        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])[:1]
                        if row and row[0].get("callback_data", "").startswith("cu:") and row[0]["callback_data"].endswith(":1")]
            rep["saves"] = confirms[::-1]
        for k in range(CPU_PER_KIND):  # the CPU phase's saves are set aside first (one per rep in turn)
            rep = reps[k % len(reps)]
            if rep["saves"]:
                rep.setdefault("cpu_saves", []).append(rep["saves"].pop(0))
        saves_ready = sum(len(rep["saves"]) + len(rep.get("cpu_saves", ())) for rep in reps)
        followups = core.db.call(lambda s: s.exec(select(func.count()).select_from(Activity)
                                                  .where(Activity.kind == "followup")).one())
        result = (*await measure(server, TOKEN, app, tracker, reps, n, latency_n), tracker.cpu_ms)
        saved = core.db.call(lambda s: s.exec(select(func.count()).select_from(Activity)
                                               .where(Activity.kind == "followup")).one()) - followups
        result = (*result, saves_ready, saved)
        claims = app.bot_data.get("update_claims")
        cpu_figures["updates"] = tracker.cpu_by_kind
        args.claim_figures = {"updates_gc_pause_ms_total": tracker.gc_ms, "updates_gc_pause_ms_max": tracker.gc_max_ms,
                              **{f"updates_p95_ms_{kind}": ms for kind, ms in tracker.p95_by_kind.items()}}
        if claims is not None and claims.stats["transactions"]:  # bot/dedupe.py: claims grouped per transaction
            args.claim_figures["updates_per_claim_transaction"] = claims.stats["claims"] / claims.stats["transactions"]
        if args.lookups:
            args.lookup_figures = await loop.run_in_executor(None, lookup_figures, core, team_id, reps, users)
        rejected = await server.control("rejected")
        if rejected:
            logging.getLogger("bench").error("server rejected %d requests, e.g. %s", len(rejected), rejected[:2])
        await app.stop()
    finally:
        await shutdown(app)
        await app.shutdown()
        core.db.close()
    return result, reps


def claims_database(db_url: str | None):
    """A fresh migrated database for the claim mirror, of the kind ``--db`` gives salesbot: a new schema
    on the same PostgreSQL server, else a new SQLite file.  (Database, cleanup)."""
    from storage.db import Database
    from storage.migrate import upgrade
    if db_url and db_url.startswith("postgresql"):
        base = db_url.split("?", 1)[0]
        url, schema = pg_schema(base)
        drop = lambda: drop_pg_schema(base, schema)  # noqa: E731
    else:
        url, drop = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-updates-claims-')) / 'claims.db'}", lambda: None
    upgrade(url)
    return Database(url), drop


async def run(args: argparse.Namespace) -> dict[str, float]:
    from bot.transport import AiohttpRequest
    aio = AiohttpRequest  # the baselines talk to the server over salesbot's own transport (bot/transport.py)
    server = await ServerProcess(time_scale=args.time_scale, tokens=(TOKEN, ECHO_TOKEN), latency_ms=args.rtt_ms).start()
    try:
        (ours, ours_p99, ours_cpu, saves_ready, saved), reps = await run_salesbot(
            server, args, args.reps, args.updates, args.latency_updates)
        echo, echo_p99, echo_cpu = await run_echo(server, reps, args.updates, args.latency_updates, request_factory=aio)
        mirror, mirror_p99, mirror_cpu = await run_echo(server, reps, args.updates, args.latency_updates, mirror=True,
                                                        request_factory=aio)
        lookups, args.lookups = args.lookup_figures, False
        # The paste's analysis alone (nlp/, in a worker thread in salesbot), timed here on the bench's
        # paste: CPU no bot that analyses pastes can avoid — it bounds updates_cpu_ratio_to_mirror.
        from core.config import load_config
        from services import intel
        scripts = load_config().objection_scripts()
        intel.read(PASTE, ["rep0"], scripts)
        cpu = time.process_time()
        for _ in range(20):
            intel.read(PASTE, ["rep0"], scripts)
        analysis_ms = (time.process_time() - cpu) * 1000 / 20
        ours_kind, mirror_kind, echo_kind = cpu_figures["updates"], cpu_figures["mirror"], cpu_figures["echo"]
        per_kind = {f"updates_cpu_ms_{k}": v for k, v in ours_kind.items()}
        per_kind.update({f"mirror_cpu_ms_{k}": v for k, v in mirror_kind.items()})
        per_kind.update({f"echo_cpu_ms_{k}": v for k, v in echo_kind.items()})
        # The ratio CPU allows: updates per CPU second, salesbot's over the mirror's (one at a time).
        per_kind["updates_cpu_ratio_to_mirror"] = mirror_kind["mix"] / ours_kind["mix"]
        per_kind["paste_analysis_cpu_ms"] = analysis_ms
        # The best updates_ratio_to_mirror a CPU-bound bot doing the mirror's calls plus the paste analysis
        # could reach (every other cost of salesbot zero): the mirror's CPU per update in the throughput
        # phase / (that + paste share × analysis).
        share = MIX["paste"] / sum(MIX.values())
        per_kind["updates_ratio_to_mirror_bound_by_analysis"] = mirror_cpu / (mirror_cpu + share * analysis_ms)
        figures = {"customers_per_rep": args.customers_per_rep, "updates_saves_pressed": saves_ready,
                   "updates_saves_applied": saved,
                   "updates_per_s": ours, "echo_updates_per_s": echo, "updates_ratio_to_echo": ours / echo,
                   "updates_p99_ms": ours_p99, "echo_p99_ms": echo_p99, "mirror_p99_ms": mirror_p99,
                   "updates_cpu_ms": ours_cpu, "echo_cpu_ms": echo_cpu, "mirror_updates_per_s": mirror,
                   "mirror_cpu_ms": mirror_cpu, "updates_ratio_to_mirror": ours / mirror, **args.claim_figures,
                   **per_kind, **lookups}
        if args.compare_rtt_ms and not args.rtt_ms:
            # The same comparison with Telegram's network in between (a round trip per API call).
            await server.control("set_latency", ms=args.compare_rtt_ms)
            globals()["CPU_PER_KIND"] = 0  # the CPU figures come from the run without the round trip
            n, latency_n = args.compare_updates, max(20, args.compare_updates // 5)
            (ours, ours_p99, *_), reps = await run_salesbot(server, args, args.reps, n, latency_n)
            echo, echo_p99, _ = await run_echo(server, reps, n, latency_n, request_factory=aio)
            parallel_echo, _, _ = await run_echo(server, reps, n, latency_n, concurrent=64, request_factory=aio)
            # The bound for a bot that keeps the exactly-once claim (bench.floor), in this same run: salesbot's
            # Telegram calls with each update id claimed in the database first (grouped as bot/dedupe.py
            # does) and nothing else, side by side like the concurrent echo bot.
            claims_db, drop = claims_database(args.db)  # the same kind of database as salesbot's
            try:
                claiming, _, _ = await run_echo(server, reps, n, latency_n, mirror=True, request_factory=aio,
                                                claim_db=claims_db, concurrent=64)
            finally:
                claims_db.close()
                drop()
            tag = f"rtt{args.compare_rtt_ms:g}ms"
            figures.update({f"updates_per_s_{tag}": ours, f"echo_updates_per_s_{tag}": echo,
                            f"updates_ratio_to_echo_{tag}": ours / echo, f"updates_p99_ms_{tag}": ours_p99,
                            f"echo_p99_ms_{tag}": echo_p99, f"concurrent_echo_updates_per_s_{tag}": parallel_echo,
                            f"updates_ratio_to_concurrent_echo_{tag}": ours / parallel_echo,
                            f"mirror_claim_concurrent_updates_per_s_{tag}": claiming,
                            f"mirror_claim_ratio_to_concurrent_echo_{tag}": claiming / parallel_echo,
                            f"updates_ratio_to_mirror_claim_concurrent_{tag}": ours / claiming})
    finally:
        await server.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.updates", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--customers-per-rep", type=int, default=200)
    parser.add_argument("--quick", action="store_true",
                        help="a run under a minute: 20 reps, 400 + 100 updates, 100 with the round trip")
    parser.add_argument("--updates", type=int, default=1500, help="updates in the throughput backlog")
    parser.add_argument("--latency-updates", type=int, default=600)
    parser.add_argument("--time-scale", type=float, default=100.0)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="network round trip the local server adds to each Bot API call (Telegram: 50-300 ms)")
    parser.add_argument("--compare-rtt-ms", type=float, default=50.0,
                        help="then run both bots again with this network round trip (0: skip)")
    parser.add_argument("--compare-updates", type=int, default=200,
                        help="backlog for the round-trip run (kept small: a bot that handles updates one "
                             "at a time falls behind Telegram's 15 s window for answering presses)")
    parser.add_argument("--cpu-per-kind", type=int, default=CPU_PER_KIND,
                        help="updates of each kind timed one at a time for the CPU figures")
    parser.add_argument("--profile", help="write cProfile stats of salesbot's CPU phase to PATH.<kind>")
    parser.add_argument("--no-rtt", action="store_true", help="skip the round-trip comparison")
    parser.add_argument("--mix", help="workload weights, e.g. press=1,log=0,save=0,paste=0 (default 40/25/15/20)")
    args = parser.parse_args(argv)
    args.lookups, args.lookup_figures, args.claim_figures = True, {}, {}
    if args.quick:
        args.reps, args.updates, args.latency_updates, args.compare_updates = 20, 400, 100, 100
    globals().update(CPU_PER_KIND=args.cpu_per_kind, PROFILE=args.profile)
    if args.no_rtt:
        args.compare_rtt_ms = 0
    if args.mix:  # to look at one kind of update at a time
        MIX.update({k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))})
    return run_and_report(run, args)


if __name__ == "__main__":
    raise SystemExit(main())
