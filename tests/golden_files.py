"""Golden-file comparison shared by tests: compare bytes with a file under tests/golden/, or rewrite the file
when the environment variable TOUTHUNT_UPDATE_GOLDEN=1 is set (then review the diff before committing)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).with_name("golden")


def assert_golden(name: str, actual: bytes) -> None:
    path = GOLDEN_DIR / name
    if os.environ.get("TOUTHUNT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"golden file {path} is missing; run with TOUTHUNT_UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(),
            actual.decode("utf-8", "replace").splitlines(),
            "expected",
            "actual",
            lineterm="",
        )
        raise AssertionError(f"{name} differs from its golden file:\n" + "\n".join(list(diff)[:80]))
