"""The README documents every configuration key and starts with the two set-up commands."""

from __future__ import annotations

from pathlib import Path

from crawler.config import iter_config_keys

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_config_key_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    reference = text.split("## Configuration reference", 1)[1]
    missing = [key for key, _help in iter_config_keys() if f"`{key}`" not in reference]
    assert not missing, f"undocumented config keys: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    head = README.read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert "make demo" in head
    assert "make test" in head
