"""Spreadsheet import and export: five messy sheets, the exact dry-run report, all-or-nothing apply, CLI."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError

from ingest import sheet_export
from ingest import sheets as sh
from ingest.assignment import lead_team
from services.customers import create_customer
from storage.models import Activity, Customer, FieldHistory, Outbox
from storage.models_ingest import ImportBatch
from tests.data.sheets.make_sheets import FILES, make_sheets
from tests.dbfaults import poison_inserts
from tests.test_ingest_batch import twin  # noqa: F401  (the fixture: a second, empty database)
from tests.test_ingest_support import sqlite_only, count, make_team, rows

EXPECTED = [
    ("官网线索.xlsx!线索#4", "new", "张伟", "张三"),
    ("官网线索.xlsx!线索#5", "new", "李娜", "李四"),
    ("官网线索.xlsx!线索#7", "new", "王芳", "张三"),
    ("官网线索.xlsx!线索#8", "invalid", "测试", "联系人：「测试」不是有效内容; 客户名称：「测试」不是有效内容"),
    ("外呼名单.xlsx!Sheet1#2", "duplicate", "张伟", "row 官网线索.xlsx!线索#4 (电话号码相同)"),
    ("外呼名单.xlsx!Sheet1#3", "invalid", "赵强", "电话：不是有效的电话号码"),
    ("外呼名单.xlsx!Sheet1#4", "duplicate", "钱多多", "row 官网线索.xlsx!线索#4 (同一集团/分子公司)"),
    ("外呼名单.xlsx!Sheet1#5", "new", "孙悟", "李四"),
    ("外呼名单.xlsx!Sheet1#6", "duplicate", "陈老板", "#{old} 陈总 owner 李四 (电话号码相同)"),
    ("展会名片.xlsx!第一天#2", "new", "周杰", "张三"),
    ("展会名片.xlsx!第一天#3", "invalid", "吴敏", "电话：电话和公司至少填写一项"),
    ("展会名片.xlsx!第一天#5", "new", "郑和", "李四"),
    ("展会名片.xlsx!第二天#2", "duplicate", "周杰", "row 展会名片.xlsx!第一天#2 (电话号码相同)"),
    ("展会名片.xlsx!第二天#3", "new", "冯雪", "张三"),
    ("转介绍.xlsx!名单#2", "new", "宏达机电", "张三"),                      # the owner column
    ("转介绍.xlsx!名单#3", "invalid", "瑞丰食品", "负责人：「王五」不在团队中"),
    ("转介绍.xlsx!名单#4", "duplicate", "蓝海", "row 官网线索.xlsx!线索#5 (同一集团/分子公司)"),
    ("转介绍.xlsx!名单#5", "new", "=1+1", "李四"),
    ("历史导出.xlsx!导出#4", "duplicate", "宏达机电", "row 转介绍.xlsx!名单#2 (同一集团/分子公司)"),
    ("历史导出.xlsx!导出#5", "duplicate", "老周", "#{old} 陈总 owner 李四 (电话号码相同)"),
    ("历史导出.xlsx!导出#6", "new", "新天地地产", "张三"),
    ("历史导出.xlsx!导出#7", "invalid", "", "客户名称：客户名称必填; 电话：电话和公司至少填写一项"),
]


@pytest.fixture
def world(core, tmp_path):
    admin, mgr, zhang, li = make_team(core, names=("张三", "李四"))
    old = core.db.call(create_customer, core.config, li.team_id,
                       {"name": "陈总", "company": "华南贸易有限公司", "phone": "13912340000"},
                       core.clock.now(), actor=li, owner_id=li.id).customer
    paths = make_sheets(tmp_path / "sheets")
    read = []
    for path in paths:
        read += sh.read_file(path.read_bytes(), path.name, core.config)
    return {"mgr": mgr, "zhang": zhang, "li": li, "old": old, "paths": paths, "rows": read}


def plan(core, read, user=None):
    def work(session):
        team = lead_team(session, core.config, core.clock.now())
        return sh.create_batch(session, core.config, team, user, read, FILES, "sha", core.clock.now())
    return core.db.call(work)


def expected(old_id):
    return [(w, s, n, d.replace("{old}", str(old_id))) for w, s, n, d in EXPECTED]


def test_five_messy_sheets_give_the_exact_dry_run_report(core, world):
    batch, planned = plan(core, world["rows"], world["mgr"])
    assert planned.summary() == expected(world["old"].id)
    assert planned.counts == {"total": 22, "new": 10, "duplicate": 7, "invalid": 5}
    # the dry run wrote nothing but the batch
    assert count(core, Customer) == 1 and count(core, Outbox) == 0
    text = sh.report_text(planned, "5 files", "zh")
    assert "共 22 行：✅ 新客户 10 · 🔁 重复 7 · ❌ 无效 5" in text
    assert "外呼名单.xlsx!Sheet1 第6行 陈老板：已存在（陈总，负责人 李四，电话号码相同）" in text
    assert "转介绍.xlsx!名单 第3行：负责人：「王五」不在团队中" in text
    assert "确认导入 10 个新客户？" in text
    assert len(text) <= 4096


def test_apply_imports_everything_in_one_transaction_with_history(core, world):
    mgr, zhang, li = world["mgr"], world["zhang"], world["li"]
    batch, planned = plan(core, world["rows"], mgr)
    result = core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    assert len(result.created) == 10
    customers = {c.name: c for c in rows(core, Customer)}
    assert customers["张伟"].owner_id == zhang.id and customers["张伟"].phone == "13800138000"
    assert customers["孙悟"].source == "外呼-被动响应" and customers["周杰"].source == "展会"
    assert customers["宏达机电"].contact == "何总" and customers["宏达机电"].custom["budget"] == 50000
    assert "采购:高频" in customers["宏达机电"].tags
    assert customers["新天地地产"].phone == "075588889999" and customers["王芳"].phone == "13700000011"
    assert customers["王芳"].industry == "教育" and customers["王芳"].source == "表格导入"
    history = rows(core, FieldHistory, FieldHistory.customer_id == customers["宏达机电"].id, FieldHistory.field == "phone")
    assert history[0].source == "import" and history[0].by_user_id == mgr.id
    assert history[0].source_ref == f"import:{batch.id}:转介绍.xlsx!名单#2"
    assert count(core, Activity, Activity.kind == "import") == 10
    # each owner hears once about their new customers
    notices = rows(core, Outbox, Outbox.kind == "notice")
    assert sorted(n.chat_id for n in notices) == sorted([zhang.tg_id, li.tg_id])
    assert core.db.call(lambda s: s.get(ImportBatch, batch.id)).status == "applied"
    # the same files again: every row that was new is now a duplicate of a customer with its owner
    _, again = plan(core, world["rows"], mgr)
    assert again.counts == {"total": 22, "new": 0, "duplicate": 17, "invalid": 5}
    first = again.rows[0]
    assert first.duplicate_of["owner"] == "张三" and first.duplicate_of["name"] == "张伟"
    # an applied batch cannot be applied twice
    with pytest.raises(LookupError):
        core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())


@sqlite_only
def test_leads_arriving_between_dry_run_and_confirm_keep_the_confirmed_owners(core, world):
    from ingest.assignment import record_choice
    mgr = world["mgr"]
    batch, planned = plan(core, world["rows"], mgr)
    shown = {item.name: item.owner_id for item in planned.of("new")}
    # an API lead moved the round robin meanwhile
    core.db.call(lambda s: record_choice(s, lead_team(s, core.config, core.clock.now()), world["zhang"],
                                         core.clock.now()))
    result = core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    assert {c.name: c.owner_id for c in result.created} == shown


def test_nothing_is_half_imported(core, world):
    mgr = world["mgr"]
    batch, _ = plan(core, world["rows"], mgr)
    # someone adds one of the customers after the dry run: the import refuses as a whole
    core.db.call(create_customer, core.config, mgr.team_id, {"name": "冯雪", "phone": "13844445555"},
                 core.clock.now(), actor=world["li"], owner_id=world["li"].id)
    with pytest.raises(sh.PlanChanged):
        core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    assert count(core, Customer) == 2 and count(core, FieldHistory, FieldHistory.source == "import") == 0
    # the database refuses a row in the middle (周杰 is the 5th new row, after 张伟, 李娜, 王芳, 孙悟):
    # the rows before it are rolled back with it
    batch, planned = plan(core, world["rows"], mgr)
    assert [item.name for item in planned.of("new")].index("周杰") == 4
    poison_inserts(core.db, "customer", "name", "周杰", "disk full")
    with pytest.raises(IntegrityError, match="disk full"):
        core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    assert count(core, Customer) == 2 and count(core, Activity, Activity.kind == "import") == 0
    assert count(core, Outbox) == 0


@sqlite_only
def test_expired_and_cancelled_batches(core, world):
    from datetime import timedelta
    mgr = world["mgr"]
    batch, _ = plan(core, world["rows"], mgr)
    assert not core.db.call(sh.cancel_batch, batch.id, world["zhang"], core.clock.now())   # not theirs
    assert core.db.call(sh.cancel_batch, batch.id, mgr, core.clock.now())
    with pytest.raises(LookupError):
        core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    batch, _ = plan(core, world["rows"], mgr)
    core.clock.advance(timedelta(minutes=core.config.ingest.import_confirm_minutes + 1))
    with pytest.raises(LookupError):
        core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    assert count(core, Customer) == 1


@pytest.mark.parametrize("content,name,expected_rows", [
    ("\ufeff姓名,电话,公司\n张三,13800000001,甲公司\n,,\n李四,13800000002,乙公司\n".encode(), "a.csv", 2),
    ("联系人\t手机\t单位\r\n王五\t13800000003\t丙公司\r\n".encode("gb18030"), "b.csv", 1),
    ("客户名称;联系电话\n丁;13800000004\n".encode(), "c.csv", 1),
])
def test_csv_encodings_and_delimiters(config, content, name, expected_rows):
    read = sh.read_file(content, name, config)
    assert len(read) == expected_rows
    assert all(r.values for r in read)


@pytest.mark.parametrize("content,name,reason", [
    (b"PK\x03\x04garbage", "x.xlsx", "not a readable XLSX"),
    (b"\x00\x01\x02\xff\xfe", "x.csv", "CSV"),
    (b"hello", "x.pdf", "unsupported file type"),
    ("foo,bar\n1,2\n".encode(), "x.csv", "no rows under a recognisable header"),
])
def test_unreadable_files_are_refused_in_words(config, content, name, reason):
    with pytest.raises(sh.SheetError) as info:
        sh.read_file(content, name, config)
    assert reason in str(info.value)


def test_too_many_rows(config):
    content = ("姓名,电话\n" + "".join(f"人{i},1380000{i:04d}\n" for i in range(30))).encode()
    with pytest.raises(sh.SheetError):
        sh.read_file(content, "big.csv", config, max_rows=20)


@sqlite_only
def test_export_has_customers_and_activities_and_is_formula_safe(core, world):
    mgr = world["mgr"]
    batch, _ = plan(core, world["rows"], mgr)
    core.db.call(sh.apply_batch, core, batch.id, mgr, core.clock.now())
    data, customers, activities = core.db.call(sheet_export.export_xlsx, core.config, mgr.team_id, core.clock.now())
    assert customers == 11 and activities >= 11
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["客户", "跟进记录"]
    sheet = book["客户"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["编号", "客户名称", "公司", "联系人", "电话"] and "主营产品" in header
    names = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=1+1" in names and "=1+1" not in names                       # never a live formula
    owners = {r[1]: r[11] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert owners["张伟"] == "张三" and owners["陈总"] == "李四"
    log = list(book["跟进记录"].iter_rows(min_row=2, values_only=True))
    assert len(log) == activities and {r[4] for r in log} >= {"create", "import"}


@sqlite_only
def test_cli_import_with_progress_bar_and_export(core, world, tmp_path, monkeypatch, capsys):
    import argparse

    from cli.main import build_parser
    from cli.sheets import ProgressBar, cmd_import
    monkeypatch.setenv("DATABASE_URL", core.db.url)
    args = build_parser().parse_args(["import", *map(str, world["paths"]), "--as", str(world["mgr"].tg_id)])
    answer = io.StringIO("y\n")
    assert cmd_import(args, stdin=answer) == 0
    out = capsys.readouterr()
    assert "共 22 行：✅ 新客户 10 · 🔁 重复 7 · ❌ 无效 5" in out.out and "imported 10 customers" in out.out
    assert "checking" in out.err and "importing" in out.err and "100% 10/10" in out.err
    assert count(core, Customer) == 11
    # the CLI refuses to import twice and says why
    assert cmd_import(args, stdin=io.StringIO("y\n")) == 0
    assert "没有可导入的新客户" in capsys.readouterr().out
    # a "no" writes nothing
    other = tmp_path / "one.csv"
    other.write_text("姓名,电话\n新人,13811112222\n", encoding="utf-8")
    assert cmd_import(build_parser().parse_args(["import", str(other)]), stdin=io.StringIO("n\n")) == 1
    assert count(core, Customer) == 11
    target = tmp_path / "out.xlsx"
    exit_code = build_parser().parse_args(["export", "-o", str(target)]).fn(argparse.Namespace(
        output=str(target), team=None, all=False))
    assert exit_code == 0 and load_workbook(target)["客户"].max_row == 12
    bar_out = io.StringIO()
    bar = ProgressBar("x", stream=bar_out, min_interval=0)
    for i in range(1, 5):
        bar(i, 4)
    assert bar_out.getvalue().endswith("[##############################] 100% 4/4\n")


def _apply_row_by_row(session, core, batch_id, user, now):
    """The reference: the import's apply as it was before it used the intake's batch writer —
    ``create_customer`` a row, then the extras history and the import activity (ORM objects)."""
    from ingest import assignment as assign
    from ingest.leads import extras_pairs
    from services.users import team_members
    from storage.models import Team, User
    config = core.config
    batch = session.get(ImportBatch, batch_id)
    team = session.get(Team, batch.team_id)
    plan_ = sh.plan_import(session, config, team, sh.rows_from_json(batch.rows), now)
    assert plan_.digest == batch.digest
    planned = {sh.SheetRow(e["file"], e["sheet"], e["row"], {}).where: e.get("planned_owner") for e in batch.rows}
    members = {u.id for u in team_members(session, team.id, roles=("rep", "manager", "admin"))}
    by_owner: dict[int, list[str]] = {}
    new_rows = plan_.of("new")
    for item in new_rows:
        if planned.get(item.where) in members:
            item.owner_id = planned[item.where]
        ref = f"import:{batch.id}:{item.where}"[:200]
        customer = create_customer(session, config, team.id, item.data, now, actor=user, owner_id=item.owner_id,
                                   source="import", source_ref=ref).customer
        customer.priority = assign.priority_of(config, None, item.data, item.extras)
        session.add(customer)
        for key, value in extras_pairs(item.extras, {"priority": str(customer.priority)}):
            session.add(FieldHistory(customer_id=customer.id, field=key, value=value, source="import", source_ref=ref,
                                     by_user_id=user.id, at=now))
        session.add(Activity(customer_id=customer.id, user_id=user.id, kind="import", at=now,
                             text=(item.extras.get("note") or batch.filenames)[:2000],
                             data={"batch": batch.id, "row": item.where}))
        if item.owner_id is not None:
            by_owner.setdefault(item.owner_id, []).append(customer.name)
    rr = [item.owner_id for item in new_rows if item.assigned_by == "round_robin" and item.owner_id is not None]
    if rr:
        assign.record_choice(session, team, session.get(User, rr[-1]), now)
    batch.status = "applied"
    session.add(batch)
    sh._notify_owners(session, batch, by_owner, user, now)
    session.flush()


def test_the_batch_writer_stores_what_row_by_row_creation_stored(core, world, twin):
    """apply_batch writes through the intake's batch writer (one statement per table, COPY on
    PostgreSQL): the same customers, history, activities, stage entries, grams, cursor and notices
    as creating the rows one by one with the ORM."""
    from tests.test_ingest_batch import snapshot
    admin, mgr, zhang, li = make_team(twin, names=("张三", "李四"))
    twin.db.call(create_customer, twin.config, li.team_id, {"name": "陈总", "company": "华南贸易有限公司",
                                                             "phone": "13912340000"},
                 twin.clock.now(), actor=li, owner_id=li.id)
    batch, planned = plan(core, world["rows"], world["mgr"])
    result = core.db.call(sh.apply_batch, core, batch.id, world["mgr"], core.clock.now())
    twin_batch, twin_planned = plan(twin, world["rows"], mgr)
    assert twin_planned.summary() == planned.summary()
    twin.db.call(_apply_row_by_row, twin, twin_batch.id, mgr, twin.clock.now())
    assert len(result.created) == 10
    assert snapshot(core) == snapshot(twin)
