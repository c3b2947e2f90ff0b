"""snarkjs JSON files: ``verification_key.json``, ``proof.json`` and ``public.json``.

Layout (numbers are decimal strings, points are projective with z = 1):

* G1: ``["x", "y", "1"]``;
* G2: ``[["x_c0", "x_c1"], ["y_c0", "y_c1"], ["1", "0"]]`` (real part first);
* verification key: ``protocol``, ``curve``, ``nPublic``, ``vk_alpha_1``, ``vk_beta_2``,
  ``vk_gamma_2``, ``vk_delta_2``, ``IC`` (``nPublic + 1`` G1 points);
* proof: ``pi_a``, ``pi_b``, ``pi_c``, ``protocol``, ``curve``;
* public: a list of decimal strings, in public-input order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypedDict

from circuits.errors import FormatError
from circuits.groth16.data import G1, G2, Proof, VerifyingKey

#: A G1 point as snarkjs writes it: ``["x", "y", "1"]``.
G1Json = list[str]
#: A G2 point: ``[["x_c0", "x_c1"], ["y_c0", "y_c1"], ["1", "0"]]``.
G2Json = list[list[str]]


class VerifyingKeyJson(TypedDict):
    protocol: Literal["groth16"]
    curve: Literal["bn128"]
    nPublic: int
    vk_alpha_1: G1Json
    vk_beta_2: G2Json
    vk_gamma_2: G2Json
    vk_delta_2: G2Json
    IC: list[G1Json]


class ProofJson(TypedDict):
    pi_a: G1Json
    pi_b: G2Json
    pi_c: G1Json
    protocol: Literal["groth16"]
    curve: Literal["bn128"]


def _g1_json(p: G1) -> G1Json:
    return [str(p[0]), str(p[1]), "1"]


def _g2_json(p: G2) -> G2Json:
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def _int(v: Any, where: str) -> int:
    if not isinstance(v, str | int) or isinstance(v, bool):
        raise ValueError(f"{where}: expected a decimal string, got {v!r}")
    return int(v)


def _g1(v: Any, where: str) -> G1:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise ValueError(f"{where}: expected a G1 point [x, y, z]")
    if len(v) == 3 and _int(v[2], where) != 1:
        raise ValueError(f"{where}: only affine points (z = 1) are supported")
    return (_int(v[0], where), _int(v[1], where))


def _g2(v: Any, where: str) -> G2:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise ValueError(f"{where}: expected a G2 point [[x0, x1], [y0, y1], [z0, z1]]")
    if len(v) == 3 and [_int(c, where) for c in v[2]] != [1, 0]:
        raise ValueError(f"{where}: only affine points (z = 1) are supported")
    x, y = v[0], v[1]
    return ((_int(x[0], where), _int(x[1], where)), (_int(y[0], where), _int(y[1], where)))


def vk_to_json(vk: VerifyingKey) -> VerifyingKeyJson:
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": _g1_json(vk.alpha1),
        "vk_beta_2": _g2_json(vk.beta2),
        "vk_gamma_2": _g2_json(vk.gamma2),
        "vk_delta_2": _g2_json(vk.delta2),
        "IC": [_g1_json(p) for p in vk.ic],
    }


def vk_from_json(obj: Any, path: str = "<verification key>") -> VerifyingKey:
    try:
        if obj.get("protocol") not in ("groth16", "groth"):
            raise ValueError(f"protocol is {obj.get('protocol')!r}, expected 'groth16'")
        vk = VerifyingKey(
            alpha1=_g1(obj["vk_alpha_1"], "vk_alpha_1"),
            beta2=_g2(obj["vk_beta_2"], "vk_beta_2"),
            gamma2=_g2(obj["vk_gamma_2"], "vk_gamma_2"),
            delta2=_g2(obj["vk_delta_2"], "vk_delta_2"),
            ic=tuple(_g1(p, f"IC[{i}]") for i, p in enumerate(obj["IC"])),
        )
        if "nPublic" in obj and int(obj["nPublic"]) != vk.n_public:
            raise ValueError(f"nPublic is {obj['nPublic']} but IC has {len(vk.ic)} points")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise FormatError(path, f"not a snarkjs Groth16 verification key: {e}") from e
    return vk


def proof_to_json(proof: Proof) -> ProofJson:
    return {
        "pi_a": _g1_json(proof.a),
        "pi_b": _g2_json(proof.b),
        "pi_c": _g1_json(proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def proof_from_json(obj: Any, path: str = "<proof>") -> Proof:
    try:
        return Proof(
            a=_g1(obj["pi_a"], "pi_a"), b=_g2(obj["pi_b"], "pi_b"), c=_g1(obj["pi_c"], "pi_c")
        )
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise FormatError(path, f"not a snarkjs Groth16 proof: {e}") from e


def public_to_json(values: list[int]) -> list[str]:
    return [str(v) for v in values]


def public_from_json(obj: Any, path: str = "<public inputs>") -> list[int]:
    if not isinstance(obj, list):
        raise FormatError(path, "public inputs must be a JSON list of decimal strings")
    try:
        return [_int(v, f"public[{i}]") for i, v in enumerate(obj)]
    except ValueError as e:
        raise FormatError(path, str(e)) from e


def _load(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise FormatError(str(path), f"invalid JSON at line {e.lineno} column {e.colno}") from e


def _dump(path: str | Path, obj: Any) -> None:
    Path(path).write_text(json.dumps(obj, indent=1) + "\n")


def read_vk(path: str | Path) -> VerifyingKey:
    return vk_from_json(_load(path), str(path))


def write_vk(path: str | Path, vk: VerifyingKey) -> None:
    _dump(path, vk_to_json(vk))


def read_proof(path: str | Path) -> Proof:
    return proof_from_json(_load(path), str(path))


def write_proof(path: str | Path, proof: Proof) -> None:
    _dump(path, proof_to_json(proof))


def read_public(path: str | Path) -> list[int]:
    return public_from_json(_load(path), str(path))


def write_public(path: str | Path, values: list[int]) -> None:
    _dump(path, public_to_json(values))
