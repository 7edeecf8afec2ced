"""getUpdates and the webhook methods.

Why: polling and webhooks are mutually exclusive in Telegram (409 while a webhook is set, 409
for a poller displaced by a newer getUpdates), long polling returns as soon as an update
arrives, and the webhook carries ``X-Telegram-Bot-Api-Secret-Token``. Getting these right is
what lets the real PTB Updater and PTB's webhook server run unchanged against the fake.

``timeout`` of getUpdates is in real seconds (the client's HTTP read timeout is real time).
"""

from __future__ import annotations

import re
import time
from typing import Any

from tgfake.api_common import Call, api_method
from tgfake.errors import conflict, invalid
from tgfake.updates import Webhook, WebhookDeliverer

WEBHOOK_ACTIVE = ("can't use getUpdates method while webhook is active; use deleteWebhook to "
                  "delete the webhook first")
TERMINATED = ("terminated by other getUpdates request; make sure that only one bot instance "
              "is running")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _allowed_updates(call: Call) -> None:
    allowed = call.params.get("allowed_updates")
    if isinstance(allowed, list):
        call.bot.updates.allowed = [str(kind) for kind in allowed]


@api_method("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    """Confirms by offset, then long-polls up to ``timeout`` real seconds."""
    bot = call.bot
    if bot.webhook:
        raise conflict(WEBHOOK_ACTIVE)
    _allowed_updates(call)
    bot.updates.confirm(int(call.get("offset", 0)))
    limit = min(max(int(call.get("limit", 100)), 1), 100)
    timeout = max(float(call.get("timeout", 0)), 0.0)
    bot.poll_generation += 1
    bot.updates.changed.notify()  # an older long poll now answers 409
    generation, deadline = bot.poll_generation, time.monotonic() + timeout
    while True:
        if bot.poll_generation != generation:
            raise conflict(TERMINATED)
        if bot.webhook:
            raise conflict(WEBHOOK_ACTIVE)
        pending = bot.updates.peek(limit)
        remaining = deadline - time.monotonic()
        if pending or remaining <= 0 or call.tg.stopping:
            if pending:
                call.tg.mark_delivered()
            return [update.to_api() for update in pending]
        await bot.updates.changed.wait(remaining)


def _check_webhook_params(call: Call) -> tuple[str, str | None]:
    url = str(call.get("url", ""))
    if url and not re.match(r"https?://[^/\s]+", url, re.IGNORECASE):
        raise invalid("bad webhook: An HTTPS URL must be provided for webhook")
    secret = call.get("secret_token")
    if secret is not None and not _SECRET.fullmatch(str(secret)):
        raise invalid("secret token contains unallowed characters")
    return url, secret


@api_method("setWebhook")
async def set_webhook(call: Call) -> bool:
    """Sets (or, with an empty url, removes) the webhook and starts delivering to it."""
    url, secret = _check_webhook_params(call)
    if not url:
        return await delete_webhook(call)
    _allowed_updates(call)
    bot = call.bot
    if call.get("drop_pending_updates"):
        bot.updates.clear()
    hook = Webhook(url, secret, min(max(int(call.get("max_connections", 40)), 1), 100),
                   call.get("ip_address"))
    same = bot.webhook is not None and (bot.webhook.url, bot.webhook.secret_token) == (
        url, secret)
    await call.tg.replace_webhook(bot, hook)
    call.description = "Webhook is already set" if same else "Webhook was set"
    bot.updates.changed.notify()  # a waiting getUpdates now answers 409
    return True


@api_method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    """Removes the webhook; polling works again."""
    bot = call.bot
    had = bot.webhook is not None
    await call.tg.replace_webhook(bot, None)
    if call.get("drop_pending_updates"):
        bot.updates.clear()
    call.description = "Webhook was deleted" if had else "Webhook is already deleted"
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    """WebhookInfo: url ('' when polling), pending count, last delivery error."""
    bot, hook = call.bot, call.bot.webhook
    info: dict[str, Any] = {"url": hook.url if hook else "", "has_custom_certificate": False,
                            "pending_update_count": len(bot.updates)}
    if hook:
        info["max_connections"] = hook.max_connections
        if hook.ip_address:
            info["ip_address"] = hook.ip_address
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    if bot.updates.allowed:
        info["allowed_updates"] = bot.updates.allowed
    return info


def make_deliverer(call_tg: Any, bot: Any, hook: Webhook) -> WebhookDeliverer:
    """A deliverer configured from the server's webhook tunables."""
    return WebhookDeliverer(bot.updates, hook, call_tg.http_session(), call_tg.clock,
                            on_delivered=call_tg.mark_delivered,
                            retry_base_s=call_tg.webhook_retry_base_s,
                            max_attempts=call_tg.webhook_max_attempts,
                            timeout_s=call_tg.webhook_timeout_s)
