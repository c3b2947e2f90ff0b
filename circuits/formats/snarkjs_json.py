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
from circuits.groth16.data import Proof, VerifyingKey
from circuits.groth16.vk_json import (
    g1_from_json,
    g1_to_json,
    g2_from_json,
    g2_to_json,
    int_from_json,
    vk_from_json,
    vk_to_json,
)

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


__all__ = [
    "proof_from_json",
    "proof_to_json",
    "public_from_json",
    "public_to_json",
    "read_proof",
    "read_public",
    "read_vk",
    "vk_from_json",
    "vk_to_json",
    "write_proof",
    "write_public",
    "write_vk",
]


def proof_to_json(proof: Proof) -> ProofJson:
    return {
        "pi_a": g1_to_json(proof.a),
        "pi_b": g2_to_json(proof.b),
        "pi_c": g1_to_json(proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def proof_from_json(obj: Any, path: str = "<proof>") -> Proof:
    try:
        return Proof(
            a=g1_from_json(obj["pi_a"], "pi_a"),
            b=g2_from_json(obj["pi_b"], "pi_b"),
            c=g1_from_json(obj["pi_c"], "pi_c"),
        )
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise FormatError(path, f"not a snarkjs Groth16 proof: {e}") from e


def public_to_json(values: list[int]) -> list[str]:
    return [str(v) for v in values]


def public_from_json(obj: Any, path: str = "<public inputs>") -> list[int]:
    if not isinstance(obj, list):
        raise FormatError(path, "public inputs must be a JSON list of decimal strings")
    try:
        return [int_from_json(v, f"public[{i}]") for i, v in enumerate(obj)]
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
