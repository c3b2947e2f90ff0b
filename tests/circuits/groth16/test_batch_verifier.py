"""Batch verification: the Python reference (`circuits.groth16.batch`) and the rendered
``verifyBatch`` on Anvil and py-evm, asked the same questions.

Proofs are forged with trapdoor keys. The Python check costs ~0.1 s per proof, so it runs
on small batches; every size from 1 to 16 runs on Anvil (17 to 32 in the slow set).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import pytest

from circuits.errors import SolidityRenderError, VerificationInputError
from circuits.field import Q, R
from circuits.groth16.batch import batch_coefficients, verify_batch
from circuits.groth16.data import Proof
from circuits.groth16.trapdoor import Trapdoor, make_trapdoor
from circuits.groth16.verifier import PreparedVerifyingKey, prepare
from circuits.solidity import render_verifier
from circuits.solidity_batch import MAX_BATCH_PUBLIC_INPUTS, UNROLL_MAX_INPUTS
from oracle import chain as chains
from oracle.chain import Chain
from oracle.errors import TransactionReverted
from oracle.solc import CompiledContract, compile_sources

K = 3
GAS = 12_000_000

Batch = tuple[list[list[int]], list[Proof]]


@pytest.fixture(scope="module")
def trapdoor() -> Trapdoor:
    return make_trapdoor(K, seed=77)


@pytest.fixture(scope="module")
def pvk(trapdoor: Trapdoor) -> PreparedVerifyingKey:
    return prepare(trapdoor.verifying_key())


def _batch(td: Trapdoor, n: int, seed: int = 0) -> Batch:
    rng = random.Random(seed)
    inputs = [[rng.randrange(R) for _ in range(K)] for _ in range(n)]
    if n > 1:
        inputs[1] = [0, 1, R - 1]  # edge values of the field
    return inputs, [td.forge(xs, rng) for xs in inputs]


def _flat(batch: Batch) -> tuple[list[int], list[int]]:
    inputs, proofs = batch
    return [w for p in proofs for w in p.words()], [x for xs in inputs for x in xs]


# -- Python reference -------------------------------------------------------------------


def test_valid_batches_pass_and_match_single_verification(
    trapdoor: Trapdoor, pvk: PreparedVerifyingKey
) -> None:
    for n in (1, 2, 3, 5):
        inputs, proofs = _batch(trapdoor, n, seed=n)
        assert verify_batch(pvk, inputs, proofs), n
        assert all(pvk.verify(xs, p) for xs, p in zip(inputs, proofs, strict=True))


def test_one_bad_proof_fails_the_batch(trapdoor: Trapdoor, pvk: PreparedVerifyingKey) -> None:
    inputs, proofs = _batch(trapdoor, 4)
    for bad in range(4):
        other = trapdoor.forge([(x + 1) % R for x in inputs[bad]], random.Random(bad))
        tampered = [other if i == bad else p for i, p in enumerate(proofs)]
        assert not verify_batch(pvk, inputs, tampered), bad


def test_swapped_proofs_and_out_of_field_inputs_fail(
    trapdoor: Trapdoor, pvk: PreparedVerifyingKey
) -> None:
    inputs, proofs = _batch(trapdoor, 3)
    assert not verify_batch(pvk, inputs, [proofs[1], proofs[0], proofs[2]])
    assert not verify_batch(pvk, [inputs[1], inputs[0], inputs[2]], proofs)
    shifted = [list(xs) for xs in inputs]
    shifted[2][0] += R  # the same residue: refused, never reduced
    assert not verify_batch(pvk, shifted, proofs)
    bad_point = Proof(proofs[1].a, proofs[1].b, (proofs[1].c[0], (proofs[1].c[1] + 1) % Q))
    assert not verify_batch(pvk, inputs, [proofs[0], bad_point, proofs[2]])


def test_coefficients_change_when_any_word_changes(trapdoor: Trapdoor) -> None:
    inputs, proofs = _batch(trapdoor, 3)
    base = batch_coefficients(proofs, inputs)
    assert base[0] == 1 and len(set(base)) == 3
    for i in range(3):
        for j in range(K):
            changed = [list(xs) for xs in inputs]
            changed[i][j] = (changed[i][j] + 1) % R
            new = batch_coefficients(proofs, changed)
            assert all(a != b for a, b in zip(base[1:], new[1:], strict=True)), (i, j)
        words = list(proofs[i].words())
        words[6] ^= 1
        new = batch_coefficients([*proofs[:i], Proof.from_words(words), *proofs[i + 1 :]], inputs)
        assert all(a != b for a, b in zip(base[1:], new[1:], strict=True)), i


def test_shape_errors_raise(trapdoor: Trapdoor, pvk: PreparedVerifyingKey) -> None:
    inputs, proofs = _batch(trapdoor, 2)
    with pytest.raises(VerificationInputError, match="at least one"):
        verify_batch(pvk, [], [])
    with pytest.raises(VerificationInputError, match="2 proofs but 1"):
        verify_batch(pvk, inputs[:1], proofs)
    with pytest.raises(VerificationInputError, match="proof #1: expected 3"):
        verify_batch(pvk, [inputs[0], inputs[1][:2]], proofs)


def test_batch_rendering_limit(trapdoor: Trapdoor) -> None:
    vk = trapdoor.verifying_key()
    assert "function verifyBatch(" in render_verifier(vk)
    assert "function verifyBatch(" not in render_verifier(vk, batch=False)
    big = type(vk)(
        vk.alpha1, vk.beta2, vk.gamma2, vk.delta2, vk.ic[:1] * (MAX_BATCH_PUBLIC_INPUTS + 2)
    )
    assert "function verifyBatch(" not in render_verifier(big)
    with pytest.raises(SolidityRenderError, match="verifyBatch"):
        render_verifier(big, batch=True)


# -- on-chain ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(trapdoor: Trapdoor) -> CompiledContract:
    src = render_verifier(trapdoor.verifying_key())
    return compile_sources({"Groth16Verifier.sol": src})["Groth16Verifier"]


@pytest.fixture(scope="module")
def anvil_verifier(compiled: CompiledContract) -> Iterator[tuple[Chain, object]]:
    with chains.anvil(signer=None) as chain:
        yield chain, chain.contract(chain.deploy(compiled), compiled)


def _onchain(chain: Chain, v: object, proofs: Sequence[int], inputs: Sequence[int]) -> str | None:
    """None if verifyBatch accepts, else its error name (with the index for range errors)."""
    try:
        chain.call(v.functions.verifyBatch(list(proofs), list(inputs)))  # type: ignore[attr-defined]
    except TransactionReverted as e:
        args = "".join(f":{a}" for a in e.error_args)
        return f"{e.error_name}{args}"
    return None


@pytest.fixture(scope="module")
def batch32(trapdoor: Trapdoor) -> Batch:
    """32 proofs forged once; a batch of n is its first n (the coefficients still differ)."""
    return _batch(trapdoor, 32, seed=100)


def _prefixes_verify(anvil_verifier: tuple[Chain, object], batch32: Batch, sizes: range) -> None:
    chain, v = anvil_verifier
    inputs, proofs = batch32
    for n in sizes:
        pw, iw = _flat((inputs[:n], proofs[:n]))
        assert _onchain(chain, v, pw, iw) is None, n


@pytest.mark.anvil
def test_every_size_from_1_to_16_verifies_on_anvil(
    anvil_verifier: tuple[Chain, object], batch32: Batch
) -> None:
    _prefixes_verify(anvil_verifier, batch32, range(1, 17))


@pytest.mark.anvil
@pytest.mark.slow
def test_every_size_from_17_to_32_verifies_on_anvil(
    anvil_verifier: tuple[Chain, object], batch32: Batch
) -> None:
    _prefixes_verify(anvil_verifier, batch32, range(17, 33))


@pytest.mark.anvil
def test_python_and_anvil_agree_on_bad_batches(
    anvil_verifier: tuple[Chain, object], trapdoor: Trapdoor, pvk: PreparedVerifyingKey
) -> None:
    chain, v = anvil_verifier
    inputs, proofs = _batch(trapdoor, 4, seed=5)
    pw, iw = _flat((inputs, proofs))
    swapped = _flat((inputs, [proofs[1], proofs[0], *proofs[2:]]))
    other = trapdoor.forge([(x + 1) % R for x in inputs[2]], random.Random(9))
    one_bad = _flat((inputs, [*proofs[:2], other, proofs[3]]))
    cases = {
        "valid": ((inputs, proofs), (pw, iw), None),
        "swapped": ((inputs, [proofs[1], proofs[0], *proofs[2:]]), swapped, "ProofInvalid"),
        "one bad": ((inputs, [*proofs[:2], other, proofs[3]]), one_bad, "ProofInvalid"),
    }
    for name, ((py_in, py_pr), (cpw, ciw), error) in cases.items():
        assert verify_batch(pvk, py_in, py_pr) is (error is None), name
        assert _onchain(chain, v, cpw, ciw) == error, name
    # Input word 7 (proof 2, position 1) pushed past r: named by its index in the batch.
    big = list(iw)
    big[7] += R
    assert _onchain(chain, v, pw, big) == "PublicInputNotInField:7"
    coord = list(pw)
    coord[8 + 6] += Q
    assert _onchain(chain, v, coord, iw) == "ProofCoordinateNotInField:14"
    off_curve = list(pw)
    off_curve[8 * 3 + 1] = (off_curve[8 * 3 + 1] + 1) % Q
    assert _onchain(chain, v, off_curve, iw) == "ProofPointInvalid"
    assert _onchain(chain, v, [], []) == "BatchShapeInvalid:0:0"
    assert _onchain(chain, v, pw, iw[:-1]) == f"BatchShapeInvalid:32:{len(iw) - 1}"
    assert _onchain(chain, v, pw[:-1], iw) == f"BatchShapeInvalid:31:{len(iw)}"


@pytest.mark.anvil
@pytest.mark.parametrize("k", [1, UNROLL_MAX_INPUTS, UNROLL_MAX_INPUTS + 1])
def test_unrolled_and_looped_input_checks_agree_with_python(k: int) -> None:
    """The input checks and sums are unrolled up to `UNROLL_MAX_INPUTS` inputs and loop
    above: both forms accept a valid batch and refuse a bad proof and an input >= r at its
    index, as the Python check does."""
    td, rng = make_trapdoor(k, seed=k), random.Random(k)
    inputs = [[rng.randrange(R) for _ in range(k)] for _ in range(3)]
    proofs = [td.forge(xs, rng) for xs in inputs]
    pvk_k = prepare(td.verifying_key())
    src = render_verifier(td.verifying_key())
    verifier = compile_sources({"V.sol": src})["Groth16Verifier"]
    with chains.anvil(signer=None) as chain:
        v = chain.contract(chain.deploy(verifier), verifier)
        pw, iw = _flat((inputs, proofs))
        assert verify_batch(pvk_k, inputs, proofs) and _onchain(chain, v, pw, iw) is None
        other = td.forge([(x + 1) % R for x in inputs[1]], rng)
        bad = _flat((inputs, [proofs[0], other, proofs[2]]))
        assert not verify_batch(pvk_k, inputs, [proofs[0], other, proofs[2]])
        assert _onchain(chain, v, *bad) == "ProofInvalid"
        last = list(iw)
        last[-1] += R
        assert _onchain(chain, v, pw, last) == f"PublicInputNotInField:{len(iw) - 1}"


def test_embedded_chain_agrees_on_a_batch_of_two(
    compiled: CompiledContract, trapdoor: Trapdoor
) -> None:
    """py-evm's pure-Python pairing: one valid and one invalid batch of 2 (5 pairs each)."""
    chain = chains.embedded(signer=None)
    try:
        v = chain.contract(chain.deploy(compiled, gas=GAS), compiled)
        inputs, proofs = _batch(trapdoor, 2, seed=3)
        pw, iw = _flat((inputs, proofs))
        assert _onchain(chain, v, pw, iw) is None
        bad = list(iw)
        bad[4] = (bad[4] + 1) % R
        assert _onchain(chain, v, pw, bad) == "ProofInvalid"
    finally:
        chain.close()
