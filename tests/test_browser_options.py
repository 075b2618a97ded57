"""Chromium launch options come from the config: Debian's browser, no background traffic, the proxy."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.browser import launch_options
from crawler.config import parse_config
from crawler.errors import ConfigError


def test_options_name_the_configured_browser_and_proxy(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    config = parse_config({"browser": {"executable_path": str(browser)}, "network": {"proxy": "http://127.0.0.1:3128"}})
    options = launch_options(config)
    assert options["executable_path"] == str(browser)
    assert options["proxy"]["server"] == "http://127.0.0.1:3128"
    assert "--disable-background-networking" in options["args"]


def test_missing_browser_names_the_key_and_the_package(tmp_path: Path) -> None:
    config = parse_config({"browser": {"executable_path": str(tmp_path / "nope")}})
    with pytest.raises(ConfigError, match=r"browser\.executable_path: .* apt-get install chromium"):
        launch_options(config)
