"""A local fake vendor speaking the connector contracts of docs/connectors.md — and misbehaving.

    async with FakeVendor(token="t") as vendor:
        vendor.add_order({...}); vendor.add_message({...})
        vendor.fail("timeout", "500", "bad_json")     # the next requests misbehave, in order
        settings.base_url = vendor.base_url

Feeds are change logs: every added or updated record gets the next sequence number and the
cursor is the last sequence number delivered, so an updated order shows up again.
Faults, consumed one per request: ``timeout`` (answers after ``slow_seconds``), ``500``,
``503`` (with Retry-After: 0), ``429``, ``bad_json`` (an HTML error page), ``bad_page``
(JSON of the wrong shape), ``duplicate`` (the page repeats the previous page's records
first), ``reset`` (closes the connection), ``401``.
"""
from __future__ import annotations

import asyncio
import copy
from typing import Any

from aiohttp import web


class FakeVendor:
    def __init__(self, token: str = "vendor-token-0123456789", slow_seconds: float = 1.0) -> None:
        self.token = token
        self.slow_seconds = slow_seconds
        self.feeds: dict[str, list[tuple[int, dict[str, Any]]]] = {"orders": [], "messages": []}
        self.seq = 0
        self.faults: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.served: list[str] = []  # what each request got: ok | <fault>
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._last_page: dict[str, list[dict[str, Any]]] = {"orders": [], "messages": []}

    # --- data ------------------------------------------------------------------------------------
    def _append(self, feed: str, record: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        self.feeds[feed].append((self.seq, copy.deepcopy(record)))
        return record

    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        order = {"version": 1, "contract_status": "none", "payment_status": "unpaid", "delivery_status": "pending",
                 **order}
        return self._append("orders", order)

    def update_order(self, order_id: str, **changes: Any) -> dict[str, Any]:
        latest = next(r for _, r in reversed(self.feeds["orders"]) if r["order_id"] == order_id)
        updated = {**copy.deepcopy(latest), **changes, "version": latest.get("version", 1) + 1}
        return self._append("orders", updated)

    def add_raw(self, feed: str, record: Any) -> None:
        """A record exactly as given (malformed ones included)."""
        self.seq += 1
        self.feeds[feed].append((self.seq, record))

    def add_message(self, message: dict[str, Any]) -> dict[str, Any]:
        return self._append("messages", {"type": "text", **message})

    def fail(self, *faults: str) -> None:
        self.faults.extend(faults)

    # --- server ------------------------------------------------------------------------------------
    async def __aenter__(self) -> "FakeVendor":
        app = web.Application()
        app.router.add_get("/orders", lambda r: self._page(r, "orders"))
        app.router.add_get("/messages", lambda r: self._page(r, "messages"))
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _page(self, request: web.Request, feed: str) -> web.StreamResponse:
        self.requests.append({"path": request.path, "query": dict(request.query),
                              "auth": request.headers.get("Authorization")})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            self.served.append("401")
            return web.json_response({"error": "unauthorized"}, status=401)
        fault = self.faults.pop(0) if self.faults else None
        self.served.append(fault or "ok")
        if fault == "timeout":  # too slow for the client; by then it has given up on this request
            await asyncio.sleep(self.slow_seconds)
            return web.Response(status=504, text="too late")
        if fault in ("500", "429", "401"):
            return web.Response(status=int(fault), text="vendor trouble")
        elif fault == "503":
            return web.Response(status=503, text="maintenance", headers={"Retry-After": "0"})
        elif fault == "bad_json":
            return web.Response(status=200, text="<html><body>Gateway error</body></html>", content_type="text/html")
        elif fault == "bad_page":
            return web.json_response({feed: "not a list", "next_cursor": 7})
        elif fault == "reset":
            request.transport.close()
            return web.Response(status=200)
        try:
            cursor = int(request.query.get("cursor") or 0)
            limit = max(1, min(1000, int(request.query.get("limit") or 100)))
        except ValueError:
            return web.json_response({"error": "bad cursor"}, status=400)
        pending = [(seq, rec) for seq, rec in self.feeds[feed] if seq > cursor]
        page = pending[:limit]
        items = [copy.deepcopy(rec) for _, rec in page]
        if fault == "duplicate":
            items = copy.deepcopy(self._last_page[feed]) + items + items[:1]
        self._last_page[feed] = [copy.deepcopy(rec) for _, rec in page]
        next_cursor = str(page[-1][0]) if page else (str(cursor) if cursor else None)
        return web.json_response({feed: items, "next_cursor": next_cursor, "has_more": len(pending) > limit})
