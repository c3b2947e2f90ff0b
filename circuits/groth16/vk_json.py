"""The snarkjs JSON layout of Groth16 verifying keys, as plain dicts (no file access).

Numbers are decimal strings and points projective with z = 1: G1 ``["x", "y", "1"]``, G2
``[["x_c0", "x_c1"], ["y_c0", "y_c1"], ["1", "0"]]`` (real part first). A key holds
``protocol``, ``curve``, ``nPublic``, ``vk_alpha_1``, ``vk_beta_2``, ``vk_gamma_2``,
``vk_delta_2`` and ``IC`` (``nPublic + 1`` G1 points). `circuits.formats.snarkjs_json`
reads and writes the files; a key directory reads its key through here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from circuits.errors import FormatError
from circuits.groth16.data import G1, G2, VerifyingKey


def g1_to_json(p: G1) -> list[str]:
    return [str(p[0]), str(p[1]), "1"]


def g2_to_json(p: G2) -> list[list[str]]:
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def int_from_json(v: Any, where: str) -> int:
    if not isinstance(v, str | int) or isinstance(v, bool):
        raise ValueError(f"{where}: expected a decimal string, got {v!r}")
    return int(v)


def g1_from_json(v: Any, where: str) -> G1:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise ValueError(f"{where}: expected a G1 point [x, y, z]")
    if len(v) == 3 and int_from_json(v[2], where) != 1:
        raise ValueError(f"{where}: only affine points (z = 1) are supported")
    return (int_from_json(v[0], where), int_from_json(v[1], where))


def g2_from_json(v: Any, where: str) -> G2:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise ValueError(f"{where}: expected a G2 point [[x0, x1], [y0, y1], [z0, z1]]")
    if len(v) == 3 and [int_from_json(c, where) for c in v[2]] != [1, 0]:
        raise ValueError(f"{where}: only affine points (z = 1) are supported")
    x, y = v[0], v[1]
    return (
        (int_from_json(x[0], where), int_from_json(x[1], where)),
        (int_from_json(y[0], where), int_from_json(y[1], where)),
    )


def vk_to_json(vk: VerifyingKey) -> dict[str, Any]:
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": g1_to_json(vk.alpha1),
        "vk_beta_2": g2_to_json(vk.beta2),
        "vk_gamma_2": g2_to_json(vk.gamma2),
        "vk_delta_2": g2_to_json(vk.delta2),
        "IC": [g1_to_json(p) for p in vk.ic],
    }


def vk_from_json(obj: Any, path: str = "<verification key>") -> VerifyingKey:
    try:
        if obj.get("protocol") not in ("groth16", "groth"):
            raise ValueError(f"protocol is {obj.get('protocol')!r}, expected 'groth16'")
        vk = VerifyingKey(
            alpha1=g1_from_json(obj["vk_alpha_1"], "vk_alpha_1"),
            beta2=g2_from_json(obj["vk_beta_2"], "vk_beta_2"),
            gamma2=g2_from_json(obj["vk_gamma_2"], "vk_gamma_2"),
            delta2=g2_from_json(obj["vk_delta_2"], "vk_delta_2"),
            ic=tuple(g1_from_json(p, f"IC[{i}]") for i, p in enumerate(obj["IC"])),
        )
        if "nPublic" in obj and int(obj["nPublic"]) != vk.n_public:
            raise ValueError(f"nPublic is {obj['nPublic']} but IC has {len(vk.ic)} points")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise FormatError(path, f"not a snarkjs Groth16 verification key: {e}") from e
    return vk


def read_vk_file(path: str | Path) -> VerifyingKey:
    """A verifying key from a snarkjs ``verification_key.json``."""
    try:
        obj = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise FormatError(str(path), f"invalid JSON at line {e.lineno} column {e.colno}") from e
    return vk_from_json(obj, str(path))
