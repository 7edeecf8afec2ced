"""Morning fan-out against the local Bot API server enforcing Telegram's limits.

``python -m bench.fanout [--reps 1000] [--customers 200] [--faults 0.1] [--time-scale 10] [--db URL]``

Seeds N reps (each with a customer due today, plus ``--customers`` more spread over the funnel, a
third with a follow-up around today) in a fresh database, runs the 08:30 brief job, and lets the
outbox sender deliver through the real PTB bot to ``python -m tgfake`` in its own process.  The
job commits its briefs batch by batch and wakes the sender after each, so building and sending
overlap; the clock starts at the job's trigger.  The server's clock runs ``time_scale`` times faster and so does the bot's limiter
(every limit scales), so rates are reported in server time (real rate / time_scale).

Figures: fanout_share_of_cap_from_trigger (delivered / time from the job's trigger to the last
delivery, of Telegram's 30/s: the headline), fanout_first_commit_s (trigger to the first batch
committed, real seconds), fanout_job_s (trigger to the last batch committed, real seconds),
fanout_msgs_per_s and fanout_share_of_cap (from the first commit, the sender's own rate), fanout_429 (answered by the server's flood limits,
not injected), fanout_lost (reps without their brief), fanout_duplicates (the same brief twice),
fanout_ambiguous (sends whose outcome the bot could not know: a timeout or a connection dropped
after the request went out — only these can repeat, so duplicates never exceed them),
fanout_bot_cpu_ms_per_msg (the bot process's CPU from the trigger, building the briefs included).

``--faults RATE`` injects 429 / 500 / timeout / drop and "lost_ack" (Telegram delivered the
message, then the connection dropped: the one fault that can make a repeat); ``--kinds`` picks
others.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.common import TELEGRAM_CAP_PER_S, TOKEN, ServerProcess, run_and_report, seed_customers, seed_reps

SLOT = datetime(2026, 11, 27, 0, 30)  # Friday 08:30 in Shanghai
SEED_AT = datetime(2026, 11, 26, 1, 0)


async def make_users(server: ServerProcess, n: int) -> list[int]:
    ids: list[int] = []
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> int:
        async with sem:
            user = await server.control("add_user", first_name=f"rep{i}")
            await server.control("unblock_bot", user_id=user["id"])  # as if the rep pressed Start
            return user["id"]
    for start in range(0, n, 1000):
        ids += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 1000))))
    # Confirm the my_chat_member updates that created, as a previous bot session would have.
    last = await server.api("getUpdates", offset=-1, timeout=0)
    if last.get("result"):
        await server.api("getUpdates", offset=last["result"][-1]["update_id"] + 1, timeout=0)
    return ids


def per_rep_brief_job(session, core, team, slot) -> int:
    """The brief job as it was (``--baseline``): one rep at a time, every brief in one transaction
    committed at the end, then sending."""
    from sqlalchemy import update

    from core.clock import to_local
    from scheduler.briefs import brief_payload
    from services import digest as digest_svc
    from services import outbox
    from services.users import team_members
    from storage.models import Task
    count = 0
    day = to_local(slot, core.config.tz).date().isoformat()
    members = team_members(session, team.id, roles=("rep", "manager"))
    lines = digest_svc.rep_lines(session, core.config, team.id, members, slot)
    for user in members:
        payload = brief_payload(session, core, user, slot, line=lines.get(user.id, ""))
        if payload is None:
            continue
        if outbox.enqueue(session, user.tg_id, "brief", payload, f"brief:{user.id}:{day}", core.clock.now()):
            count += 1
        session.execute(update(Task).where(Task.user_id == user.id, Task.status == "folded").values(status="fired"))
    return count


async def run(args: argparse.Namespace) -> dict[str, float]:
    from bot.app import build_application, shutdown, startup
    from core.clock import Clock
    from core.config import Settings, load_config
    from scheduler.jobs import run_due_jobs
    from services.core import Core
    from services.outbox import pending_count
    from storage.db import Database
    from storage.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    db_url = args.db or f"sqlite:///{tmp / 'fanout.db'}"
    server = await ServerProcess(time_scale=args.time_scale).start()
    app = None
    try:
        config = load_config()
        upgrade(db_url)
        clock = Clock()
        clock.set(SEED_AT)
        core = Core(db=Database(db_url, workers=4), config=config, clock=clock)
        ids = await make_users(server, args.reps)
        loop = asyncio.get_running_loop()
        team_id = await loop.run_in_executor(None, seed_reps, core.db, config, ids, SEED_AT)
        if args.customers:
            await loop.run_in_executor(None, seed_customers, core.db, config, team_id, args.customers, SEED_AT)
        settings = Settings(token=TOKEN, api_base_url=server.base_url, api_file_url=server.base_file_url,
                            database_url=db_url, config_path=Path("config.toml"), admin_ids=())
        if args.probe_chat:
            group = await server.control("add_group", title="delivery probe", supergroup=True)
            os.environ["SALESBOT_PROBE_CHAT_ID"] = str(group["id"])
        else:
            os.environ.pop("SALESBOT_PROBE_CHAT_ID", None)
        app = build_application(settings, config, core=core, tick_seconds=None, time_scale=args.time_scale)
        await app.initialize()
        await startup(app)
        sender = app.bot_data["sender"]
        await server.control("set_message_ids", scheme=args.message_ids)
        await server.control("reset_counters")
        if args.faults:
            await server.control("set_faults", rate=args.faults, kinds=args.kinds.split(","), timeout_hold_s=15.0)
        if args.baseline:  # the JobSpec resolves "scheduler.briefs:brief_job" at run time
            import scheduler.briefs
            scheduler.briefs.brief_job = per_rep_brief_job
        clock.set(SLOT)
        commits: list[float] = []

        def committed() -> None:  # called from the job's thread after each batch, as scheduler.jobs.tick does
            commits.append(time.monotonic())
            loop.call_soon_threadsafe(sender.wake)
        t0, cpu0 = time.monotonic(), time.process_time()
        job = loop.run_in_executor(None, lambda: run_due_jobs(core, only={"brief"}, on_commit=committed))
        while not job.done() or await core.db.run(pending_count) > 0:
            if job.done() and not commits:  # the one-transaction job (--baseline) commits once, at its end
                commits.append(time.monotonic())
                sender.wake()
            await asyncio.sleep(0.05)
        done = job.result()
        assert ("brief", "1:2026-11-27T08:30", "done") in done, done
        t1, t2, cpu2 = commits[0], time.monotonic(), time.process_time()
        await sender.settled(timeout=300)  # checks of unanswered attempts run off the delivery path
        stats = await server.control("stats")
        deliveries = await server.control("deliveries")
        duplicates = await server.control("duplicates")
        left = await server.control("duplicates", live=True)
        got = {int(k): v for k, v in deliveries.items()}
        lost = sum(1 for i in ids if got.get(i, 0) == 0)
        reps = set(ids)  # (the probe chat's own forwards are not briefs)
        dup = sum(d["count"] - 1 for d in duplicates if d["chat_id"] in reps)
        delivered = sum(min(1, got.get(i, 0)) for i in ids)
        rate = delivered / (t2 - t1) / args.time_scale
        from_trigger = delivered / (t2 - t0) / args.time_scale
        faults_429 = stats["faults_by_kind"].get("429", 0)
        return {"fanout_reps": args.reps, "fanout_customers_per_rep": args.customers + 1,
                "fanout_share_of_cap_from_trigger": from_trigger / TELEGRAM_CAP_PER_S,
                "fanout_msgs_per_s_from_trigger": from_trigger,
                "fanout_first_commit_s": t1 - t0, "fanout_job_s": commits[-1] - t0, "fanout_batches": len(commits),
                "fanout_msgs_per_s": rate, "fanout_share_of_cap": rate / TELEGRAM_CAP_PER_S,
                "fanout_429": stats["rate_limited_429"], "fanout_faults_injected": stats["faults_injected"],
                "fanout_injected_429": faults_429, "fanout_injected_lost_ack": stats["faults_by_kind"].get("lost_ack", 0),
                "fanout_lost": lost, "fanout_duplicates": dup, "fanout_ambiguous": sender.stats["ambiguous"],
                "fanout_duplicates_left": sum(d["count"] - 1 for d in left if d["chat_id"] in reps),
                "fanout_ambiguous_proven_absent": sender.probe.stats["proven_absent"],
                "fanout_repeats_removed": sender.probe.stats["repeats_removed"],
                "fanout_probes": sender.probe.stats["probes"],
                "fanout_bot_cpu_ms_per_msg": (cpu2 - cpu0) * 1000 / max(1, stats["sends"]),
                "fanout_trigger_to_last_s": t2 - t0}
    finally:
        if app is not None:
            await shutdown(app)
            await app.shutdown()
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=200, help="more customers per rep (realistic lists)")
    parser.add_argument("--faults", type=float, default=0.0, help="share of API calls failing (see --kinds)")
    parser.add_argument("--kinds", default="429,500,timeout,drop,lost_ack", help="fault kinds, comma-separated")
    parser.add_argument("--time-scale", type=float, default=5.0,
                        help="server seconds per real second; the bot's limiter scales the same way")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--message-ids", choices=("chat", "account"), default="chat",
                        help="how the local server numbers messages (tgfake set_message_ids)")
    parser.add_argument("--compare", action="store_true",
                        help="a second run with the job as it was (one rep at a time, one transaction): fanout_baseline_*")
    parser.add_argument("--probe", action="store_true",
                        help="a second run with a probe chat (SALESBOT_PROBE_CHAT_ID), figures as fanout_probe_*")
    args = parser.parse_args(argv)
    args.probe_chat = False
    args.baseline = False
    return run_and_report(run_both if args.probe else run_compare if args.compare else run, args)


async def run_compare(args: argparse.Namespace) -> dict[str, float]:
    """The same fan-out built in batches (the job now), then one rep at a time in one transaction (before)."""
    figures = await run(argparse.Namespace(**vars(args)))
    before = await run(argparse.Namespace(**{**vars(args), "baseline": True}))
    figures.update({k.replace("fanout_", "fanout_baseline_", 1): v for k, v in before.items()
                    if k in ("fanout_share_of_cap_from_trigger", "fanout_first_commit_s", "fanout_job_s",
                             "fanout_lost", "fanout_duplicates", "fanout_trigger_to_last_s")})
    return figures


async def run_both(args: argparse.Namespace) -> dict[str, float]:
    """The same fan-out and fault mix (same seed) without, then with a probe chat."""
    figures = await run(argparse.Namespace(**{**vars(args), "probe_chat": False}))
    probed = await run(argparse.Namespace(**{**vars(args), "probe_chat": True}))
    figures.update({k.replace("fanout_", "fanout_probe_", 1): v for k, v in probed.items() if k != "fanout_reps"})
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
