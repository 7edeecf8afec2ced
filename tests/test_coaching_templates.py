"""Industry playbook templates (issue 16): each is a complete playbook validated by the running
bot's schema; `salesbot playbook init` writes one and never overwrites; bad templates are refused."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import templates
from core.config import ConfigError, load_config

SHIPPED = ("education", "industrial", "saas", "medical")


def salesbot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_at_least_four_templates_ship():
    assert set(SHIPPED) <= set(templates.names())


@pytest.mark.parametrize("name", SHIPPED)
def test_each_template_is_a_complete_valid_playbook(name, tmp_path):
    target = tmp_path / "config.toml"
    templates.init(name, target)
    config = load_config(target)            # the same loader and schema the bot starts with
    assert len(config.stages) >= 5
    for stage in config.stages:
        assert stage.checklist and stage.scripts and stage.materials, stage.id
        assert stage.stall_days, stage.id
    assert len(config.objections) >= 4 and all(o.script for o in config.objections.values())
    assert len(config.competitors) >= 2 and all(c.counter_scripts for c in config.competitors)
    assert len(config.lost_reasons) >= 4
    assert abs(sum(config.kpi.weights.values()) - 1) < 1e-9 and config.points.contract_signed > 0
    assert any(i.points for s in config.stages for i in s.checklist)
    assert config.anticheat.cross_department_items  # the cross-department step exists in this template


def test_init_writes_then_refuses_to_overwrite(tmp_path):
    done = salesbot("playbook", "init", "--template", "saas", "--team", "新团队", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "config.toml").read_bytes()
    assert load_config(tmp_path / "config.toml").team.name == "新团队"
    again = salesbot("playbook", "init", "--template", "medical", cwd=tmp_path)
    assert again.returncode == 1 and "already exists and was not changed" in again.stderr
    assert "--output config.draft.toml" in again.stderr
    assert (tmp_path / "config.toml").read_bytes() == written
    draft = salesbot("playbook", "init", "--template", "medical", "--output", "config.draft.toml", cwd=tmp_path)
    assert draft.returncode == 0 and load_config(tmp_path / "config.draft.toml").stage("evaluation") is not None


def test_unknown_empty_and_broken_templates_are_clear_errors_and_write_nothing(tmp_path):
    unknown = salesbot("playbook", "init", "--template", "fishing", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown template 'fishing'" in unknown.stderr and "education" in unknown.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing here\n", encoding="utf-8")
    result = salesbot("playbook", "init", "--template", str(empty), cwd=tmp_path)
    assert result.returncode == 2 and "the template is empty" in result.stderr and "Traceback" not in result.stderr
    # A broken stage reference: a dimension that scores moves into a stage that does not exist.
    text = templates.path_of("education").read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('stages = ["trial"]', 'stages = ["trail"]', 1), encoding="utf-8")
    result = salesbot("playbook", "init", "--template", str(broken), cwd=tmp_path)
    assert result.returncode == 2 and "dimensions[0].stages: unknown stage 'trail'" in result.stderr
    # … and a required field that no stage or custom field declares.
    with pytest.raises(ConfigError) as info:
        bad = tmp_path / "bad_field.toml"
        bad.write_text(text.replace('required_fields = ["course", "learner"]', 'required_fields = ["course", "grade"]'),
                       encoding="utf-8")
        templates.init(str(bad), tmp_path / "never.toml")
    assert "stages.1.required_fields" in str(info.value) or "unknown field 'grade'" in str(info.value)
    assert not (tmp_path / "config.toml").exists() and not (tmp_path / "never.toml").exists()
