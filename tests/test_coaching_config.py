"""The coaching parts of the playbook (issue 16): lost reasons, competitors, stall days, [coaching]."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import DEFAULT_CONFIG_PATH, ConfigError, load_config
from services import competitors as comp_svc

BASE = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")


def write(tmp_path: Path, extra: str, base: str = BASE) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(base + "\n" + extra, encoding="utf-8")
    return path


def test_shipped_playbook_has_the_coaching_sections():
    config = load_config()
    assert [r.id for r in config.lost_reasons][:2] == ["price", "competitor"]
    assert {c.id for c in config.competitors} == {"kingsoft_crm", "xiaoyun", "dingxiao"}
    assert config.stall_limit("quote") == 7 and config.coaching.escalate_after_days == 3


def test_a_competitor_name_of_5000_characters_is_a_clear_error(tmp_path):
    path = write(tmp_path, f'[[competitors]]\nid = "huge"\nname = "{"竞" * 5000}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "competitors.3.name" in message and "at most 40 characters" in message
    assert len(message) < 600, "the 5,000 characters are not echoed back"
    # The command a manager runs says the same and exits non-zero; the file is left as it was.
    before = path.read_bytes()
    run = subprocess.run([sys.executable, "-m", "cli.main", "check-config", str(path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and "competitors.3.name" in run.stderr and "Traceback" not in run.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("extra, key", [
    ('[[competitors]]\nid = "x1"\nname = "小云"\n', "both 'xiaoyun' and 'x1'"),            # an alias of another
    ('[[competitors]]\nid = "x2"\nname = "某厂"\naliases = ["某"]\n', "at least 2 characters"),
    ('[[competitors]]\nid = "x3"\nname = "   "\n', "expected a name"),
    ('[[competitors]]\nid = "xiaoyun"\nname = "别的"\n', "duplicate competitor id"),
    ('[[competitors]]\nid = "x4"\nname = "某厂"\nprice_level = "cheap"\n', "competitors.3.price_level"),
    ('[[lost_reasons]]\nid = "price"\nlabel = "又一个"\n', "duplicate reason id"),
])
def test_bad_competitors_and_reasons_are_refused(tmp_path, extra, key):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, extra))
    assert key in str(info.value)


def test_bad_stall_days_and_coaching_keys(tmp_path):
    base = BASE.replace("stall_days = 7 ", "stall_days = 0 ", 1)
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "", base=base))
    assert "stages.3.stall_days" in str(info.value)
    base = BASE.replace('review_day = "fri"', 'review_day = "friday"')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "", base=base))
    assert "coaching.review_day" in str(info.value)


def test_alias_matching_is_case_and_width_insensitive_and_bounded():
    config = load_config()
    assert comp_svc.mentioned(config, "他们也在看ＪＳＰ　ｃｒｍ和钉销") == ["kingsoft_crm", "dingxiao"]
    assert comp_svc.mentioned(config, "xiaoyun?") == ["xiaoyun"]
    assert comp_svc.mentioned(config, "没有提到任何人") == []
    # A name past the scanned prefix is not read: the work per text is bounded.
    assert comp_svc.mentioned(config, "哈" * comp_svc.MAX_SCAN + "小云") == []
