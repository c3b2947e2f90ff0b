"""A model directory as one blob for the Ray object store, and its checked unpacking.

Layout of a blob: an uncompressed POSIX tar holding ``digests.json`` first (``{"files":
{name: sha256 hex}, "manifest_sha256": hex}``) and then every regular file of the model
directory at its top level. Proving keys barely compress, so the tar is not compressed.

A worker node unpacks a blob once into ``<cache>/<manifest sha256>/``: the files are
written to a temporary folder, every file's sha256 is checked against ``digests.json``,
``manifest.json``'s sha256 against the id the daemon asked for, and the model and
constraint-system hashes that the manifest itself records against the files; only then is
the folder renamed into place (atomic, so concurrent actors on one node never see a
half-written model and the second one to finish simply drops its copy).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import TypedDict

from oracle.errors import OracleError

DIGESTS = "digests.json"
MANIFEST = "manifest.json"
#: Where a node keeps unpacked models: ``$ZKORACLE_CACHE_DIR/ray-models`` or the user cache.
ENV_CACHE = "ZKORACLE_CACHE_DIR"


class ArtifactShipError(OracleError):
    """A model blob is malformed or its files do not match their recorded hashes."""


class Digests(TypedDict):
    files: dict[str, str]
    manifest_sha256: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pack_model_dir(model_dir: str | Path) -> tuple[str, bytes]:
    """(manifest sha256, blob) of every regular file at the top of `model_dir`."""
    d = Path(model_dir)
    manifest = d / MANIFEST
    if not manifest.is_file():
        raise ArtifactShipError(f"{d}: no {MANIFEST}; compile the model first")
    files = sorted(p for p in d.iterdir() if p.is_file() and p.name != DIGESTS)
    contents = {p.name: p.read_bytes() for p in files}
    digests: Digests = {
        "files": {name: _sha256(data) for name, data in contents.items()},
        "manifest_sha256": _sha256(contents[MANIFEST]),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in [(DIGESTS, json.dumps(digests).encode()), *contents.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return digests["manifest_sha256"], buffer.getvalue()


def cache_root() -> Path:
    base = os.environ.get(ENV_CACHE)
    root = Path(base) if base else Path.home() / ".cache" / "zkoracle"
    return root / "ray-models"


def unpacked_dir(manifest_sha256: str, root: Path | None = None) -> Path:
    """Where a node keeps the model whose manifest has this sha256 (may not exist yet)."""
    return (root or cache_root()) / manifest_sha256


def _read_members(blob: bytes) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tar:
            for info in tar:
                if not info.isfile() or "/" in info.name or info.name in ("", ".", ".."):
                    raise ArtifactShipError(f"model blob: unexpected member {info.name!r}")
                extracted = tar.extractfile(info)
                assert extracted is not None
                members[info.name] = extracted.read()
    except tarfile.TarError as exc:
        raise ArtifactShipError(f"model blob is not a valid tar: {exc}") from None
    return members


def check_members(members: dict[str, bytes], manifest_sha256: str) -> None:
    """Raise `ArtifactShipError` unless every file matches ``digests.json``, the manifest is
    the one asked for, and the files the manifest names have the hashes it records."""
    if DIGESTS not in members or MANIFEST not in members:
        raise ArtifactShipError(f"model blob lacks {DIGESTS} or {MANIFEST}")
    digests: Digests = json.loads(members.pop(DIGESTS))
    if set(digests["files"]) != set(members):
        raise ArtifactShipError("model blob: the file list does not match its digests")
    for name, data in members.items():
        if _sha256(data) != digests["files"][name]:
            raise ArtifactShipError(f"model blob: {name} does not match its sha256")
    if _sha256(members[MANIFEST]) != manifest_sha256:
        raise ArtifactShipError(
            f"model blob carries manifest {_sha256(members[MANIFEST])[:16]}..., "
            f"expected {manifest_sha256[:16]}..."
        )
    manifest = json.loads(members[MANIFEST])
    for key in ("model", "r1cs"):
        entry = manifest.get(key)
        if not isinstance(entry, dict) or "file" not in entry:
            continue
        name, want = str(entry["file"]), str(entry.get("sha256", ""))
        if name not in members or _sha256(members[name]) != want:
            raise ArtifactShipError(f"model blob: {name} is not the file the manifest records")


def cached_model(manifest_sha256: str, root: Path | None = None) -> Path | None:
    """The node's unpacked copy of the model, or None if this node has none yet."""
    target = unpacked_dir(manifest_sha256, root)
    if not (target / MANIFEST).is_file():
        return None
    if _sha256((target / MANIFEST).read_bytes()) != manifest_sha256:
        raise ArtifactShipError(f"{target}: the cached manifest does not match its name")
    return target


def unpack_model(manifest_sha256: str, blob: bytes, root: Path | None = None) -> Path:
    """Unpack and check `blob` into the node's cache (a no-op if it is there already)."""
    cached = cached_model(manifest_sha256, root)
    if cached is not None:
        return cached
    target = unpacked_dir(manifest_sha256, root)
    members = _read_members(blob)
    check_members(members, manifest_sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{manifest_sha256[:16]}-", dir=target.parent))
    try:
        for name, data in members.items():
            (staging / name).write_bytes(data)
        try:
            staging.rename(target)
        except OSError:  # another actor of this node finished first: keep its copy
            if not (target / MANIFEST).is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
