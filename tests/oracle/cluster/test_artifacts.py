"""Model blobs for the Ray object store: packed with every file's digest, unpacked once per
node after every hash is checked; anything altered is refused with the file named."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from circuits import manifest_sha256
from oracle.cluster.artifacts import (
    ArtifactShipError,
    cached_model,
    pack_model_dir,
    unpack_model,
)


def _model_dir(tmp_path: Path) -> Path:
    d = tmp_path / "model"
    d.mkdir()
    model, r1cs = b"onnx bytes", b"r1cs bytes"
    import hashlib

    manifest = {
        "model": {"file": "model.onnx", "sha256": hashlib.sha256(model).hexdigest()},
        "r1cs": {"file": "circuit.r1cs", "sha256": hashlib.sha256(r1cs).hexdigest()},
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    (d / "model.onnx").write_bytes(model)
    (d / "circuit.r1cs").write_bytes(r1cs)
    (d / "proving_key.bin").write_bytes(bytes(range(256)) * 4)
    return d


def _rewrite(blob: bytes, name: str, data: bytes) -> bytes:
    """The blob with member `name` replaced by `data` (digests.json left as it was)."""
    members = {}
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        for info in tar:
            f = tar.extractfile(info)
            assert f is not None
            members[info.name] = f.read()
    members[name] = data
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for n, content in members.items():
            info = tarfile.TarInfo(n)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def test_a_packed_model_unpacks_to_the_same_files_once(tmp_path: Path) -> None:
    d = _model_dir(tmp_path)
    sha, blob = pack_model_dir(d)
    assert sha == manifest_sha256(d)
    root = tmp_path / "node-cache"
    assert cached_model(sha, root) is None
    target = unpack_model(sha, blob, root)
    for f in d.iterdir():
        assert (target / f.name).read_bytes() == f.read_bytes()
    # A second actor of the node finds it and needs no blob at all.
    assert unpack_model(sha, b"", root) == target == cached_model(sha, root)
    assert [p.name for p in root.iterdir()] == [sha]  # no staging folder left behind


@pytest.mark.parametrize("name", ["proving_key.bin", "model.onnx", "manifest.json"])
def test_an_altered_file_is_refused_and_nothing_is_unpacked(tmp_path: Path, name: str) -> None:
    d = _model_dir(tmp_path)
    sha, blob = pack_model_dir(d)
    bad = _rewrite(blob, name, b"altered")
    root = tmp_path / "node-cache"
    with pytest.raises(ArtifactShipError, match=name.replace(".", r"\.")):
        unpack_model(sha, bad, root)
    assert cached_model(sha, root) is None


def test_a_file_that_does_not_match_the_manifest_is_refused(tmp_path: Path) -> None:
    """Digests recomputed for a swapped r1cs still disagree with the manifest's own hash."""
    d = _model_dir(tmp_path)
    (d / "circuit.r1cs").write_bytes(b"another circuit")
    sha, blob = pack_model_dir(d)
    with pytest.raises(ArtifactShipError, match=r"circuit\.r1cs is not the file the manifest"):
        unpack_model(sha, blob, tmp_path / "cache")


def test_a_blob_of_another_model_is_refused(tmp_path: Path) -> None:
    d = _model_dir(tmp_path)
    _, blob = pack_model_dir(d)
    with pytest.raises(ArtifactShipError, match="expected 0000"):
        unpack_model("00" * 32, blob, tmp_path / "cache")


def test_a_blob_with_a_path_member_is_refused(tmp_path: Path) -> None:
    d = _model_dir(tmp_path)
    sha, blob = pack_model_dir(d)
    with pytest.raises(ArtifactShipError, match="unexpected member"):
        unpack_model(sha, _rewrite(blob, "../escape", b"x"), tmp_path / "cache")


def test_a_directory_without_manifest_cannot_be_packed(tmp_path: Path) -> None:
    with pytest.raises(ArtifactShipError, match=r"no manifest\.json"):
        pack_model_dir(tmp_path)
