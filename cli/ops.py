"""Operations: `salesbot doctor` (plain-words health check) and `salesbot backup`."""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
from datetime import datetime
from pathlib import Path

from core.config import ConfigError, Settings, load_config


def register(sub) -> None:
    doctor = sub.add_parser("doctor", help="check configuration, database, token and webhook; say what is wrong")
    doctor.set_defaults(fn=cmd_doctor)
    backup = sub.add_parser("backup", help="copy the SQLite database safely while the bot runs")
    backup.add_argument("target", nargs="?", help="file to write (default: data/backup-<time>.db)")
    backup.set_defaults(fn=cmd_backup)


def cmd_doctor(args: argparse.Namespace) -> int:
    results = run_checks(Settings.from_env())
    for ok, line in results:
        print(("✔ " if ok else "✘ ") + line)
    bad = sum(1 for ok, _ in results if not ok)
    print("All checks passed." if not bad else f"{bad} problem(s) found.")
    return 0 if not bad else 1


def run_checks(settings: Settings) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    config = None
    try:
        config = load_config(settings.config_path)
        out.append((True, f"configuration {settings.config_path} is valid ({len(config.stages)} stages)"))
    except ConfigError as exc:
        out.append((False, f"configuration is invalid:\n{exc}"))
    out.extend(_check_database(settings))
    from cli.voice_doctor import check_services  # speech service and chat model (optional)
    out.extend(check_services(config))
    if not settings.token:
        out.append((False, "TELEGRAM_BOT_TOKEN is not set: the bot cannot log in (get one from @BotFather)"))
        return out
    out.extend(asyncio.run(_check_telegram(settings, config)))
    return out


def _check_database(settings: Settings) -> list[tuple[bool, str]]:
    from storage.db import Database
    from storage.migrate import current_revision, head_revision
    try:
        db = Database(settings.database_url)
        current, head = current_revision(db), head_revision()
        db.close()
    except Exception as exc:  # noqa: BLE001 - the point is to report any failure in words
        return [(False, f"cannot open the database ({_safe_url(settings.database_url)}): {exc}")]
    if current is None:
        return [(True, "database reachable; it is empty and will be created on first start")]
    if current != head:
        return [(False, f"database schema is at {current}, the code needs {head}: run `salesbot db upgrade`")]
    return [(True, f"database reachable and up to date ({head})")]


async def _check_telegram(settings: Settings, config) -> list[tuple[bool, str]]:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError
    out: list[tuple[bool, str]] = []
    kwargs = {"base_url": settings.api_base_url, "base_file_url": settings.api_file_url} if settings.api_base_url else {}
    from bot.transport import make_request
    bot = Bot(settings.token, request=make_request(8), **kwargs)
    try:
        async with bot:
            me = await bot.get_me()
            out.append((True, f"token works: the bot is @{me.username}"))
            info = await bot.get_webhook_info()
            wanted = (config.telegram.webhook_url if config else "") or ""
            if wanted and info.url != wanted.rstrip("/"):
                out.append((False, f"webhook should be {wanted} but Telegram has {info.url or 'none'}; start the bot to set it"))
            elif not wanted and info.url:
                out.append((False, f"a webhook ({info.url}) is set but polling is configured; starting the bot removes it"))
            else:
                out.append((True, f"delivery mode: {'webhook ' + info.url if info.url else 'long polling'}"))
            if info.last_error_message:
                out.append((False, f"Telegram reports a webhook error: {info.last_error_message}"))
            if info.pending_update_count > 100:
                out.append((False, f"{info.pending_update_count} updates are waiting: is the bot running?"))
    except InvalidToken:
        out.append((False, "Telegram rejected the token (Unauthorized): check TELEGRAM_BOT_TOKEN"))
    except (NetworkError, TelegramError, OSError) as exc:
        out.append((False, f"cannot reach the Bot API at {settings.api_base_url or 'api.telegram.org'}: {exc}"))
    return out


def _safe_url(url: str) -> str:
    """Never print a database password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def cmd_backup(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not settings.database_url.startswith("sqlite"):
        print("backup works on SQLite; for PostgreSQL use pg_dump (see README, Deployment)")
        return 2
    source = settings.database_url.split("///", 1)[1]
    target = Path(args.target or Path(source).parent / f"backup-{datetime.now():%Y%m%d-%H%M%S}.db")
    backup_sqlite(source, target)
    print(f"backup written to {target}")
    return 0


def backup_sqlite(source: str, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the bot keeps writing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=256)
