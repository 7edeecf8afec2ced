"""`salesbot doctor` and `salesbot backup` against real parts: the local Bot API server and SQLite."""
import sqlite3

from cli.ops import backup_sqlite, run_checks
from core.config import Settings
from storage.migrate import upgrade


async def _server():
    from tgfake.server import FakeTelegram
    tg = FakeTelegram()
    await tg.start()
    tg.register_bot("42:GOOD", username="doc_bot")
    return tg


def test_doctor_reports_in_plain_words(tmp_path):
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    tg = loop.run_until_complete(_server())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        url = f"sqlite:///{tmp_path/'d.db'}"
        env = {"TELEGRAM_API_BASE_URL": tg.base_url, "DATABASE_URL": url}
        bad = run_checks(Settings.from_env({**env, "TELEGRAM_BOT_TOKEN": "42:WRONG"}))
        assert any(not ok and "rejected the token" in line for ok, line in bad)
        assert any(ok and "empty" in line for ok, line in bad)
        upgrade(url)
        good = run_checks(Settings.from_env({**env, "TELEGRAM_BOT_TOKEN": "42:GOOD"}))
        assert all(ok for ok, _ in good), good
        assert any("@doc_bot" in line for _, line in good)
        missing = run_checks(Settings.from_env({"DATABASE_URL": url}))
        assert any(not ok and "TELEGRAM_BOT_TOKEN is not set" in line for ok, line in missing)
    finally:
        asyncio.run_coroutine_threadsafe(tg.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_backup_is_a_consistent_copy(tmp_path):
    url = f"sqlite:///{tmp_path/'live.db'}"
    upgrade(url)
    with sqlite3.connect(tmp_path / "live.db") as conn:
        conn.execute("INSERT INTO team (name, timezone, created_at) VALUES ('a', 'Asia/Shanghai', '2026-01-01')")
    backup_sqlite(str(tmp_path / "live.db"), tmp_path / "copy.db")
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("SELECT name FROM team").fetchall() == [("a",)]
