"""`oracle.statement`, the Python side of the public statement, against the hub contract.

The daemon builds its witnesses from the Python side and the hub verifies the contract
side: the two must agree on every binding, encoding and packing, value for value.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_abi.abi import encode
from eth_utils.abi import abi_to_signature, function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuits import MAX_PUBLIC_INPUTS, FieldRangeError, Packing, R
from oracle.errors import TransactionReverted
from oracle.statement import (
    StatementError,
    StatementLayout,
    feed_binding,
    request_binding,
    verifier_selector,
)
from tests.oracle.hub_harness import (
    CHAIN_PARAMS,
    MODELS,
    HubEnv,
    ModelCase,
    compiled,
    open_env,
    verifier_name,
)

#: One worker runs this module, so its chains and deployments are made once.
pytestmark = pytest.mark.xdist_group("hub-statement")

# -- pure Python -----------------------------------------------------------------------------


def test_unpacked_values_encode_as_v_mod_r() -> None:
    p = Packing(16)
    assert p.encode([0, 1, -1, 2**15 - 1, -(2**15)]) == [0, 1, R - 1, 2**15 - 1, R - 2**15]
    with pytest.raises(FieldRangeError, match=r"input #2 = 32768 does not fit 16 signed bits"):
        p.encode([0, 0, 2**15], "input")
    with pytest.raises(FieldRangeError, match=r"#0 = -32769"):
        p.encode([-(2**15) - 1])


def test_packed_values_follow_the_offset_formula() -> None:
    # (v + 2^(bits-1)) << (bits * j): -8 -> 0, 0 -> 8, 7 -> 15 in the first word; 1 -> 9 alone.
    assert Packing(4, 3).encode([-8, 0, 7, 1]) == [0 + (8 << 4) + (15 << 8), 9]
    assert Packing(1, 253).encode([-1, 0] * 3) == [0b101010]
    widest = Packing(253).encode([-(2**252), 2**252 - 1])
    assert widest == [R - 2**252, 2**252 - 1]


@pytest.mark.parametrize(("bits", "per_word"), [(0, 1), (1, 0), (254, 1), (127, 2), (16, 16)])
def test_packings_that_could_wrap_are_refused(bits: int, per_word: int) -> None:
    with pytest.raises(FieldRangeError, match="bits \\* per_word <= 253"):
        Packing(bits, per_word)


@given(st.data(), st.integers(1, 253), st.integers(1, 40))
def test_decode_inverts_encode(data: st.DataObject, bits: int, n: int) -> None:
    per_word = data.draw(st.integers(1, 253 // bits))
    half = 1 << (bits - 1)
    values = data.draw(st.lists(st.integers(-half, half - 1), min_size=n, max_size=n))
    p = Packing(bits, per_word)
    words = p.encode(values)
    assert len(words) == p.word_count(n) and all(0 <= w < R for w in words)
    assert p.decode(words, n) == values


def test_decode_refuses_a_word_outside_the_signed_range() -> None:
    with pytest.raises(FieldRangeError, match=r"decoded value #1 = 128 does not fit 8 signed"):
        Packing(8).decode([1, 128], 2)
    assert Packing(8).decode([1, R - 128], 2) == [1, -128]


def test_layout_counts_and_checks_lengths() -> None:
    lay = StatementLayout(8, 1, Packing(16, 8), Packing(32))
    assert lay.n_public == 3
    assert StatementLayout(5, 3, Packing(20, 3), Packing(40, 2)).n_public == 5
    with pytest.raises(StatementError, match="expected 8 inputs, got 7"):
        lay.public_inputs(0, [0] * 7, [0])
    with pytest.raises(StatementError, match="binding"):
        lay.public_inputs(R, [0] * 8, [0])
    with pytest.raises(StatementError, match=f"public inputs exceed {MAX_PUBLIC_INPUTS}"):
        StatementLayout(MAX_PUBLIC_INPUTS - 1, 1, Packing(8), Packing(8))
    widest = StatementLayout(MAX_PUBLIC_INPUTS - 2, 1, Packing(8), Packing(8))
    assert widest.n_public == MAX_PUBLIC_INPUTS


def test_bindings_hash_the_abi_encoded_context() -> None:
    hub, who = "0x" + "11" * 20, "0x" + "22" * 20
    words = (31337).to_bytes(32, "big") + bytes(12) + bytes.fromhex("11" * 20)
    expected = keccak(words + (7).to_bytes(32, "big") + bytes(12) + bytes.fromhex("22" * 20))
    assert request_binding(31337, hub, 7, who) == int.from_bytes(expected, "big") % R
    feed = b"\x05" * 32
    preimage = encode(
        ["uint256", "address", "bytes32", "uint64", "address"], [1, hub, feed, 9, who]
    )
    assert feed_binding(1, hub, feed, 9, who) == int.from_bytes(keccak(preimage), "big") % R
    assert request_binding(1, hub, 7, who) != request_binding(1, hub, 7, hub)
    with pytest.raises(StatementError, match="uint64"):
        feed_binding(1, hub, feed, 2**64, who)


def test_the_selector_matches_the_rendered_verifier_abi() -> None:
    for model in MODELS:
        n = model.layout.n_public
        (entry,) = [e for e in compiled()[verifier_name(n)].abi if e.get("name") == "verifyProof"]
        signature = abi_to_signature(entry)  # type: ignore[arg-type]
        assert verifier_selector(n) == function_signature_to_4byte_selector(signature)


# -- against the contract -------------------------------------------------------------------


@pytest.fixture(scope="module", params=CHAIN_PARAMS)
def env(request: pytest.FixtureRequest) -> Iterator[HubEnv]:
    with open_env(request.param) as hub_env:
        yield hub_env


def _values(packing: Packing, n: int) -> st.SearchStrategy[list[int]]:
    half = 1 << (packing.bits - 1)
    candidates = (-half, -half + 1, -1, 0, 1, half - 2, half - 1)
    edges = st.sampled_from([v for v in candidates if -half <= v < half])
    return st.lists(st.integers(-half, half - 1) | edges, min_size=n, max_size=n)


@st.composite
def _statements(draw: st.DrawFn) -> tuple[ModelCase, int, list[int], list[int]]:
    model = draw(st.sampled_from(MODELS))
    lay = model.layout
    binding = draw(st.integers(0, R - 1) | st.sampled_from([0, 1, R - 1]))
    return (
        model,
        binding,
        draw(_values(lay.inputs, lay.n_inputs)),
        draw(_values(lay.outputs, lay.n_outputs)),
    )


_chain_settings = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_chain_settings
@given(_statements())
def test_python_statement_equals_the_contract_view(
    env: HubEnv, case: tuple[ModelCase, int, list[int], list[int]]
) -> None:
    model, binding, inputs, outputs = case
    view = env.hub.functions.statementFor(env.id(model), binding, inputs, outputs).call()
    assert view == model.layout.public_inputs(binding, inputs, outputs)


@_chain_settings
@given(st.integers(0, 2**256 - 1), st.binary(min_size=20, max_size=20), st.integers(0, 2**64 - 1))
def test_python_bindings_equal_the_contract_views(
    env: HubEnv, number: int, raw_address: bytes, round_: int
) -> None:
    who = to_checksum_address(raw_address)
    chain_id, hub = env.chain.chain.chain_id, env.hub.address
    functions = env.hub.functions
    assert functions.requestBinding(number, who).call() == request_binding(
        chain_id, hub, number, who
    )
    feed = number.to_bytes(32, "big")
    expected = feed_binding(chain_id, hub, feed, round_, who)
    assert functions.feedBinding(feed, round_, who).call() == expected


@pytest.mark.parametrize("side", ["input", "output"])
def test_both_sides_refuse_the_same_out_of_range_value(env: HubEnv, side: str) -> None:
    model = MODELS[2]  # packed on both sides, partial last words
    lay = model.layout
    inputs, outputs = [0] * lay.n_inputs, [0] * lay.n_outputs
    packing, values = (lay.inputs, inputs) if side == "input" else (lay.outputs, outputs)
    values[-1] = 1 << (packing.bits - 1)
    with pytest.raises(StatementError, match=f"{side} #{len(values) - 1} "):
        lay.public_inputs(0, inputs, outputs)
    with pytest.raises(TransactionReverted) as info:
        env.chain.chain.call(env.hub.functions.statementFor(env.id(model), 0, inputs, outputs))
    assert info.value.error_name == "ValueOutOfRange"
    assert info.value.error_args == (
        int(side == "output"),
        len(values) - 1,
        values[-1],
        packing.bits,
    )
