"""The console's API over HTTP: initData validation, membership, team scoping and the numbers.

Runs on SQLite and (when it answers) PostgreSQL; data comes from console.seed, the expected numbers
are counted here from what was seeded, not from the code under test.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from contextlib import asynccontextmanager
from datetime import timezone
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from console import auth
from console.seed import seed
from console.server import build_app

TOKEN = "123456789:TEST-console-token"


# --- initData validation (no server) --------------------------------------------------------------

def _literal_signed(token: str, auth_date: int, user_json: str, extra: str = "") -> str:
    """initData signed by hand, the way the Bot API page spells it (independent of console.auth)."""
    check = f"auth_date={auth_date}\nquery_id=AAHq\n{extra}user={user_json}" if extra else \
        f"auth_date={auth_date}\nquery_id=AAHq\nuser={user_json}"
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    parts = [f"query_id=AAHq", f"user={quote(user_json)}", f"auth_date={auth_date}", f"hash={digest}"]
    if extra:
        key, _, value = extra.rstrip("\n").partition("=")
        parts.insert(1, f"{key}={quote(value)}")
    return "&".join(parts)


def test_validate_accepts_a_hand_signed_init_data_in_any_field_order():
    user = '{"id":42,"first_name":"王","language_code":"zh-hans"}'
    data = _literal_signed(TOKEN, 1_800_000_000, user)
    got = auth.validate(data, TOKEN, 1_800_000_100, 3600)
    assert (got.tg_id, got.first_name, got.language_code) == (42, "王", "zh-hans")
    # The signature field (third-party Ed25519) stays in the data-check string.
    with_sig = _literal_signed(TOKEN, 1_800_000_000, user, extra="signature=abc\n")
    assert auth.validate(with_sig, TOKEN, 1_800_000_100, 3600).tg_id == 42


@pytest.mark.parametrize("mutate,reason", [
    (lambda d: d.replace("%22id%22%3A42", "%22id%22%3A43"), "bad_hash"),      # another user id
    (lambda d: d.replace("auth_date=1800000000", "auth_date=1800000050"), "bad_hash"),
    (lambda d: d.split("&hash=")[0], "bad_hash"),                              # no hash at all
    (lambda d: d + "&query_id=again", "malformed"),                            # a repeated key
    (lambda d: "", "missing"),
    (lambda d: "x" * 5000, "malformed"),
])
def test_validate_refuses_tampering(mutate, reason):
    data = _literal_signed(TOKEN, 1_800_000_000, '{"id":42,"first_name":"A"}')
    with pytest.raises(auth.InitDataError) as exc:
        auth.validate(mutate(data), TOKEN, 1_800_000_100, 3600)
    assert exc.value.reason == reason


def test_validate_refuses_another_bots_token_and_old_or_future_dates():
    data = _literal_signed(TOKEN, 1_800_000_000, '{"id":42}')
    with pytest.raises(auth.InitDataError, match="bad_hash"):
        auth.validate(data, "987:other-bot", 1_800_000_100, 3600)
    with pytest.raises(auth.InitDataError, match="expired"):
        auth.validate(data, TOKEN, 1_800_000_000 + 3601, 3600)
    with pytest.raises(auth.InitDataError, match="expired"):
        auth.validate(data, TOKEN, 1_800_000_000 - 600, 3600)
    assert auth.from_header("tma abc") == "abc" and auth.from_header("Bearer abc") == "" and auth.from_header(None) == ""


# --- the API -------------------------------------------------------------------------------------

@asynccontextmanager
async def console_client(core, reps_per_team: int, customers_per_rep: int):
    """Two seeded teams and a test client of the console's real aiohttp app: (client, seeded, core)."""
    seeded = core.db.call(seed, core.config, core.clock.now(), teams=2, reps_per_team=reps_per_team,
                          customers_per_rep=customers_per_rep)
    client = TestClient(TestServer(build_app(core, TOKEN)))
    await client.start_server()
    try:
        yield client, seeded, core
    finally:
        await client.close()


@pytest.fixture
async def api(core):
    async with console_client(core, reps_per_team=3, customers_per_rep=10) as ready:
        yield ready


def headers(core, tg_id: int, token: str = TOKEN, age_s: int = 0) -> dict[str, str]:
    now = core.clock.now().replace(tzinfo=timezone.utc).timestamp()
    data = auth.sign(token, {"id": tg_id, "first_name": "x", "language_code": "zh-hans"}, auth_date=int(now) - age_s)
    return {"Authorization": f"tma {data}"}


async def get(client, path, hdrs, status=200):
    resp = await client.get(path, headers=hdrs)
    body = await resp.json()
    assert resp.status == status, (path, resp.status, body)
    assert resp.headers["Cache-Control"] == "no-store"
    return body


async def test_me_for_each_role_and_refusals(api):
    client, s, core = api
    a, b = s.teams
    me = await get(client, "/api/app/me", headers(core, a.manager_tg))
    assert (me["role"], me["team"]["id"], me["language"]) == ("manager", a.id, "zh")
    assert [t["id"] for t in me["teams"]] == [a.id] and me["texts"]["funnel"] == "销售漏斗"
    rep = await get(client, "/api/app/me", headers(core, b.reps[0][1]))
    assert (rep["role"], rep["team"]["id"], rep["teams"]) == ("rep", b.id, [])
    admin = await get(client, "/api/app/me", headers(core, s.admin_tg))
    assert admin["role"] == "admin" and {t["id"] for t in admin["teams"]} == {a.id, b.id}
    # Missing, another scheme, another bot's token, too old, a stranger.
    assert (await get(client, "/api/app/me", {}, 401))["error"] == "unauthorized"
    await get(client, "/api/app/me", {"Authorization": "Bearer x"}, 401)
    await get(client, "/api/app/me", headers(core, a.manager_tg, token="987:other"), 401)
    old = core.config.console.auth_max_age_seconds + 5
    body = await get(client, "/api/app/me", headers(core, a.manager_tg, age_s=old), 401)
    assert "expired" in body["reason"]
    forged = headers(core, a.manager_tg)["Authorization"].replace("%22id%22%3A1000", "%22id%22%3A1")
    await get(client, "/api/app/dashboard", {"Authorization": forged}, 401)
    assert (await get(client, "/api/app/me", headers(core, 424242), 403))["error"] == "not_a_member"


def expected_funnel(config, rows):
    """reached[i] = customers whose furthest stage is i or later (won counts past the last stage)."""
    ids = [st.id for st in config.stages]
    furthest = Counter(len(ids) if status == "won" else ids.index(stage) for stage, status in rows)
    current = Counter(stage for stage, status in rows if status == "open")
    reached = [sum(n for i, n in furthest.items() if i >= k) for k in range(len(ids) + 1)]
    return reached, current


async def test_funnel_numbers_for_manager_and_rep(api):
    client, s, core = api
    a, _ = s.teams
    body = await get(client, f"/api/app/funnel", headers(core, a.manager_tg))
    reached, current = expected_funnel(core.config, [(st, stat) for t, _, st, stat in s.customers if t == a.id])
    assert [x["reached"] for x in body["stages"]] == reached[:-1]
    assert body["won"] == reached[-1]
    assert [x["current"] for x in body["stages"]] == [current.get(st.id, 0) for st in core.config.stages]
    first = body["stages"][0]
    assert first["conversion"] == round(100.0 * reached[1] / reached[0], 1)
    assert first["expected_days"] == core.config.stages[0].expected_days
    assert all(x["median_days"] is None or x["median_days"] >= 0 for x in body["stages"])
    if body["bottleneck"]:
        worst = max(body["stages"], key=lambda x: x["stalled"])
        assert body["bottleneck"]["stalled"] == worst["stalled"] > 0
    # A rep's funnel is their own customers only.
    rep_id, rep_tg, _ = a.reps[1]
    mine = await get(client, "/api/app/funnel", headers(core, rep_tg))
    reached, _ = expected_funnel(core.config, [(st, stat) for t, o, st, stat in s.customers if o == rep_id])
    assert mine["scope"] == "mine" and [x["reached"] for x in mine["stages"]] == reached[:-1]
    # The period filter counts customers created since then: fewer or equal, never more.
    week = await get(client, "/api/app/funnel?period=week", headers(core, a.manager_tg))
    assert week["stages"][0]["reached"] <= body["stages"][0]["reached"]
    await get(client, "/api/app/funnel?period=decade", headers(core, a.manager_tg), 400)


async def test_team_scoping(api):
    client, s, core = api
    a, b = s.teams
    assert (await get(client, f"/api/app/funnel?team={b.id}", headers(core, a.manager_tg), 404))["error"] == "not_found"
    await get(client, f"/api/app/funnel?team={b.id}", headers(core, a.reps[0][1]), 404)
    await get(client, f"/api/app/funnel?team=abc", headers(core, a.manager_tg), 400)
    assert (await get(client, f"/api/app/funnel?team={b.id}", headers(core, s.admin_tg)))["team_id"] == b.id
    await get(client, "/api/app/funnel?team=999999", headers(core, s.admin_tg), 404)
    # Another team's rep and customer are 404 for a manager; a teammate's for a rep.
    await get(client, f"/api/app/reps/{b.reps[0][0]}", headers(core, a.manager_tg), 404)
    await get(client, f"/api/app/reps/{a.reps[1][0]}", headers(core, a.reps[0][1]), 404)
    await get(client, "/api/app/reps/abc", headers(core, a.manager_tg), 400)
    ids = core.db.call(lambda ses: {(t, o): cid for cid, t, o in ses.execute(
        text("SELECT id, team_id, owner_id FROM customer"))})
    other_team = next(cid for (t, o), cid in ids.items() if t == b.id)
    teammate = next(cid for (t, o), cid in ids.items() if o == a.reps[1][0])
    own = next(cid for (t, o), cid in ids.items() if o == a.reps[0][0])
    await get(client, f"/api/app/customers/{other_team}", headers(core, a.manager_tg), 404)
    await get(client, f"/api/app/customers/{teammate}", headers(core, a.reps[0][1]), 404)
    await get(client, f"/api/app/customers/999999", headers(core, a.manager_tg), 404)
    assert (await get(client, f"/api/app/customers/{own}", headers(core, a.reps[0][1])))["id"] == own
    assert (await get(client, f"/api/app/customers/{other_team}", headers(core, s.admin_tg)))["id"] == other_team


async def test_board_is_the_group_posts_ranking(api):
    from services import boards
    client, s, core = api
    a, _ = s.teams
    body = await get(client, "/api/app/board?kind=weekly", headers(core, a.manager_tg))
    ranked = core.db.call(boards.compute, core.config, a.id, "weekly", core.clock.now())
    assert [(r["user_id"], r["rank"], r["share"]) for r in body["rows"]] == \
        [(r.user_id, r.rank, r.share) for g in ranked.groups for r in g.rows]
    assert body["full"] is True and len(body["rows"]) == 3
    # A rep sees the public rows and their own, never the whole list's bottom unless it is theirs.
    last = max((r for r in body["rows"]), key=lambda r: (r["size"] - r["rank"] == 0, r["rank"]))
    viewer = next(rep for rep in a.reps if rep[0] != last["user_id"])
    seen = await get(client, "/api/app/board", headers(core, viewer[1]))
    ids = {r["user_id"] for r in seen["rows"]}
    assert viewer[0] in ids and seen["full"] is False
    if last["size"] > 1:
        assert last["user_id"] not in ids or last["user_id"] in seen["improved"]
    await get(client, "/api/app/board?kind=yearly", headers(core, a.manager_tg), 400)


async def test_rep_drill_down_and_customers(api):
    client, s, core = api
    a, _ = s.teams
    rep_id, rep_tg, name = a.reps[0]
    body = await get(client, f"/api/app/reps/{rep_id}", headers(core, a.manager_tg))
    assert body["name"] == name and len(body["dimensions"]) == len(core.config.dimensions)
    weakest = min(body["dimensions"], key=lambda d: (d["score"], [x.id for x in core.config.dimensions].index(d["id"])))
    assert body["weakest"]["id"] == weakest["id"] and body["weakest"]["hint"]
    assert body["timeline"] and all(t["at"] for t in body["timeline"])
    opened = sum(1 for t, o, st, stat in s.customers if o == rep_id and stat == "open")
    assert sum(x["count"] for x in body["by_stage"]) == opened == len(body["customers"])
    assert (await get(client, f"/api/app/reps/{rep_id}", headers(core, rep_tg)))["id"] == rep_id
    # Risk filter: every row carries the flag and the count matches.
    team = await get(client, "/api/app/customers?risk=overdue", headers(core, a.manager_tg))
    overdue = await get(client, "/api/app/customers?risk=overdue", headers(core, a.manager_tg))
    assert len(overdue["customers"]) == team["risk_counts"]["overdue"]
    assert all("overdue" in c["risks"] for c in overdue["customers"])
    quote_ = await get(client, "/api/app/customers?stage=quote", headers(core, a.manager_tg))
    assert all(c["stage"] == "quote" for c in quote_["customers"])
    await get(client, "/api/app/customers?risk=weird", headers(core, a.manager_tg), 400)
    await get(client, "/api/app/customers?stage=nope", headers(core, a.manager_tg), 400)
    # A customer's story.
    cid = overdue["customers"][0]["id"] if overdue["customers"] else team["customers"][0]["id"]
    story = await get(client, f"/api/app/customers/{cid}", headers(core, a.manager_tg))
    assert story["activities"] and story["stage_moves"] and story["owner_history"][0]["kind"] == "create"


async def test_dashboard_first_screen_and_the_page(api):
    client, s, core = api
    a, _ = s.teams
    body = await get(client, "/api/app/dashboard?period=month", headers(core, a.manager_tg))
    assert body["funnel"]["period"] == "month" and body["board"]["rows"] and "mine" not in body
    rep_view = await get(client, "/api/app/dashboard", headers(core, a.reps[0][1]))
    assert rep_view["mine"]["balance"] > 0 and rep_view["funnel"]["scope"] == "mine"
    resp = await client.get("/app/")
    html = await resp.text()
    assert resp.status == 200 and "telegram-web-app.js" in html
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    for path in ("/app/static/app.js", "/app/static/app.css", "/app/static/vendor/chart.umd.min.js",
                 "/app/static/vendor/telegram-web-app.js"):
        assert (await client.get(path)).status == 200, path
    assert (await client.get("/app/static/../server.py")).status in (403, 404)
    resp = await client.get("/app", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/app/"


async def test_bad_input_gets_a_clear_answer_never_a_500(api):
    client, s, core = api
    a, _ = s.teams
    h = headers(core, a.manager_tg)
    huge = "9" * 30
    for path, status in ((f"/api/app/customers/{huge}", 404), (f"/api/app/reps/{huge}", 404), ("/api/app/customers/-1", 404),
                         (f"/api/app/funnel?team={huge}", 404), (f"/api/app/customers?owner={huge}", 404),
                         ("/api/app/customers/1e3", 400), ("/api/app/customers?owner=x", 400), ("/api/app/funnel?team=%00", 400)):
        body = await get(client, path, h, status)
        assert body["error"] in ("not_found", "bad_parameter"), (path, body)
    for body, status in (({"draft_id": 10**30, "scope": "all"}, 404), ({"draft_id": True, "scope": "all"}, 400),
                         ({"draft_id": 1, "scope": f"team:{huge}"}, 404), ({"draft_id": "1"}, 400)):
        resp = await client.post("/api/app/playbook/publish", headers=h, json=body)
        assert resp.status == status, (body, resp.status, await resp.text())
    resp = await client.post("/api/app/playbook/rollback", headers=h, json={"number": 10**30, "scope": f"team:{a.id}"})
    assert resp.status == 404


def test_no_chromium_is_reported_with_the_reason(monkeypatch, tmp_path):
    from console import browser
    monkeypatch.setattr(browser, "CANDIDATES", ())
    monkeypatch.setenv("SALESBOT_CHROMIUM", str(tmp_path / "none"))
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    path, why = browser.find_chromium()
    assert path is None and "chromium-headless-shell" in why and "skipped" in why
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SALESBOT_CHROMIUM", str(fake))
    assert browser.find_chromium() == (str(fake), "")
