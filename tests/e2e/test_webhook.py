"""Webhook mode: the bot's own aiohttp server receives updates, checking Telegram's secret token."""
import httpx

from tests.botrun import free_port, running_bot, send_text, webhook_config

TOKEN = "777:WEBHOOK-test"


async def test_webhook_delivery_with_secret_token(tmp_path):
    port = free_port()
    async with running_bot(tmp_path, webhook_config(port), TOKEN, "hook_bot") as (tg, _core, admin):
        await tg.wait_until(lambda: any(r["method"].lower() == "setwebhook" and r["status"] == 200 for r in tg.requests), 15)
        hook = next(r for r in tg.requests if r["method"].lower() == "setwebhook")
        assert hook["params"]["url"] == f"http://127.0.0.1:{port}/telegram" and hook["params"].get("secret_token")
        await send_text(tg, admin["id"], "/help")
        await tg.wait_for_sent(admin["id"], count=1, timeout=15)
        assert "销售助手" in tg.sent(admin["id"])[-1]["text"]
        # Without the secret, or with a wrong one, the server refuses the update.
        async with httpx.AsyncClient() as client:
            bare = await client.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 1})
            wrong = await client.post(f"http://127.0.0.1:{port}/telegram", json={"update_id": 2},
                                      headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert bare.status_code == 403 and wrong.status_code == 403
        # getUpdates is refused while the webhook is active — polling is really off.
        assert not any(r["method"].lower() == "getupdates" and r["status"] == 200 for r in tg.requests)
