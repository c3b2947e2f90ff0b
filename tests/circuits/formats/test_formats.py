"""File formats: iden3 .r1cs / .wtns and snarkjs JSON, round trips and snarkjs itself.

snarkjs (the pinned CLI under node) is the judge of byte compatibility: it must read our
.r1cs, accept our witness and reject a tampered one, and accept our proofs given the
verification_key.json / public.json / proof.json we write.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.builder import Builder
from circuits.errors import BackendError, FormatError
from circuits.field import R
from circuits.formats import r1cs as r1cs_format
from circuits.formats import snarkjs_json
from circuits.formats import wtns as wtns_format
from circuits.formats import zkey as zkey_format
from circuits.groth16.backend import KeyInfo, get_backend
from circuits.groth16.data import Proof
from circuits.groth16.trapdoor import make_trapdoor
from circuits.program import Circuit, Witness
from circuits.provers.snarkjs_cli import SnarkjsCli

Define = Callable[[Builder], None]


# circuits ------------------------------------------------------------------------------
def chain(b: Builder) -> None:
    """A public input used nowhere, squarings, constants, and a computed public output."""
    b.public_input("binding")
    x = b.public_input("x")
    out = b.public_input("y")
    s = b.private_input("s")
    cur = s
    for i in range(12):
        cur = b.mul(cur, cur + i) + 3 * x - 1
    b.assign_public(out, cur)


def bits(b: Builder) -> None:
    """A hint decomposed and pinned inside its gadget, with an out-of-order declaration."""
    v = b.private_input("v")
    total = b.public_input("total")
    with b.gadget("bits"):
        bs = b.hint("bits", [v], 8, n=8)
        for bit in bs:
            b.assert_bool(bit)
        b.assert_equal(sum((bit * (1 << i) for i, bit in enumerate(bs)), b.constant(0)), v)
    b.assert_equal(total, v + 1)


def inverse(b: Builder) -> None:
    """An inverse hint pinned by a product, and arrays of inputs."""
    xs = b.private_inputs("xs", 3)
    ys = b.public_inputs("ys", 2)
    with b.gadget("inverse"):
        (inv,) = b.hint("inverse_or_zero", [xs[0]], 1)
        b.assert_mul(inv, xs[0], 1)
    b.assert_mul(xs[1], xs[2], ys[0] + ys[1])


CIRCUITS: dict[str, tuple[Define, dict[str, int | list[int]]]] = {
    "chain": (chain, {"binding": 77, "x": 5, "s": 2}),
    "bits": (bits, {"v": 200, "total": 201}),
    "inverse": (inverse, {"xs": [9, 3, 4], "ys": [5, 7]}),
}


def built(name: str) -> tuple[Circuit, Witness]:
    define, values = CIRCUITS[name]
    b = Builder()
    define(b)
    circuit = b.build()
    return circuit, circuit.solve(values)


@pytest.fixture(scope="module")
def cli() -> SnarkjsCli:
    return SnarkjsCli()


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Circuit, Witness, Path, Path]]:
    out = {}
    d = tmp_path_factory.mktemp("formats")
    for name in CIRCUITS:
        circuit, w = built(name)
        r1cs_path, wtns_path = d / f"{name}.r1cs", d / f"{name}.wtns"
        r1cs_format.write(r1cs_path, circuit.cs)
        wtns_format.write(wtns_path, w.values)
        out[name] = (circuit, w, r1cs_path, wtns_path)
    return out


# round trips ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CIRCUITS))
def test_r1cs_decode_inverts_encode(name: str) -> None:
    circuit, _ = built(name)
    cs = circuit.cs
    f = r1cs_format.decode(r1cs_format.encode(cs))
    assert (f.n_wires, f.n_pub_in, f.n_pub_out) == (cs.n_wires, cs.n_public, 0)
    assert f.n_prv_in == len(cs.private_input_names)
    assert f.constraints == list(zip(cs.a, cs.b, cs.c, strict=True))
    assert r1cs_format.encode(cs) == r1cs_format.encode(circuit.cs)


@pytest.mark.parametrize("name", list(CIRCUITS))
def test_building_with_and_without_values_gives_identical_r1cs(name: str) -> None:
    define, values = CIRCUITS[name]
    plain, eager = Builder(), Builder(values=values)
    define(plain)
    define(eager)
    with_values = eager.build()
    assert r1cs_format.encode(plain.build().cs) == r1cs_format.encode(with_values.cs)
    assert eager.witness() == with_values.solve(values).values


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=R - 1), min_size=1, max_size=40))
def test_wtns_decode_inverts_encode(values: list[int]) -> None:
    data = wtns_format.encode(values)
    assert wtns_format.decode(data) == values
    assert len(data) == 4 + 8 + 12 + 40 + 12 + 32 * len(values)


def test_wtns_refuses_unreduced_values() -> None:
    data = bytearray(wtns_format.encode([1, 2]))
    data[-32:] = (R + 2).to_bytes(32, "little")
    with pytest.raises(FormatError, match="not reduced"):
        wtns_format.decode(bytes(data), "w.wtns")


def test_snarkjs_json_round_trips() -> None:
    trapdoor = make_trapdoor(3, seed=7)
    vk = trapdoor.verifying_key()
    proof = trapdoor.forge([1, 2, R - 1])
    assert snarkjs_json.vk_from_json(json.loads(json.dumps(snarkjs_json.vk_to_json(vk)))) == vk
    assert (
        snarkjs_json.proof_from_json(json.loads(json.dumps(snarkjs_json.proof_to_json(proof))))
        == proof
    )
    assert snarkjs_json.public_from_json(snarkjs_json.public_to_json([0, 5, R - 1])) == [
        0,
        5,
        R - 1,
    ]
    assert Proof.from_bytes(proof.to_bytes()) == proof


def test_snarkjs_json_files_round_trip(tmp_path: Path) -> None:
    trapdoor = make_trapdoor(2, seed=3)
    vk, proof = trapdoor.verifying_key(), trapdoor.forge([4, 5])
    snarkjs_json.write_vk(tmp_path / "vk.json", vk)
    snarkjs_json.write_proof(tmp_path / "proof.json", proof)
    snarkjs_json.write_public(tmp_path / "public.json", [4, 5])
    assert snarkjs_json.read_vk(tmp_path / "vk.json") == vk
    assert snarkjs_json.read_proof(tmp_path / "proof.json") == proof
    assert snarkjs_json.read_public(tmp_path / "public.json") == [4, 5]


# bad files -----------------------------------------------------------------------------
def _damaged(tmp_path: Path, good: bytes, suffix: str) -> dict[str, Path]:
    cases = {"truncated": good[: len(good) - 7], "bad magic": b"nope" + good[4:], "empty": b""}
    out = {}
    for what, data in cases.items():
        p = tmp_path / f"{what.replace(' ', '_')}.{suffix}"
        p.write_bytes(data)
        out[what] = p
    return out


@pytest.mark.parametrize("what", ["truncated", "bad magic", "empty"])
def test_damaged_binary_files_raise_format_error_naming_the_path(tmp_path: Path, what: str) -> None:
    circuit, w = built("chain")
    readers: list[tuple[bytes, str, Callable[[Path], object]]] = [
        (r1cs_format.encode(circuit.cs), "r1cs", r1cs_format.read),
        (wtns_format.encode(w.values), "wtns", wtns_format.read),
    ]
    for good, suffix, read in readers:
        path = _damaged(tmp_path, good, suffix)[what]
        with pytest.raises(FormatError) as err:
            read(path)
        assert err.value.path == str(path)
        assert str(path) in str(err.value)


def test_damaged_zkey_raises_format_error_naming_the_path(tmp_path: Path) -> None:
    for what, data in {"bad magic": b"r1cs" + bytes(40), "truncated": b"zkey" + bytes(3)}.items():
        p = tmp_path / f"{what.replace(' ', '_')}.zkey"
        p.write_bytes(data)
        with pytest.raises(FormatError, match=re.escape(str(p))):
            zkey_format.read_header(p)


def test_bad_json_files_raise_format_error_naming_the_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"protocol": "groth16", ')
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"protocol": "groth16", "IC": []}))
    for read in (snarkjs_json.read_vk, snarkjs_json.read_proof, snarkjs_json.read_public):
        with pytest.raises(FormatError, match=re.escape(str(broken))):
            read(broken)
    with pytest.raises(FormatError, match=re.escape(str(wrong))):
        snarkjs_json.read_vk(wrong)
    with pytest.raises(FormatError, match=re.escape(str(wrong))):
        snarkjs_json.read_proof(wrong)


# snarkjs reads what we write -----------------------------------------------------------
def _info_counts(lines: list[str]) -> dict[str, int]:
    out = {}
    for line in lines:
        m = re.search(r"# of ([A-Za-z ]+): (\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


@pytest.mark.snarkjs
@pytest.mark.parametrize("name", list(CIRCUITS))
def test_snarkjs_r1cs_info_reads_our_counts(
    cli: SnarkjsCli, files: dict[str, tuple[Circuit, Witness, Path, Path]], name: str
) -> None:
    circuit, _, r1cs_path, _ = files[name]
    counts = _info_counts(cli.run(["r1cs", "info", r1cs_path]))
    cs = circuit.cs
    assert counts == {
        "Wires": cs.n_wires,
        "Constraints": cs.n_constraints,
        "Private Inputs": len(cs.private_input_names),
        "Public Inputs": cs.n_public,
        "Labels": cs.n_wires,
        "Outputs": 0,
    }


@pytest.mark.snarkjs
@pytest.mark.parametrize("name", list(CIRCUITS))
def test_snarkjs_wtns_check_accepts_our_witness(
    cli: SnarkjsCli, files: dict[str, tuple[Circuit, Witness, Path, Path]], name: str
) -> None:
    _, _, r1cs_path, wtns_path = files[name]
    lines = cli.run(["wtns", "check", r1cs_path, wtns_path])
    assert any("WITNESS IS CORRECT" in line for line in lines)


@pytest.mark.snarkjs
def test_snarkjs_wtns_check_rejects_a_tampered_witness(
    cli: SnarkjsCli, files: dict[str, tuple[Circuit, Witness, Path, Path]], tmp_path: Path
) -> None:
    _, w, r1cs_path, _ = files["chain"]
    values = list(w.values)
    values[-2] = (values[-2] + 1) % R
    bad = tmp_path / "tampered.wtns"
    wtns_format.write(bad, values)
    with pytest.raises(BackendError, match="WITNESS IS NOT CORRECT"):
        cli.run(["wtns", "check", r1cs_path, bad])


@pytest.fixture(scope="module")
def ark_proved(tmp_path_factory: pytest.TempPathFactory) -> tuple[KeyInfo, Witness, Proof]:
    circuit, w = built("chain")
    native = get_backend("native", progress=lambda _m: None)
    info = native.setup(circuit, tmp_path_factory.mktemp("native"))
    return info, w, native.prove(info.key_dir, w, cs=circuit.cs)


@pytest.mark.snarkjs
def test_snarkjs_verifies_our_json_files(
    cli: SnarkjsCli, ark_proved: tuple[KeyInfo, Witness, Proof], tmp_path: Path
) -> None:
    info, w, proof = ark_proved
    snarkjs_json.write_proof(tmp_path / "proof.json", proof)
    snarkjs_json.write_public(tmp_path / "public.json", w.public)
    lines = cli.run(
        [
            "groth16",
            "verify",
            info.verification_key,
            tmp_path / "public.json",
            tmp_path / "proof.json",
        ]
    )
    assert lines[-1].endswith("OK!")
    changed = list(w.public)
    changed[0] = (changed[0] + 1) % R  # the public input no constraint uses
    snarkjs_json.write_public(tmp_path / "public.json", changed)
    with pytest.raises(BackendError, match="Invalid proof"):
        cli.run(
            [
                "groth16",
                "verify",
                info.verification_key,
                tmp_path / "public.json",
                tmp_path / "proof.json",
            ]
        )
