"""Solidity verifier for a Groth16 verifying key over BN254, rendered from our own template.

The contract's entry point is

    verifyProof(uint256[8] calldata proof, uint256[N] calldata input) external view

which returns iff the proof is valid and otherwise reverts with a custom error; keys with
at most `MAX_BATCH_PUBLIC_INPUTS` inputs also get ``verifyBatch`` for n proofs at once
(`circuits.solidity_batch`). Reverting
(rather than returning false) means a transaction, and eth_estimateGas, succeed only with a
valid proof, and a caller cannot forget to check a boolean.

What it checks, and why that is sound:

* every public input is ``< r``: inputs are rejected, never reduced, so each statement has
  exactly one encoding and a proof cannot be replayed under ``x + r``;
* every proof word is ``< q``; the precompiles then check that A and C are on the curve and
  that B is on the twist and in the order-r subgroup;
* ``vk_x = IC_0 + sum x_i * IC_i`` with ECMUL (0x07) and ECADD (0x06), and one pairing
  call (0x08) checks ``e(-A, B) e(alpha, beta) e(vk_x, gamma) e(C, delta) = 1``.

Gas: the code is unrolled inline assembly over one scratch region, so a verification costs
the EIP-1108 precompile prices plus a few hundred gas. The key's G2 points are written in
the precompile's word order by `g2_to_evm`, the one place that order lives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from eth_utils.abi import function_signature_to_4byte_selector
from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.optimized_bn128.optimized_curve import b, b2, is_inf, is_on_curve, multiply

from circuits.errors import SolidityRenderError
from circuits.field import Q, R, check_canonical
from circuits.groth16.data import G1, G2, Proof, VerifyingKey, g2_to_evm
from circuits.solidity_batch import (
    BATCH_ERROR_DECL,
    BATCH_SHAPE_ERROR,
    MAX_BATCH_PUBLIC_INPUTS,
    batch_function,
)

#: Custom errors of the rendered contract, by Solidity signature.
VERIFIER_ERRORS = (
    "PublicInputNotInField(uint256)",
    "ProofCoordinateNotInField(uint256)",
    "ProofPointInvalid()",
    "ProofInvalid()",
    BATCH_SHAPE_ERROR,
)
#: EIP-170 limit on deployed code.
MAX_CODE_SIZE = 24576
#: Most public inputs a rendered verifier takes: the unrolled code grows by about 128 bytes
#: per input and must stay under `MAX_CODE_SIZE` (pack public values to need fewer). The one
#: limit of the project: the chain side's statement takes it from the façade, and the hub's
#: ``Groth16VerifierABI.MAX_PUBLIC_INPUTS`` must equal it (a test compares them).
MAX_PUBLIC_INPUTS = 180

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_HEADER_KEY = re.compile(r"[A-Za-z0-9_.\-]+")
_SOLIDITY_PRAGMA = "^0.8.20"

_PREAMBLE = """\
// SPDX-License-Identifier: MIT
// GENERATED FILE, DO NOT EDIT. Rendered by zkoracle from a Groth16 verifying key: the
// constants below are the key itself, so regenerate this file from the key instead.
"""

_ERROR_DECLS = """\
    /// @notice Public input `index` is not a canonical field element (it is >= r).
    error PublicInputNotInField(uint256 index);
    /// @notice Proof word `index` (EVM layout) is not a canonical coordinate (it is >= q).
    error ProofCoordinateNotInField(uint256 index);
    /// @notice The pairing precompile rejected the proof points: A or C is not on the
    ///         curve, B is not on the twist or not in the order-r subgroup (e.g. its
    ///         coordinates are in the wrong order), or the call ran out of gas.
    error ProofPointInvalid();
    /// @notice The points are well formed but the Groth16 pairing equation does not hold.
    error ProofInvalid();
"""

# Memory: the assembly block is the whole function body and ends the call itself, so it
# owns memory from 0x80. The pairing input is four (G1, G2) pairs of six words:
# (-A, B) at 0x80, (alpha, beta) at 0x140, (vk_x, gamma) at 0x200, (C, delta) at 0x2c0.
# vk_x is accumulated in place at 0x200, with ECMUL scratch at 0x240..0x29f that gamma
# overwrites afterwards. Fixed addresses save an ADD per access over a free-memory base.
_NEG_A, _B, _ALPHA, _BETA = 0x80, 0xC0, 0x140, 0x180
_VKX, _GAMMA, _C, _DELTA, _END = 0x200, 0x240, 0x2C0, 0x300, 0x380
_MUL = _GAMMA
# Calldata: the ABI places the static arrays in line after the selector.
_PROOF_AT, _INPUT_AT = 0x04, 0x104


def _selector(signature: str) -> str:
    word = int.from_bytes(function_signature_to_4byte_selector(signature), "big") << 224
    return f"0x{word:064x}"


def _hex(v: int) -> str:
    return f"0x{v:064x}"


def _check_g1(name: str, p: G1) -> None:
    x, y = p
    if not (0 <= x < Q and 0 <= y < Q):
        raise SolidityRenderError(f"verifying key: {name} has a coordinate outside [0, q)")
    if not is_on_curve((FQ(x), FQ(y), FQ(1)), b):
        raise SolidityRenderError(f"verifying key: {name} = ({x}, {y}) is not on the curve")


def _check_g2(name: str, p: G2) -> None:
    (x0, x1), (y0, y1) = p
    if not all(0 <= c < Q for c in (x0, x1, y0, y1)):
        raise SolidityRenderError(f"verifying key: {name} has a coordinate outside [0, q)")
    point = (FQ2([x0, x1]), FQ2([y0, y1]), FQ2.one())
    if not is_on_curve(point, b2):
        raise SolidityRenderError(f"verifying key: {name} is not on the G2 twist curve")
    if not is_inf(multiply(point, R)):
        raise SolidityRenderError(f"verifying key: {name} is not in the order-r subgroup")


def _check_key(vk: VerifyingKey) -> None:
    """A malformed key would render a verifier that rejects every proof: refuse it here."""
    if vk.n_public < 1:
        raise SolidityRenderError("verifying key: it has no public input (IC needs >= 2 points)")
    if vk.n_public > MAX_PUBLIC_INPUTS:
        raise SolidityRenderError(
            f"verifying key: {vk.n_public} public inputs, more than the {MAX_PUBLIC_INPUTS} "
            f"a verifier holds within the {MAX_CODE_SIZE}-byte code limit; pack public values"
        )
    _check_g1("alpha1", vk.alpha1)
    for name in ("beta2", "gamma2", "delta2"):
        _check_g2(name, getattr(vk, name))
    for i, p in enumerate(vk.ic):
        _check_g1(f"IC[{i}]", p)


def _header_lines(header: Mapping[str, str] | None) -> list[str]:
    lines: list[str] = []
    for key, value in (header or {}).items():
        if not _HEADER_KEY.fullmatch(key):
            raise SolidityRenderError(f"header key {key!r}: use letters, digits, '_', '.', '-'")
        if not value.isprintable():
            raise SolidityRenderError(f"header value of {key!r} must be one printable line")
        lines.append(f"//   {key}: {value}")
    return ["//", *lines] if lines else []


def _constants(vk: VerifyingKey) -> list[str]:
    out = ["    // Verifying key. Each G2 point is four words in the order the pairing"]
    out.append("    // precompile reads them (EIP-197).")
    out.append(f"    uint256 internal constant ALPHA_X = {_hex(vk.alpha1[0])};")
    out.append(f"    uint256 internal constant ALPHA_Y = {_hex(vk.alpha1[1])};")
    for name, point in (("BETA", vk.beta2), ("GAMMA", vk.gamma2), ("DELTA", vk.delta2)):
        for j, word in enumerate(g2_to_evm(point)):
            out.append(f"    uint256 internal constant {name}_{j} = {_hex(word)};")
    for i, (x, y) in enumerate(vk.ic):
        out.append(f"    uint256 internal constant IC{i}_X = {_hex(x)};")
        out.append(f"    uint256 internal constant IC{i}_Y = {_hex(y)};")
    return out


def _x(v: int) -> str:
    return f"0x{v:x}"


def _call(precompile: int, at: int, size: int, out: int, out_size: int = 0x40) -> str:
    return f"staticcall(gas(), {precompile:#04x}, {_x(at)}, {_x(size)}, {_x(out)}, {_x(out_size)})"


def _asm_proof_checks() -> list[str]:
    out = [
        "            // Every proof word must be a canonical coordinate: rejected, never reduced."
    ]
    out.append(f"            let valid := lt(calldataload({_x(_PROOF_AT)}), q)")
    for i in range(1, 8):
        out.append(
            f"            valid := and(valid, lt(calldataload({_x(_PROOF_AT + 32 * i)}), q))"
        )
    out.append(
        f"            if iszero(valid) {{ firstOutOfRange({_x(_PROOF_AT)}, 8, q, E_COORD) }}"
    )
    # The precompiles read all-zero coordinates as the point at infinity and would take it;
    # the Python verifier and arkworks (groth16py) reject it, and an honest proof never has
    # it (A and C carry random blinding), so it is rejected here too: all three agree.
    out.append("            // A, B or C at infinity (all-zero coordinates) is not a proof.")
    for first, words in ((0, 2), (2, 4), (6, 2)):
        zero = _or_all([f"calldataload({_x(_PROOF_AT + 32 * (first + j))})" for j in range(words)])
        out.append(f"            if iszero({zero}) {{ fail0(E_POINT) }}")
    return out


def _or_all(terms: list[str]) -> str:
    """Yul `or` of every term."""
    expr = terms[0]
    for t in terms[1:]:
        expr = f"or({expr}, {t})"
    return expr


def _asm_vk_x(vk: VerifyingKey) -> list[str]:
    out = [
        "            // vk_x = IC0 + sum input[i] * IC[i + 1]; each input must be < r.",
        f"            mstore({_x(_VKX)}, IC0_X)",
        f"            mstore({_x(_VKX + 0x20)}, IC0_Y)",
        "            let ok := 1",
    ]
    for i in range(vk.n_public):
        out += [
            f"            mstore({_x(_MUL)}, IC{i + 1}_X)",
            f"            mstore({_x(_MUL + 0x20)}, IC{i + 1}_Y)",
            f"            mstore({_x(_MUL + 0x40)}, calldataload({_x(_INPUT_AT + 32 * i)}))",
            f"            valid := and(valid, lt(mload({_x(_MUL + 0x40)}), r))",
            f"            ok := and(ok, {_call(0x07, _MUL, 0x60, _MUL)})",
            f"            ok := and(ok, {_call(0x06, _VKX, 0x80, _VKX)})",
        ]
    check = f"firstOutOfRange({_x(_INPUT_AT)}, {vk.n_public}, r, E_INPUT)"
    out.append(f"            if iszero(valid) {{ {check} }}")
    return out


def _asm_store_g2(name: str, at: int) -> list[str]:
    return [f"            mstore({_x(at + 0x20 * j)}, {name}_{j})" for j in range(4)]


def _asm_pairing() -> list[str]:
    return [
        "            // (-A, B): A.y < q was checked, so q - A.y does not wrap; the mod keeps",
        "            // the point at infinity (0, 0) as it is. B is already in EIP-197 order.",
        f"            mstore({_x(_NEG_A)}, calldataload({_x(_PROOF_AT)}))",
        f"            let ay := calldataload({_x(_PROOF_AT + 0x20)})",
        f"            mstore({_x(_NEG_A + 0x20)}, mod(sub(q, ay), q))",
        f"            calldatacopy({_x(_B)}, {_x(_PROOF_AT + 0x40)}, 0x80)",
        "            // (alpha, beta)",
        f"            mstore({_x(_ALPHA)}, ALPHA_X)",
        f"            mstore({_x(_ALPHA + 0x20)}, ALPHA_Y)",
        *_asm_store_g2("BETA", _BETA),
        "            // (vk_x, gamma): vk_x is already in place.",
        *_asm_store_g2("GAMMA", _GAMMA),
        "            // (C, delta)",
        f"            calldatacopy({_x(_C)}, {_x(_PROOF_AT + 0xC0)}, 0x40)",
        *_asm_store_g2("DELTA", _DELTA),
        f"            ok := and(ok, {_call(0x08, _NEG_A, _END - _NEG_A, 0x00, 0x20)})",
        "            if iszero(ok) { fail0(E_POINT) }",
        "            if iszero(mload(0x00)) { fail0(E_INVALID) }",
        "            return(0x00, 0x00)",
    ]


def _asm_prelude() -> list[str]:
    """Yul helpers and error selectors every assembly block of the verifier opens with."""
    e_input, e_coord, e_point, e_invalid = (_selector(s) for s in VERIFIER_ERRORS[:4])
    return [
        "            function fail(selector, index) {",
        "                mstore(0x00, selector)",
        "                mstore(0x04, index)",
        "                revert(0x00, 0x24)",
        "            }",
        "            function fail0(selector) {",
        "                mstore(0x00, selector)",
        "                revert(0x00, 0x04)",
        "            }",
        "            // Reverts naming the first of `count` calldata words at `start` >= `bound`.",
        "            function firstOutOfRange(start, count, bound, selector) {",
        "                for { let i := 0 } lt(i, count) { i := add(i, 1) } {",
        "                    if iszero(lt(calldataload(add(start, shl(5, i))), bound)) {",
        "                        fail(selector, i)",
        "                    }",
        "                }",
        "            }",
        "            // Custom-error selectors, left-aligned in a word.",
        f"            let E_INPUT := {e_input}",
        f"            let E_COORD := {e_coord}",
        f"            let E_POINT := {e_point}",
        f"            let E_INVALID := {e_invalid}",
        "            let q := Q",
        "            let r := R",
    ]


def _asm(vk: VerifyingKey) -> list[str]:
    return [
        "        assembly {",
        *_asm_prelude(),
        *_asm_proof_checks(),
        *_asm_vk_x(vk),
        *_asm_pairing(),
        "        }",
    ]


def render_verifier(
    vk: VerifyingKey,
    *,
    contract_name: str = "Groth16Verifier",
    header: Mapping[str, str] | None = None,
    batch: bool | None = None,
) -> str:
    """Solidity source of a verifier contract for `vk`.

    `batch` adds ``verifyBatch`` (`circuits.solidity_batch`); by default it is rendered when
    the key has at most `MAX_BATCH_PUBLIC_INPUTS` public inputs.

    `header` pairs (e.g. manifest, onnx and r1cs sha256) are written into the generated-file
    comment. Raises `SolidityRenderError` for a malformed key, name or header.
    """
    if not _IDENT.fullmatch(contract_name):
        raise SolidityRenderError(f"contract name {contract_name!r} is not a Solidity identifier")
    _check_key(vk)
    k = vk.n_public
    lines = [
        *_PREAMBLE.splitlines(),
        *_header_lines(header),
        f"pragma solidity {_SOLIDITY_PRAGMA};",
        "",
        f"/// @title {contract_name}: Groth16 verifier over BN254 for {k} public input(s).",
        "/// @notice verifyProof returns iff the proof is valid and reverts with a custom error",
        "///         otherwise; public inputs >= r and proof words >= q are rejected.",
        f"contract {contract_name} {{",
        *_ERROR_DECLS.splitlines(),
        *BATCH_ERROR_DECL.splitlines(),
        "",
        "    /// @notice Number of public inputs the verifying key was made for.",
        f"    uint256 public constant PUBLIC_INPUTS = {k};",
        "",
        f"    uint256 internal constant R = {R}; // scalar field",
        f"    uint256 internal constant Q = {Q}; // base field",
        "",
        *_constants(vk),
        "",
        "    /// @param proof [a.x, a.y, b.x.c1, b.x.c0, b.y.c1, b.y.c0, c.x, c.y]",
        "    /// @param input the public inputs, each < r, in circuit order",
        f"    function verifyProof(uint256[8] calldata proof, uint256[{k}] calldata input)",
        "        external",
        "        view",
        "    {",
        "        // The arguments are read at their fixed ABI offsets (0x04 and 0x104).",
        "        proof;",
        "        input;",
        *_asm(vk),
        "    }",
        *_batch_lines(vk, batch),
        "}",
    ]
    return "\n".join(lines) + "\n"


def _batch_lines(vk: VerifyingKey, batch: bool | None) -> list[str]:
    if batch is None:
        batch = vk.n_public <= MAX_BATCH_PUBLIC_INPUTS
    elif batch and vk.n_public > MAX_BATCH_PUBLIC_INPUTS:
        raise SolidityRenderError(
            f"verifying key: {vk.n_public} public inputs, more than the "
            f"{MAX_BATCH_PUBLIC_INPUTS} a verifier with verifyBatch holds within "
            f"the {MAX_CODE_SIZE}-byte code limit"
        )
    return ["", *batch_function(vk, _asm_prelude())] if batch else []


def verifier_calldata(proof: Proof, public_inputs: Sequence[int]) -> tuple[list[int], list[int]]:
    """The two ABI arguments of ``verifyProof``: the proof words and the public inputs.

    Raises `FieldRangeError` for an input outside [0, r): the contract would reject it.
    """
    return list(proof.words()), check_canonical(public_inputs)
