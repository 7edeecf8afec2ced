"""The playbook editor (低代码): drafts validated with config.toml's schema, diffs, immutable versions,
pilots and rollback, stranded customers, the change log, instances picking up changes, export/import."""
from __future__ import annotations

import copy
import tomllib

import pytest
from sqlmodel import select

from console import auth
from core.config import load_config
from services import playbook
from services.core import Core
from storage.db import Database
from storage.models import Customer, StageChange
from storage.models_console import PlaybookChange, PlaybookVersion
from tests.test_console_api import TOKEN, console_client, headers


@pytest.fixture
async def pb(core):
    async with console_client(core, reps_per_team=2, customers_per_rep=8) as ready:
        yield ready


def hdr(core, tg_id: int) -> dict[str, str]:
    return headers(core, tg_id)


async def call(client, method, path, headers, status=200, **kw):
    resp = await client.request(method, path, headers=headers, **kw)
    body = await resp.json()
    assert resp.status == status, (method, path, resp.status, body)
    return body


def with_new_item(data: dict, stage: str = "lead", item: str = "wechat_added", text: str = "加客户微信") -> dict:
    data = copy.deepcopy(data)
    for s in data["stages"]:
        if s["id"] == stage:
            s.setdefault("checklist", []).append({"id": item, "text": text, "points": 1})
    return data


def items(core, team_id: int, stage: str = "lead") -> list[str]:
    config = core.db.call(playbook.config_for, core, team_id, check_interval=0)
    return [i.id for i in config.stage(stage).checklist]


async def test_draft_validation_names_the_field(pb):
    client, s, core = pb
    a, _ = s.teams
    h = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", h)
    assert [v["number"] for v in over["versions"]] == [1] and over["draft"] is None
    assert [t["id"] for t in over["teams"]] == [a.id] and over["can_publish_all"] is False
    bad = await call(client, "PUT", "/api/app/playbook/draft", h, json={"toml": "stages = ["})
    assert not bad["valid"] and "TOML" in bad["errors"][0]["message"]
    data = over["active"]
    data["stages"][0]["expected_days"] = 0
    bad = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    assert {"path": "stages.0.expected_days", "message": "Input should be greater than or equal to 1"} in bad["errors"]
    data["stages"][0]["expected_days"] = 2
    data["stages"][1]["required_fields"] = ["no_such_field"]
    bad = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    assert bad["errors"][0]["path"] == "stages.1.required_fields" and "no_such_field" in bad["errors"][0]["message"]
    data["stages"][1]["required_fields"] = ["company"]
    data["telegram"]["listen_port"] = 9999
    bad = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    assert bad["errors"] == [{"path": "telegram", "message": "set on the server in config.toml (read at start), not in the editor"}]
    # A rep cannot edit; a publish of an invalid draft is refused with the errors.
    await call(client, "PUT", "/api/app/playbook/draft", hdr(core, a.reps[0][1]), 403, json={"data": data})
    refused = await call(client, "POST", "/api/app/playbook/publish", h, 422, json={"draft_id": bad["id"], "scope": f"team:{a.id}"})
    assert refused["errors"][0]["path"] == "telegram"
    await call(client, "PUT", "/api/app/playbook/draft", h, 415, data="x")
    await call(client, "PUT", "/api/app/playbook/draft", h, 400, json={"nothing": 1})


async def test_pilot_publish_diff_rollback_and_change_log(pb):
    client, s, core = pb
    a, b = s.teams
    h = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", h)
    draft = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": with_new_item(over["active"])})
    assert draft["valid"] and draft["against"] == 1
    assert {"path": "stages[lead].checklist[wechat_added]", "kind": "added", "old": None, "new": "•"} in draft["diff"]
    assert {"path": "stages[lead].checklist[wechat_added].text", "kind": "added", "old": None, "new": "加客户微信"} in draft["diff"]
    # A manager pilots in their own team only; everyone at once is an admin's call.
    await call(client, "POST", "/api/app/playbook/publish", h, 404, json={"draft_id": draft["id"], "scope": f"team:{b.id}"})
    await call(client, "POST", "/api/app/playbook/publish", h, 403, json={"draft_id": draft["id"], "scope": "all"})
    done = await call(client, "POST", "/api/app/playbook/publish", h, json={"draft_id": draft["id"], "scope": f"team:{a.id}"})
    assert done["number"] == 2 and done["teams"] == [a.id]
    assert "wechat_added" in items(core, a.id) and "wechat_added" not in items(core, b.id)
    # Another instance on the same database sees it without a restart.
    other = Core(db=Database(core.db.url), config=load_config(), clock=core.clock)
    assert "wechat_added" in other.db.call(playbook.config_for, other, a.id, check_interval=0).stage("lead").checklist[-1].id
    # Rollback republishes version 1 as version 3; version 2 stays as it was.
    v2 = core.db.call(lambda ses: ses.exec(select(PlaybookVersion).where(PlaybookVersion.number == 2)).one().toml)
    back = await call(client, "POST", "/api/app/playbook/rollback", h, json={"number": 1, "scope": f"team:{a.id}"})
    assert back["number"] == 3 and "wechat_added" not in items(core, a.id)
    versions = core.db.call(lambda ses: {v.number: (v.toml, v.source) for v in ses.exec(select(PlaybookVersion))})
    assert versions[3] == (versions[1][0], "rollback") and versions[2][0] == v2
    assert "wechat_added" not in other.db.call(playbook.config_for, other, a.id, check_interval=0).stage("lead").checklist[-1].id
    # The change log: who, when, what.
    over = await call(client, "GET", "/api/app/playbook", h)
    log = [(c["action"], c["scope"], c["number"], c["by"]) for c in over["changes"]]
    assert ("publish", f"team:{a.id}", 2, log[0][3]) in log and ("rollback", f"team:{a.id}", 3, log[0][3]) in log
    pub = next(c for c in over["changes"] if c["action"] == "publish")
    assert "stages[lead].checklist[wechat_added]" in pub["summary"] and pub["by"].endswith("经理")
    assert [t["version"] for t in over["teams"]] == [3]
    # The version file as TOML.
    resp = await client.get("/api/app/playbook/versions/2.toml", headers=h)
    assert resp.status == 200 and "wechat_added" in await resp.text()
    assert (await client.get("/api/app/playbook/versions/2.toml", headers=hdr(core, a.reps[0][1]))).status == 403
    assert (await client.get("/api/app/playbook/versions/99.toml", headers=h)).status == 404


async def test_admin_publishes_to_all_which_replaces_pilots(pb):
    client, s, core = pb
    a, b = s.teams
    admin = hdr(core, s.admin_tg)
    over = await call(client, "GET", "/api/app/playbook", admin)
    assert over["can_publish_all"] and {t["id"] for t in over["teams"]} == {a.id, b.id}
    d1 = await call(client, "PUT", "/api/app/playbook/draft", admin, json={"data": with_new_item(over["active"], item="pilot_a")})
    await call(client, "POST", "/api/app/playbook/publish", admin, json={"draft_id": d1["id"], "scope": f"team:{b.id}"})
    assert "pilot_a" in items(core, b.id) and "pilot_a" not in items(core, a.id)
    d2 = await call(client, "PUT", "/api/app/playbook/draft", admin, json={"data": with_new_item(over["active"], item="for_all")})
    await call(client, "POST", "/api/app/playbook/publish", admin, json={"draft_id": d2["id"], "scope": "all"})
    for team in (a.id, b.id):
        assert "for_all" in items(core, team) and "pilot_a" not in items(core, team)


async def test_a_publish_that_strands_customers_needs_a_mapping(pb):
    client, s, core = pb
    a, b = s.teams
    h = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", h)
    data = over["active"]
    gone = {i["id"] for st in data["stages"] if st["id"] == "needs" for i in st.get("checklist", [])}
    data["stages"] = [st for st in data["stages"] if st["id"] != "needs"]
    for d in data["dimensions"]:  # what referred to the removed stage's items goes too (the schema checks it)
        d["items"] = [i for i in d.get("items", []) if i not in gone]
        d["stages"] = [x for x in d.get("stages", []) if x != "needs"]
    ac = data.get("anticheat", {})
    ac["cross_department_items"] = [i for i in ac.get("cross_department_items", []) if i not in gone]
    ac["approval_actions"] = [a for a in ac.get("approval_actions", []) if a.split(":")[-1] not in gone | {"needs"}]
    ac["daily_caps"] = {k: v for k, v in ac.get("daily_caps", {}).items() if k.split(":")[-1] not in gone | {"needs"}}
    draft = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    assert draft["valid"], draft["errors"]
    in_needs = core.db.call(lambda ses: [c.id for c in ses.exec(select(Customer).where(
        Customer.team_id == a.id, Customer.stage == "needs", Customer.status == "open"))])
    assert in_needs, "the seed puts customers in every stage"
    refused = await call(client, "POST", "/api/app/playbook/publish", h, 409, json={"draft_id": draft["id"], "scope": f"team:{a.id}"})
    assert refused["stranded"][0]["id"] == "needs" and refused["stranded"][0]["customers"] == len(in_needs)
    await call(client, "POST", "/api/app/playbook/publish", h, 409,
               json={"draft_id": draft["id"], "scope": f"team:{a.id}", "mapping": {"stages": {"needs": "gone"}}})
    await call(client, "POST", "/api/app/playbook/publish", h, 400,
               json={"draft_id": draft["id"], "scope": f"team:{a.id}", "mapping": {"stages": ["x"]}})
    done = await call(client, "POST", "/api/app/playbook/publish", h,
                      json={"draft_id": draft["id"], "scope": f"team:{a.id}", "mapping": {"stages": {"needs": "quote"}}})
    assert done["moved"]["stages"] >= len(in_needs)
    stages = core.db.call(lambda ses: {c.id: c.stage for c in ses.exec(select(Customer).where(Customer.id.in_(in_needs)))})
    assert set(stages.values()) == {"quote"}
    moves = core.db.call(lambda ses: ses.exec(select(StageChange).where(StageChange.customer_id == in_needs[0],
                                                                         StageChange.from_stage == "needs",
                                                                         StageChange.to_stage == "quote")).all())
    assert moves
    # Team B never ran the new playbook: its customers in 需求挖掘 stay.
    assert core.db.call(lambda ses: ses.exec(select(Customer).where(Customer.team_id == b.id, Customer.stage == "needs")).first())


def test_cli_export_import_round_trip(core, tmp_path, monkeypatch, capsys):
    from cli.main import main
    monkeypatch.setenv("DATABASE_URL", core.db.url)
    out = tmp_path / "pb.toml"
    assert main(["playbook", "export", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert tomllib.loads(text)["stages"][0]["id"] == "lead"
    assert main(["playbook", "import", str(out)]) == 0
    assert "0 change(s) against version 1" in capsys.readouterr().out
    out.write_text(text.replace('text = "标注线索来源"', 'text = "标注线索来源（必填）"'), encoding="utf-8")
    assert main(["playbook", "import", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 change(s)" in printed and "stages[lead].checklist[tag_source].text" in printed
    out.write_text(text.replace("expected_days = 2", "expected_days = -1", 1), encoding="utf-8")
    assert main(["playbook", "import", str(out)]) == 1
    assert "stages.0.expected_days" in capsys.readouterr().out
    drafts = core.db.call(lambda ses: [c.action for c in ses.exec(select(PlaybookChange))])
    assert drafts.count("import") == 3 and "seed" in drafts
    assert main(["playbook", "export", "--version", "7"]) == 1


def test_console_link_is_signed_with_the_bots_token(monkeypatch, capsys):
    from urllib.parse import parse_qs, urlsplit

    from cli.main import main
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(["console-link", "4242", "--base", "http://127.0.0.1:9"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://127.0.0.1:9/app/#tgWebAppData=")
    data = parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]
    import time
    assert auth.validate(data, TOKEN, time.time(), 3600).tg_id == 4242
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    assert main(["console-link", "4242"]) == 2


async def test_a_pilot_versions_schedule_moves_that_teams_brief_only(pb):
    from datetime import datetime

    from scheduler.jobs import run_due_jobs
    client, s, core = pb
    a, b = s.teams
    h = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", h)
    data = copy.deepcopy(over["active"])
    data["schedule"]["brief_time"] = "09:30"
    data["schedule"]["quiet_start"] = "20:00"
    refused = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    assert refused["errors"] == [{"path": "schedule.quiet_start", "message": "set on the server in config.toml (read at start), not in the editor"}]
    data["schedule"]["quiet_start"] = over["active"]["schedule"]["quiet_start"]
    draft = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    await call(client, "POST", "/api/app/playbook/publish", h, json={"draft_id": draft["id"], "scope": f"team:{a.id}"})
    at_0835 = datetime(2026, 11, 26, 0, 35)  # Thursday 08:35 in Shanghai: after 08:30, before 09:30
    done = run_due_jobs(core, at_0835, only={"brief"})
    assert [slot for _, slot, status in done if status == "done"] == [f"{b.id}:2026-11-26T08:30"]
    done = run_due_jobs(core, datetime(2026, 11, 26, 1, 31), only={"brief"})
    assert [slot for _, slot, status in done if status == "done"] == [f"{a.id}:2026-11-26T09:30"]


async def test_two_publishes_at_once_both_land_in_order(pb):
    """On PostgreSQL the two transactions interleave; the lock on the default row orders them."""
    import asyncio
    client, s, core = pb
    a, b = s.teams
    admin = hdr(core, s.admin_tg)
    manager = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", admin)
    d1 = await call(client, "PUT", "/api/app/playbook/draft", admin, json={"data": with_new_item(over["active"], item="one")})
    d2 = await call(client, "PUT", "/api/app/playbook/draft", manager, json={"data": with_new_item(over["active"], item="two")})
    results = await asyncio.gather(
        call(client, "POST", "/api/app/playbook/publish", admin, json={"draft_id": d1["id"], "scope": f"team:{b.id}"}),
        call(client, "POST", "/api/app/playbook/publish", manager, json={"draft_id": d2["id"], "scope": f"team:{a.id}"}))
    assert sorted(r["number"] for r in results) == [2, 3]
    assert "two" in items(core, a.id) and "one" in items(core, b.id)


async def test_large_bodies_arrive_whole_and_oversized_ones_are_refused(pb):
    client, s, core = pb
    a, _ = s.teams
    h = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", h)
    data = copy.deepcopy(over["active"])
    data["stages"][0]["scripts"] = ["话术" * 15_000]  # ~180 KB of escaped JSON, sent in several chunks
    draft = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": data})
    assert draft["valid"] and any(d["path"] == "stages[lead].scripts" for d in draft["diff"])
    data["stages"][0]["scripts"] = ["话术" * 60_000]
    assert (await call(client, "PUT", "/api/app/playbook/draft", h, 413, json={"data": data}))["error"] == "too_large"


async def test_discarding_a_draft(pb):
    client, s, core = pb
    a, b = s.teams
    h = hdr(core, a.manager_tg)
    over = await call(client, "GET", "/api/app/playbook", h)
    draft = await call(client, "PUT", "/api/app/playbook/draft", h, json={"data": with_new_item(over["active"])})
    assert (await call(client, "GET", "/api/app/playbook", h))["draft"]["id"] == draft["id"]
    # Another team's manager cannot discard it; a rep cannot even look.
    await call(client, "DELETE", f"/api/app/playbook/draft/{draft['id']}", hdr(core, b.manager_tg), 404)
    await call(client, "GET", "/api/app/playbook", hdr(core, a.reps[0][1]), 403)
    assert (await call(client, "DELETE", f"/api/app/playbook/draft/{draft['id']}", h))["ok"] is True
    assert (await call(client, "GET", "/api/app/playbook", h))["draft"] is None
    await call(client, "DELETE", f"/api/app/playbook/draft/{draft['id']}", h, 404)  # already discarded
    await call(client, "POST", "/api/app/playbook/publish", h, 404, json={"draft_id": draft["id"], "scope": f"team:{a.id}"})
    log = [c["action"] for c in (await call(client, "GET", "/api/app/playbook", h))["changes"]]
    assert log[0] == "discard"
