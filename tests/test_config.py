import tomllib
from pathlib import Path

import pytest

from core.config import ConfigError, Settings, load_config

DEFAULT = Path(__file__).resolve().parents[1] / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def with_change(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, text.replace(old, new, 1))


def test_default_playbook_is_the_article_funnel():
    config = load_config(DEFAULT)
    assert [s.name for s in config.stages] == ["线索获取", "初次接触", "需求挖掘", "方案报价", "商务谈判", "签约", "回款"]
    assert config.team.timezone == "Asia/Shanghai"
    needs = config.stage("needs")
    assert "main_product" in needs.required_fields
    assert {i.id: i.points for i in needs.checklist}["needs_analysis"] == 10
    assert {i.id: i.points for i in config.stage("quote").checklist}["tech_meeting"] == 15


@pytest.mark.parametrize("old,new,key,expect", [
    ('brief_time = "08:30"', 'brief_time = "25:00"', "schedule.brief_time", "HH:MM"),
    ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', "team.timezone", "IANA"),
    ('expected_days = 7', 'expected_days = "seven"', "stages.2.expected_days", "integer"),
    ('protect_days = 10 ', 'protect_dayz = 10 ', "pool.protect_dayz", "unknown key"),
    ('required_fields = ["main_product", "size", "budget"]', 'required_fields = ["main_prodcut"]',
     "required_fields", "unknown field 'main_prodcut'"),
    ('leaderboard_weekly_day = "fri"', 'leaderboard_weekly_day = "friday"', "schedule.leaderboard_weekly_day", "mon, tue"),
])
def test_bad_config_names_key_value_and_expectation(tmp_path, old, new, key, expect):
    path = with_change(tmp_path, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert key in message, message
    assert expect in message, message


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "stages = [[["))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_cli_refuses_bad_config_with_exit_2(tmp_path, capsys):
    from cli.main import main
    path = with_change(tmp_path, 'brief_time = "08:30"', 'brief_time = 830')
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "schedule.brief_time = 830" in err


def test_settings_from_env_secrets_never_in_config():
    s = Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
                           "SALESBOT_ADMIN_IDS": "42, 43"})
    assert s.token == "1:abc"
    assert s.api_file_url == "http://127.0.0.1:8081/file/bot"
    assert s.admin_ids == (42, 43)
    assert s.database_url.startswith("sqlite:///") and "/data/" in s.database_url
    assert_no_secret_values(tomllib.loads(DEFAULT.read_text(encoding="utf-8")))


def assert_no_secret_values(node, path="") -> None:
    """Keys about tokens/secrets/passwords may only name an environment variable, never hold one."""
    if isinstance(node, dict):
        for key, value in node.items():
            lowered = key.lower()
            if any(word in lowered for word in ("token", "secret", "password")):
                assert lowered.endswith("_env") and isinstance(value, str) and value.isupper(), f"{path}{key}"
            assert_no_secret_values(value, f"{path}{key}.")
    elif isinstance(node, list):
        for item in node:
            assert_no_secret_values(item, path)
