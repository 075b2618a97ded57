"""Write-once evidence files and their manifests.

Every evidence file is written to a temporary name in its folder, flushed to disk, made read-only and then
hard-linked to its final name: the link fails if the name exists, so a file is never overwritten, and a
reader never sees half a file. The manifest (``evidence.json``) lists every file with its size and SHA-256;
its own SHA-256 goes into the database, so a changed or missing file, or a changed manifest, is detected.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_NAME = "evidence.json"
READ_ONLY = 0o444


class EvidenceFileError(Exception):
    """An evidence file could not be written (it exists already, or the disk refused)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_once(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` (which must not exist), read-only; returns its SHA-256."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, READ_ONLY)
        os.link(tmp, path)  # atomic, and refuses an existing name (unlike rename)
    except FileExistsError:
        raise EvidenceFileError(f"{path} already exists; evidence files are never overwritten") from None
    except OSError as exc:
        raise EvidenceFileError(f"cannot write {path}: {exc}") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return sha256_bytes(data)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as stored: sorted keys, UTF-8, a final newline (stable bytes for the same content)."""
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


@dataclass(frozen=True)
class FolderProblem:
    name: str
    problem: str  # missing | altered | unlisted | manifest_altered | manifest_missing | bad_manifest


def check_folder(folder: Path, manifest_sha256: str | None) -> list[FolderProblem]:
    """Re-hash a capture folder against its manifest (and the manifest against the stored hash)."""
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return [FolderProblem(MANIFEST_NAME, "manifest_missing")]
    problems = []
    if manifest_sha256 is not None and sha256_file(manifest_path) != manifest_sha256:
        problems.append(FolderProblem(MANIFEST_NAME, "manifest_altered"))
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = {f["name"]: f["sha256"] for f in manifest["files"]}
    except (ValueError, KeyError, TypeError):
        return [*problems, FolderProblem(MANIFEST_NAME, "bad_manifest")]
    for name, digest in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(FolderProblem(name, "missing"))
        elif sha256_file(path) != digest:
            problems.append(FolderProblem(name, "altered"))
    for path in sorted(folder.iterdir()):
        if path.name != MANIFEST_NAME and path.name not in files and not path.name.startswith("."):
            problems.append(FolderProblem(path.name, "unlisted"))
    return problems
