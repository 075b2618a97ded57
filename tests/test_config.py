"""config.yaml loading: defaults, validation messages naming key and value, exit status 2 from commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.config import Config, iter_config_keys, load_config, parse_config
from crawler.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.database_url == f"sqlite:///{(REPO / 'var' / 'touthunt.sqlite').resolve()}"
    assert config.scoring.hit_threshold == 50


def test_defaults_when_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("", encoding="utf-8")
    config = load_config(path)
    assert config.network.proxy == ""
    assert config.sources == ()
    assert config.var_dir == tmp_path.resolve() / "var"


def test_source_defaults() -> None:
    config = parse_config({"sources": [{"name": "hub", "start_urls": ["http://a.example.com/"]}]})
    source = config.sources[0]
    assert (source.kind, source.max_depth, source.follow_external_hops, source.obey_robots) == ("site", 2, 0, True)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"sources": [{"name": "a", "start_urls": ["http://x.cn/"], "max_depth": -1}]},
         "sources[0].max_depth: -1 is not allowed"),
        ({"network": {"timout_seconds": 3}}, "network.timout_seconds: unknown key"),
        ({"sources": [{"name": "a"}]}, "sources[0].start_urls: a source of kind site needs at least one start URL"),
        ({"scoring": {"hit_threshold": "high"}}, "scoring.hit_threshold: 'high' is not allowed"),
        ({"network": {"proxy": "socks5://x:1"}}, "network.proxy: 'socks5://x:1' is not allowed"),
        ({"sources": [{"name": "a", "start_urls": ["ftp://x/"]}]},
         "sources[0].start_urls: ['ftp://x/'] is not allowed: 'ftp://x/' is not an http(s) URL"),
        ({"sources": [{"name": "a", "start_urls": ["http://x/"], "schedule": "daily"}]},
         "sources[0].schedule: 'daily' is not allowed: cron text needs 5 fields"),
        ({"sources": [{"name": "a", "start_urls": ["http://x/"]}, {"name": "a", "start_urls": ["http://y/"]}]},
         "sources[1].name: 'a' is used by two sources"),
        ({"database": {"url": "not a url"}}, "database.url: 'not a url' is not allowed"),
    ],
)  # fmt: skip
def test_errors_name_key_and_value(data: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data, origin="config.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("config.yaml: ")


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("network:\n  proxy: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+ column \d+: malformed YAML"):
        load_config(path)


def test_top_level_must_be_mapping() -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        parse_config(["a"])


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"database": {"url_env": "TOUTHUNT_TEST_DB"}})
    monkeypatch.delenv("TOUTHUNT_TEST_DB", raising=False)
    with pytest.raises(ConfigError, match=r"database\.url_env: environment variable 'TOUTHUNT_TEST_DB' is not set"):
        _ = config.database_url
    monkeypatch.setenv("TOUTHUNT_TEST_DB", "sqlite:////tmp/elsewhere.sqlite")
    assert config.database_url == "sqlite:////tmp/elsewhere.sqlite"


def test_every_key_has_help_text() -> None:
    for key, help_text in iter_config_keys(Config):
        assert help_text, f"{key} has no description"


def test_bad_config_exits_2_with_one_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: a\n    start_urls: ['http://x.cn/']\n    max_depth: deep\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "hits", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "sources[0].max_depth: 'deep' is not allowed" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "--config", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "config file not found" in result.stderr
