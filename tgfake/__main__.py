"""``python -m tgfake``: run the fake Bot API server standalone (demo, benchmarks).

Example::

    python -m tgfake --port 8081 --token 123456:TEST --time-scale 10

The bot then uses ``--base-url http://127.0.0.1:8081/bot``; users are driven through
``POST http://127.0.0.1:8081/control/<name>`` with JSON keyword arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from tgfake.server import FakeTelegram


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m tgfake", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", action="append", required=True,
                        help="bot token to accept (repeatable)")
    parser.add_argument("--username", default="salesbot_demo_bot")
    parser.add_argument("--first-name", default="SalesBot")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="server seconds per real second (limits refill faster)")
    parser.add_argument("--per-chat-burst", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="network round trip added to every Bot API call but getUpdates")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every API call")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Runs the server until SIGINT/SIGTERM."""
    tg = FakeTelegram(time_scale=args.time_scale, per_chat_burst=args.per_chat_burst,
                      seed=args.seed)
    tg.api_latency_s = args.latency_ms / 1000.0
    for token in args.token:
        tg.register_bot(token, args.username, args.first_name)
    await tg.start(args.host, args.port)
    logging.getLogger("tgfake").info("base_url=%s base_file_url=%s control=%s/control/<name>",
                                     tg.base_url, tg.base_file_url, tg.url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await tg.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.verbose:
        logging.getLogger("tgfake.calls").setLevel(logging.DEBUG)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
