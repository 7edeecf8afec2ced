"""What any bot that makes salesbot's Telegram calls can reach, against the bare PTB echo bot.

``python -m bench.floor [--reps 100] [--updates 1500]``

Same local server, same workload as bench.updates, and nothing of salesbot's work: every bot here
only answers.  It separates what the 0.7 target of bench.updates asks for from what the stack and
the delivery guarantees cost by themselves:

- ``mirror_httpx_ratio_to_echo``: salesbot's calls (answer + edit with a card keyboard for a press,
  a reply with buttons for a message) on PTB's default transport;
- ``mirror_aiohttp_ratio_to_echo``: the same calls on salesbot's transport (bot/transport.py);
- ``mirror_claim_ratio_to_echo``: the same, plus claiming each update id in the database first —
  what "an update delivered twice is processed once" across instances needs (bot/dedupe.py), the
  updates that start together claimed in one transaction as salesbot does — and still no database
  reads, no rendering, no parsing;
- ``mirror_claim_each_ratio_to_echo``: the same with one claim transaction per update (before).

Figures: echo_updates_per_s and the three ratios.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import ECHO_TOKEN, TOKEN, ServerProcess, run_and_report
from bench.updates import run_echo


async def run(args: argparse.Namespace) -> dict[str, float]:
    from bot.transport import AiohttpRequest
    from storage.db import Database
    from storage.migrate import upgrade

    server = await ServerProcess(time_scale=args.time_scale, tokens=(TOKEN, ECHO_TOKEN)).start()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-floor-')) / 'claims.db'}"
    upgrade(url)
    db = Database(url)
    try:
        reps = []
        for i in range(args.reps):
            user = await server.control("add_user", first_name=f"rep{i}")
            reps.append({"id": user["id"], "customer": f"客户{i}", "data": f"m:{i}"})
        n, latency_n = args.updates, 50
        echo, _, _ = await run_echo(server, reps, n, latency_n)
        httpx_mirror, _, _ = await run_echo(server, reps, n, latency_n, mirror=True)
        aiohttp_mirror, _, _ = await run_echo(server, reps, n, latency_n, mirror=True, request_factory=AiohttpRequest)
        claiming, _, _ = await run_echo(server, reps, n, latency_n, mirror=True, request_factory=AiohttpRequest,
                                        claim_db=db)
        each, _, _ = await run_echo(server, reps, n, latency_n, mirror=True, request_factory=AiohttpRequest,
                                    claim_db=db, claim_grouped=False)
    finally:
        db.close()
        await server.stop()
    return {"echo_updates_per_s": echo, "mirror_httpx_ratio_to_echo": httpx_mirror / echo,
            "mirror_aiohttp_ratio_to_echo": aiohttp_mirror / echo, "mirror_claim_ratio_to_echo": claiming / echo,
            "mirror_claim_each_ratio_to_echo": each / echo}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--updates", type=int, default=1500)
    parser.add_argument("--time-scale", type=float, default=100.0)
    args = parser.parse_args(argv)
    return run_and_report(run, args)


if __name__ == "__main__":
    raise SystemExit(main())
