"""The rendered Groth16 verifier: rendering, then the compiled contract on Anvil and py-evm.

Valid proofs come from trapdoor keys (`circuits.groth16.trapdoor`); every invalid case is
checked to revert with its own custom error, and the Python verifier is asked the same
question as the contract.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator

import groth16py
import pytest
from eth_utils.abi import function_signature_to_4byte_selector
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.optimized_bn128 import optimized_curve as curve

from circuits.errors import FieldRangeError, SolidityRenderError
from circuits.field import Q, R
from circuits.formats.snarkjs_json import vk_to_json
from circuits.groth16.data import Proof, VerifyingKey, g2_to_evm
from circuits.groth16.trapdoor import Trapdoor, _g1, _g2, make_trapdoor
from circuits.groth16.verifier import verify
from circuits.solidity import (
    MAX_CODE_SIZE,
    MAX_PUBLIC_INPUTS,
    VERIFIER_ERRORS,
    render_verifier,
    verifier_calldata,
)
from oracle import chain as chains
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.solc import CompiledContract, compile_sources

KS = (1, 2, 4, 8, 16)
FLOOR_FIXED = 21000 + 45000 + 4 * 34000
GAS = 2_000_000


def _trapdoor(k: int) -> Trapdoor:
    return make_trapdoor(k, seed=1000 + k)


def _compile(vk: VerifyingKey, name: str = "Groth16Verifier") -> CompiledContract:
    return compile_sources({f"{name}.sol": render_verifier(vk, contract_name=name)})[name]


def _calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def _swap_g2(words: list[int]) -> list[int]:
    """B written real part first (snarkjs JSON order) instead of EIP-197 order."""
    return [*words[:2], words[3], words[2], words[5], words[4], *words[6:]]


# -- rendering --------------------------------------------------------------------------


def test_header_and_constants_come_from_the_key() -> None:
    vk = _trapdoor(2).verifying_key()
    header = {"manifest_sha256": "ab" * 32, "onnx_sha256": "cd" * 32}
    src = render_verifier(vk, contract_name="ModelVerifier", header=header)
    top = src.split("pragma")[0]
    assert "DO NOT EDIT" in top
    for key, value in header.items():
        assert f"{key}: {value}" in top
    assert "contract ModelVerifier {" in src
    assert "uint256[2] calldata input" in src
    words = g2_to_evm(vk.delta2)
    for j, w in enumerate(words):
        assert f"DELTA_{j} = 0x{w:064x};" in src
    assert f"IC2_Y = 0x{vk.ic[2][1]:064x};" in src


def test_error_selectors_in_the_assembly_match_the_declared_errors() -> None:
    src = render_verifier(_trapdoor(1).verifying_key())
    for signature in VERIFIER_ERRORS:
        selector = function_signature_to_4byte_selector(signature).hex()
        assert re.search(rf":= 0x{selector}0{{56}}\n", src), signature
        assert f"error {signature.split('(')[0]}(" in src


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"contract_name": "1Verifier"}, "not a Solidity identifier"),
        ({"header": {"bad key": "x"}}, "header key"),
        ({"header": {"k": "two\nlines"}}, "one printable line"),
    ],
)
def test_bad_name_or_header_is_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(SolidityRenderError, match=match):
        render_verifier(_trapdoor(1).verifying_key(), **kwargs)  # type: ignore[arg-type]


def test_malformed_keys_are_refused() -> None:
    vk = _trapdoor(1).verifying_key()
    (x0, x1), y = vk.gamma2
    cases = {
        "IC\\[1\\].*not on the curve": VerifyingKey(
            vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, (vk.ic[0], (vk.ic[1][0], 5))
        ),
        "alpha1 has a coordinate outside": VerifyingKey(
            (vk.alpha1[0] + Q, vk.alpha1[1]), vk.beta2, vk.gamma2, vk.delta2, vk.ic
        ),
        "gamma2 is not on the G2": VerifyingKey(
            vk.alpha1, vk.beta2, ((x1, x0), y), vk.delta2, vk.ic
        ),
        "no public input": VerifyingKey(vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, vk.ic[:1]),
        "more than the": VerifyingKey(
            vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, vk.ic[:1] * (MAX_PUBLIC_INPUTS + 2)
        ),
    }
    for match, bad in cases.items():
        with pytest.raises(SolidityRenderError, match=match):
            render_verifier(bad)


def test_calldata_is_the_evm_layout_and_refuses_non_canonical_inputs() -> None:
    td = _trapdoor(2)
    proof = td.forge([1, 2], random.Random(0))
    words, inputs = verifier_calldata(proof, [1, 2])
    assert words == list(proof.words()) and len(words) == 8
    assert words[2:6] == list(g2_to_evm(proof.b))
    assert inputs == [1, 2]
    with pytest.raises(FieldRangeError, match="#1"):
        verifier_calldata(proof, [1, R])


# -- compiled contract ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled() -> dict[int, CompiledContract]:
    """One solc run for every k (half the time of one run each)."""
    names = {k: f"Groth16Verifier{k}" for k in KS}
    sources = {
        f"{name}.sol": render_verifier(_trapdoor(k).verifying_key(), contract_name=name)
        for k, name in names.items()
    }
    out = compile_sources(sources)
    return {k: out[name] for k, name in names.items()}


def test_compiled_sizes_grow_with_k_and_stay_small(compiled: dict[int, CompiledContract]) -> None:
    sizes = [compiled[k].deployed_size for k in KS]
    assert sizes == sorted(sizes) and sizes[-1] < MAX_CODE_SIZE
    errors = {e["name"] for e in compiled[1].abi if e["type"] == "error"}
    assert errors == {s.split("(")[0] for s in VERIFIER_ERRORS}


@pytest.mark.slow
def test_the_largest_renderable_verifier_fits_the_code_size_limit() -> None:
    # A key with that many IC points costs seconds to derive; repeat one valid point.
    vk = _trapdoor(1).verifying_key()
    big = VerifyingKey(
        vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, vk.ic[:1] * (MAX_PUBLIC_INPUTS + 1)
    )
    assert _compile(big).deployed_size < MAX_CODE_SIZE


@pytest.fixture(scope="module")
def anvil_chain() -> Iterator[Chain]:
    with chains.anvil(signer=None) as chain:
        yield chain


def _inputs(k: int, rng: random.Random) -> list[int]:
    edge = [0, 1, R - 1]
    return [edge[i] if i < len(edge) and k > 3 else rng.randrange(R) for i in range(k)]


@pytest.mark.anvil
@pytest.mark.parametrize("k", KS)
def test_verifier_on_anvil(
    k: int, anvil_chain: Chain, compiled: dict[int, CompiledContract]
) -> None:
    td, rng = _trapdoor(k), random.Random(k)
    vk = td.verifying_key()
    v = anvil_chain.contract(anvil_chain.deploy(compiled[k]), compiled[k])
    inputs = _inputs(k, rng)
    proof = td.forge(inputs, rng)
    words, public = verifier_calldata(proof, inputs)
    assert verify(vk, inputs, proof)

    call = v.functions.verifyProof(words, public)
    receipt = anvil_chain.transact(call, gas=GAS)
    data = bytes.fromhex(call._encode_transaction_data()[2:])
    floor = FLOOR_FIXED + 6150 * k + _calldata_gas(data)
    assert floor < receipt["gasUsed"] < floor * 1.02, "verification gas drifted from the floor"
    estimate = anvil_chain.estimate_gas(call)
    assert receipt["gasUsed"] <= estimate <= receipt["gasUsed"] * 1.03

    def reverts(name: str, w: list[int], x: list[int]) -> tuple[object, ...]:
        with pytest.raises(TransactionReverted) as info:
            anvil_chain.call(v.functions.verifyProof(w, x))
        assert info.value.error_name == name, info.value
        return info.value.error_args

    # A proof for other inputs, and a proof with another valid C: the equation fails.
    other = td.forge([(x + 1) % R for x in inputs], rng)
    assert not verify(vk, inputs, other)
    reverts("ProofInvalid", list(other.words()), public)
    tampered = Proof(proof.a, proof.b, td.forge(inputs, rng).c)
    reverts("ProofInvalid", list(tampered.words()), public)
    # Inputs are never reduced mod r: x + r is refused, naming the input.
    last = k - 1
    assert reverts("PublicInputNotInField", words, [*public[:last], public[last] + R]) == (last,)
    # Every coordinate must be < q, even where the precompile would reduce or reject it.
    for i in (0, 1, 2, 5, 7):
        bad = list(words)
        bad[i] += Q
        assert reverts("ProofCoordinateNotInField", bad, public) == (i,)
    # B in the other G2 coordinate order is not on the twist: the precompile refuses it.
    reverts("ProofPointInvalid", _swap_g2(words), public)
    # A not on the curve.
    reverts("ProofPointInvalid", [words[0], (words[1] + 1) % Q, *words[2:]], public)


@pytest.mark.anvil
def test_a_mined_failed_verification_names_its_error(
    anvil_chain: Chain, compiled: dict[int, CompiledContract]
) -> None:
    td = _trapdoor(2)
    v = anvil_chain.contract(anvil_chain.deploy(compiled[2]), compiled[2])
    words, public = verifier_calldata(td.forge([3, 4]), [3, 4])
    anvil_chain.transact(v.functions.verifyProof(words, public), gas=GAS)
    with pytest.raises(TransactionReverted) as info:
        anvil_chain.transact(v.functions.verifyProof(words, [3, 5]), gas=GAS)
    assert info.value.error_name == "ProofInvalid"
    assert info.value.tx_hash is not None and info.value.tx_hash.startswith("0x")


@pytest.mark.slow
def test_verifier_on_the_embedded_chain(compiled: dict[int, CompiledContract]) -> None:
    """py-evm's pure-Python pairing takes ~1.5 s: two pairings in all."""
    td, k = _trapdoor(2), 2
    chain = chains.embedded(signer=None)
    v = chain.contract(chain.deploy(compiled[k], gas=GAS), compiled[k])
    inputs = [7, R - 7]
    words, public = verifier_calldata(td.forge(inputs), inputs)
    receipt = chain.transact(v.functions.verifyProof(words, public), gas=GAS)
    assert receipt["status"] == 1
    with pytest.raises(TransactionReverted) as info:
        chain.call(v.functions.verifyProof(words, [7, R - 6]))
    assert info.value.error_name == "ProofInvalid"
    with pytest.raises(TransactionReverted) as info:
        chain.call(v.functions.verifyProof(words, [7 + R, R - 7]))
    assert (info.value.error_name, info.value.error_args) == ("PublicInputNotInField", (0,))
    with pytest.raises(TransactionReverted) as info:
        chain.call(v.functions.verifyProof(_swap_g2(words), public))
    assert info.value.error_name == "ProofPointInvalid"


def _proofs_at_infinity(td: Trapdoor, inputs: list[int]) -> dict[str, Proof]:
    """Proofs with A, B or C at infinity that satisfy the pairing equation
    e(A, B) = e(alpha, beta) e(vk_x, gamma) e(C, delta) under the trapdoor's key: only the
    rule against infinity can refuse them."""
    acc = td.ic[0] + sum(x * k for x, k in zip(inputs, td.ic[1:], strict=True))
    rhs = (td.alpha * td.beta + acc * td.gamma) % R  # log of e(alpha,beta) e(vk_x,gamma)
    some = td.forge(inputs, random.Random(5))
    cancel = _g1((-rhs) * pow(td.delta, -1, R) % R)  # A or B at infinity: C cancels rhs
    return {
        "A": Proof(a=(0, 0), b=some.b, c=cancel),
        "B": Proof(a=some.a, b=((0, 0), (0, 0)), c=cancel),
        "C": Proof(a=_g1(7), b=_g2(rhs * pow(7, -1, R) % R), c=(0, 0)),  # e(A, B) = rhs
    }


def _precompile_pairing_accepts(
    chain: Chain, vk: VerifyingKey, inputs: list[int], proof: Proof
) -> bool:
    """What the EIP-197 precompile says of e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta)."""
    acc = (FQ(vk.ic[0][0]), FQ(vk.ic[0][1]), FQ.one())
    for x, (px, py) in zip(inputs, vk.ic[1:], strict=True):
        acc = curve.add(acc, curve.multiply((FQ(px), FQ(py), FQ.one()), x))
    vk_x = tuple(int(c) for c in curve.normalize(acc))
    neg_a = (proof.a[0], (Q - proof.a[1]) % Q)
    pairs = [(neg_a, proof.b), (vk.alpha1, vk.beta2), (vk_x, vk.gamma2), (proof.c, vk.delta2)]
    words = [w for g1, g2 in pairs for w in (*g1, *g2_to_evm(g2))]
    data = b"".join(w.to_bytes(32, "big") for w in words)
    out = chain.w3.eth.call({"to": "0x" + "00" * 19 + "08", "data": data})
    return int.from_bytes(out, "big") == 1


@pytest.mark.anvil
@pytest.mark.parametrize("element", ["A", "B", "C"])
def test_all_three_verifiers_refuse_a_proof_point_at_infinity(
    element: str, anvil_chain: Chain, compiled: dict[int, CompiledContract]
) -> None:
    """The precompiles read (0, 0) as the point at infinity, and for these proofs the
    pairing equation holds; the Solidity verifier refuses them (ProofPointInvalid), as the
    Python verifier and arkworks (groth16py) do. An honest proof never has a point at
    infinity (A and C carry random blinding), so refusing costs nothing."""
    td, k, inputs = _trapdoor(2), 2, [3, 4]
    vk = td.verifying_key()
    proof = _proofs_at_infinity(td, inputs)[element]
    assert _precompile_pairing_accepts(anvil_chain, vk, inputs, proof)
    assert not verify(vk, inputs, proof)
    ark = groth16py.Verifier(groth16py.VerifyingKey.from_snarkjs(json.dumps(vk_to_json(vk))))
    with pytest.raises(groth16py.EncodingError):
        ark.verify(proof.to_bytes(), inputs)
    v = anvil_chain.contract(anvil_chain.deploy(compiled[k]), compiled[k])
    words, public = verifier_calldata(proof, inputs)
    with pytest.raises(TransactionReverted) as info:
        anvil_chain.call(v.functions.verifyProof(words, public))
    assert info.value.error_name == "ProofPointInvalid"
