"""The pure-Python Groth16 verifier against trapdoor vectors and groth16py (arkworks).

Every verdict on a proof is cross-checked with groth16py's verifier, where a raise counts as
a rejection. The pairing machinery itself is compared with py_ecc's reference pairing and
final exponentiation. Verifications cost ~0.1 s each, so keys are shared per session and
hypothesis runs few examples.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128 import optimized_curve as curve
from py_ecc.optimized_bn128 import optimized_pairing as ref

from circuits.errors import VerificationInputError
from circuits.field import Q, R
from circuits.formats.snarkjs_json import vk_to_json
from circuits.groth16 import verifier
from circuits.groth16.data import G1, G2, Proof, VerifyingKey
from circuits.groth16.trapdoor import Trapdoor, make_trapdoor

# groth16py is an optional extra (GPL-3.0), installed by `make install` for the tests.
groth16py = pytest.importorskip("groth16py")

FEW = settings(max_examples=5, deadline=None)


@dataclass(frozen=True)
class Case:
    trapdoor: Trapdoor
    vk: VerifyingKey
    prepared: verifier.PreparedVerifyingKey
    inputs: list[int]
    proof: Proof
    ark: Any  # a groth16py.Verifier


def _ark(vk: VerifyingKey) -> Any:
    return groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs(json.dumps(vk_to_json(vk))))


def _make_case(n_public: int, seed: int) -> Case:
    trapdoor = make_trapdoor(n_public, seed)
    vk = trapdoor.verifying_key()
    inputs = [random.Random(seed).randrange(R) for _ in range(n_public)]
    proof = trapdoor.forge(inputs, random.Random(seed + 1))
    return Case(trapdoor, vk, verifier.prepare(vk), inputs, proof, _ark(vk))


@pytest.fixture(scope="session")
def cases() -> dict[int, Case]:
    return {n: _make_case(n, seed=100 + n) for n in (0, 1, 3)}


@pytest.fixture(scope="session")
def case3(cases: dict[int, Case]) -> Case:
    return cases[3]


def _ark_accepts(ark: Any, proof_bytes: bytes, inputs: Sequence[int]) -> bool:
    try:
        return bool(ark.verify(proof_bytes, list(inputs)))
    except (groth16py.EncodingError, groth16py.VerificationError, OverflowError):
        return False


def _verdict(case: Case, proof: Proof, inputs: Sequence[int]) -> bool:
    """Our verdict, after checking that every entry point and groth16py agree with it."""
    ours = case.prepared.verify(inputs, proof)
    assert verifier.verify(case.vk, inputs, proof) is ours
    assert verifier.verify_bytes(case.vk, inputs, proof.to_bytes()) is ours
    assert _ark_accepts(case.ark, proof.to_bytes(), inputs) is ours
    return ours


# Points: py_ecc arithmetic on the plain-int tuples of circuits.groth16.data.


def _g1_add(p: G1, k: int) -> G1:
    """p + k * G1."""
    s = curve.add((FQ(p[0]), FQ(p[1]), FQ.one()), curve.multiply(curve.G1, k))
    x, y = curve.normalize(s)
    return (int(x), int(y))


def _fq2(c: tuple[int, int]) -> FQ2:
    return FQ2(list(c))


def _g2_ints(x: FQ2, y: FQ2) -> G2:
    (x0, x1), (y0, y1) = x.coeffs, y.coeffs
    return ((int(x0), int(x1)), (int(y0), int(y1)))


def _g2_add(p: G2, k: int) -> G2:
    """p + k * G2."""
    s = curve.add((_fq2(p[0]), _fq2(p[1]), FQ2.one()), curve.multiply(curve.G2, k))
    return _g2_ints(*curve.normalize(s))


def _sqrt_fq(a: int) -> int | None:
    s = pow(a, (Q + 1) // 4, Q)  # q = 3 (mod 4)
    return s if s * s % Q == a % Q else None


def _sqrt_fq2(a: FQ2) -> FQ2 | None:
    """A square root in F_q[u]/(u^2 + 1): x0^2 = (a0 +- |a|) / 2, x1 = a1 / (2 x0)."""
    a0, a1 = (int(c) for c in a.coeffs)
    norm = _sqrt_fq(a0 * a0 + a1 * a1)
    if norm is None:
        return None
    for half in ((a0 + norm) * pow(2, -1, Q), (a0 - norm) * pow(2, -1, Q)):
        x0 = _sqrt_fq(half % Q)
        if x0:
            root = FQ2([x0, a1 * pow(2 * x0, -1, Q)])
            if root * root == a:
                return root
    return None


def _twist_point_outside_g2() -> G2:
    """A point of the twist y^2 = x^3 + 3/(9+u) whose order is not r (the cofactor is ~q)."""
    for k in range(1, 100):
        x = FQ2([k, 1])
        y = _sqrt_fq2(x * x * x + curve.b2)
        if y is not None:
            point = (x, y, FQ2.one())
            assert curve.is_on_curve(point, curve.b2)
            assert not curve.is_inf(curve.multiply(point, R))
            return _g2_ints(x, y)
    raise AssertionError("no twist point found")


@pytest.fixture(scope="session")
def outside_g2() -> G2:
    return _twist_point_outside_g2()


# Valid proofs.


@pytest.mark.parametrize("n_public", [0, 1, 3])
def test_valid_proof_is_accepted(cases: dict[int, Case], n_public: int) -> None:
    case = cases[n_public]
    assert verifier.proof_defect(case.proof) is None
    assert _verdict(case, case.proof, case.inputs) is True


@FEW
@given(inputs=st.lists(st.integers(0, R - 1), min_size=3, max_size=3), seed=st.integers(0, 2**32))
def test_forged_proofs_for_any_inputs_verify(case3: Case, inputs: list[int], seed: int) -> None:
    proof = case3.trapdoor.forge(inputs, random.Random(seed))
    assert case3.prepared.verify(inputs, proof) is True
    assert _ark_accepts(case3.ark, proof.to_bytes(), inputs) is True


def test_vk_x_at_infinity_is_handled(cases: dict[int, Case]) -> None:
    # x = -k_0 / k_1 makes IC_0 + x IC_1 the point at infinity: e(vk_x, gamma) = 1.
    case = cases[1]
    k0, k1 = case.trapdoor.ic
    x = -k0 * pow(k1, -1, R) % R
    proof = case.trapdoor.forge([x], random.Random(5))
    assert _verdict(case, proof, [x]) is True


# Wrong proofs made of valid points: only the pairing check can reject them.


@pytest.mark.parametrize("element", ["a", "b", "c"])
def test_tampered_element_is_rejected(case3: Case, element: str) -> None:
    p = case3.proof
    tampered = {"a": replace(p, a=_g1_add(p.a, 1)), "b": replace(p, b=_g2_add(p.b, 1))}
    tampered["c"] = replace(p, c=_g1_add(p.c, 1))
    proof = tampered[element]
    assert verifier.proof_defect(proof) is None
    assert _verdict(case3, proof, case3.inputs) is False


def test_proof_for_other_inputs_is_rejected(case3: Case) -> None:
    other = case3.trapdoor.forge([1, 2, 3], random.Random(9))
    assert _verdict(case3, other, case3.inputs) is False


@pytest.mark.parametrize("index", [0, 1, 2])
def test_flipped_public_input_is_rejected(case3: Case, index: int) -> None:
    inputs = list(case3.inputs)
    inputs[index] ^= 1
    assert _verdict(case3, case3.proof, inputs) is False


@FEW
@given(index=st.integers(0, 2), delta=st.integers(1, R - 1))
def test_any_changed_public_input_is_rejected(case3: Case, index: int, delta: int) -> None:
    inputs = list(case3.inputs)
    inputs[index] = (inputs[index] + delta) % R
    assert case3.prepared.verify(inputs, case3.proof) is False


# Malformed proofs and inputs: rejected before any pairing.


@pytest.mark.parametrize("index", [0, 1, 2])
def test_public_input_plus_r_is_rejected_not_reduced(case3: Case, index: int) -> None:
    inputs = list(case3.inputs)
    inputs[index] += R
    assert _verdict(case3, case3.proof, inputs) is False


def test_negative_public_input_is_rejected(cases: dict[int, Case]) -> None:
    case = cases[1]
    assert _verdict(case, case.proof, [case.inputs[0] - R]) is False


@pytest.mark.parametrize("word", range(8))
def test_coordinate_at_or_above_q_is_rejected(case3: Case, word: int) -> None:
    # x + q denotes the same field element: a verifier that reduced it would accept.
    words = list(case3.proof.words())
    words[word] += Q
    proof = Proof.from_words(words)
    defect = verifier.proof_defect(proof)
    assert defect is not None and "not in [0, q)" in defect
    assert defect.startswith(f"proof element {'AABBBBCC'[word]}")
    assert _verdict(case3, proof, case3.inputs) is False


@pytest.mark.parametrize("element", ["A", "B", "C"])
def test_off_curve_point_is_rejected(case3: Case, element: str) -> None:
    p = case3.proof
    (bx, (by0, by1)) = p.b
    proof = {
        "A": replace(p, a=(p.a[0], (p.a[1] + 1) % Q)),
        "B": replace(p, b=(bx, ((by0 + 1) % Q, by1))),
        "C": replace(p, c=(p.c[0], (p.c[1] + 1) % Q)),
    }[element]
    assert verifier.proof_defect(proof) == f"proof element {element}: " + (
        "not on the twist y^2 = x^3 + 3/(9+u)"
        if element == "B"
        else "not on the curve y^2 = x^3 + 3"
    )
    assert _verdict(case3, proof, case3.inputs) is False


def test_swapped_g2_coordinate_order_is_rejected(case3: Case) -> None:
    (x0, x1), (y0, y1) = case3.proof.b
    swapped = replace(case3.proof, b=((x1, x0), (y1, y0)))
    assert _verdict(case3, swapped, case3.inputs) is False
    # The same mistake made on the wire: B written real part first instead of EIP-197 order.
    words = [*case3.proof.a, x0, x1, y0, y1, *case3.proof.c]
    wire = b"".join(w.to_bytes(32, "big") for w in words)
    assert case3.prepared.verify_bytes(case3.inputs, wire) is False


def test_b_outside_the_subgroup_is_rejected(case3: Case, outside_g2: G2) -> None:
    proof = replace(case3.proof, b=outside_g2)
    assert verifier.proof_defect(proof) == (
        "proof element B: not in the r-order subgroup (r * P != O)"
    )
    assert _verdict(case3, proof, case3.inputs) is False


@pytest.mark.parametrize("element", ["A", "B", "C"])
def test_point_at_infinity_is_rejected(case3: Case, element: str) -> None:
    p = case3.proof
    proof = {
        "A": replace(p, a=(0, 0)),
        "B": replace(p, b=((0, 0), (0, 0))),
        "C": replace(p, c=(0, 0)),
    }[element]
    assert verifier.proof_defect(proof) == f"proof element {element}: the point at infinity"
    assert _verdict(case3, proof, case3.inputs) is False


@pytest.mark.parametrize("length", [0, 255, 257])
def test_proof_bytes_of_wrong_length_are_rejected(case3: Case, length: int) -> None:
    data = (case3.proof.to_bytes() * 2)[:length]
    assert case3.prepared.verify_bytes(case3.inputs, data) is False
    assert verifier.verify_bytes(case3.vk, case3.inputs, data) is False
    assert _ark_accepts(case3.ark, data, case3.inputs) is False


# Caller errors: raise, naming what was expected.


@pytest.mark.parametrize("count", [0, 2, 4])
def test_wrong_input_count_raises(case3: Case, count: int) -> None:
    inputs = list(range(count))
    with pytest.raises(VerificationInputError, match=rf"expected 3 public input\(s\).*got {count}"):
        case3.prepared.verify(inputs, case3.proof)
    with pytest.raises(VerificationInputError, match="expected 3"):
        verifier.verify_bytes(case3.vk, inputs, b"")
    with pytest.raises(groth16py.VerificationError):
        case3.ark.verify(case3.proof.to_bytes(), inputs)


def _malformed_keys(vk: VerifyingKey, outside: G2) -> dict[str, tuple[VerifyingKey, str]]:
    (x0, x1), (y0, y1) = vk.beta2
    ic1 = vk.ic[1]
    return {
        "alpha off curve": (
            replace(vk, alpha1=(vk.alpha1[0], vk.alpha1[1] + 1)),
            "alpha1: not on the curve",
        ),
        "alpha at infinity": (replace(vk, alpha1=(0, 0)), "alpha1: the point at infinity"),
        "ic coordinate >= q": (
            replace(vk, ic=(vk.ic[0], (ic1[0] + Q, ic1[1]), *vk.ic[2:])),
            r"ic\[1\]: a coordinate is not in \[0, q\)",
        ),
        "beta swapped": (replace(vk, beta2=((x1, x0), (y1, y0))), "beta2: not on the twist"),
        "gamma outside G2": (replace(vk, gamma2=outside), "gamma2: not in the r-order subgroup"),
        "delta at infinity": (
            replace(vk, delta2=((0, 0), (0, 0))),
            "delta2: the point at infinity",
        ),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "alpha off curve",
        "alpha at infinity",
        "ic coordinate >= q",
        "beta swapped",
        "gamma outside G2",
        "delta at infinity",
    ],
)
def test_malformed_key_raises(case3: Case, outside_g2: G2, kind: str) -> None:
    bad, message = _malformed_keys(case3.vk, outside_g2)[kind]
    with pytest.raises(VerificationInputError, match="verifying key element " + message):
        verifier.prepare(bad)
    with pytest.raises(VerificationInputError):
        verifier.verify(bad, case3.inputs, case3.proof)
    try:
        ark_accepts = _ark_accepts(_ark(bad), case3.proof.to_bytes(), case3.inputs)
    except (groth16py.EncodingError, groth16py.VerificationError):
        ark_accepts = False
    assert ark_accepts is False


def test_key_without_ic_raises(case3: Case) -> None:
    with pytest.raises(VerificationInputError, match="IC is empty"):
        verifier.prepare(replace(case3.vk, ic=()))


# The pairing machinery against py_ecc's reference implementation.


def test_final_exponentiation_matches_py_ecc() -> None:
    rng = random.Random(3)
    f = FQ12([rng.randrange(Q) for _ in range(12)])
    assert verifier.final_exponentiation(f) == ref.final_exponentiate(f)


def test_frobenius_matches_power_q() -> None:
    rng = random.Random(4)
    f = FQ12([rng.randrange(Q) for _ in range(12)])
    assert verifier.frobenius(f, 1) == f**Q
    assert verifier.frobenius(f, 2) == verifier.frobenius(verifier.frobenius(f, 1), 1)


def test_pairing_matches_py_ecc() -> None:
    p1 = curve.multiply(curve.G1, 1234567)
    p2 = curve.multiply(curve.G2, 7654321)
    x1, y1 = curve.normalize(p1)
    lines = verifier.g2_lines(_g2_ints(*curve.normalize(p2)))
    ours = verifier.final_exponentiation(verifier.multi_miller_loop([(lines, (int(x1), int(y1)))]))
    assert ours == ref.pairing(p2, p1)
