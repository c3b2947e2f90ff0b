"""``verifyBatch`` of the rendered verifier: n proofs of its key with n + 3 pairings.

    verifyBatch(uint256[] calldata proofs, uint256[] calldata inputs) external view

`proofs` holds n proofs of eight words each (EVM layout) back to back, `inputs` their n
public-input vectors of k words each, in the same order. The function returns iff every
proof is valid and reverts otherwise, with the errors of ``verifyProof`` (indices count
words across the whole batch) plus ``BatchShapeInvalid`` for an empty batch or lengths that
are not 8n and kn. The equation and the Fiat-Shamir coefficients are those of
`circuits.groth16.batch`, which is the reference: the seed is keccak256 over the calldata
words of both arrays (never block data), rho_0 = 1 and rho_i = keccak256(seed, i) mod r.

Cost: per proof one ECMUL for rho_i A_i (none for rho_0 = 1), one ECMUL + ECADD for
rho_i C_i and one pairing pair; per batch 45000 + 3 pairing pairs and k + 2 ECMULs
(S alpha, then S IC_0 + sum s_j IC_j with the inputs combined per position by MULMOD).

Memory (the assembly ends the call, so it owns memory from 0x80): the seed and counter at
0x00/0x20 for the coefficient hashes; an accumulator at 0x80 and an ECMUL scratch at 0xc0
(x, y, scalar); the k + 1 position sums from 0x120; then the pairing input, n + 3 pairs of
six words, which first serves as the buffer the seed is hashed from.
"""

from __future__ import annotations

from eth_utils.abi import function_signature_to_4byte_selector

from circuits.groth16.data import VerifyingKey

#: Signature of the batch entry point (the same for every k: both arrays are dynamic).
BATCH_SIGNATURE = "verifyBatch(uint256[],uint256[])"
#: Most public inputs for which `verifyBatch` is rendered: its vk_x code is unrolled like
#: ``verifyProof``'s, and both together must fit the EIP-170 code size limit.
MAX_BATCH_PUBLIC_INPUTS = 80

_ACC, _MUL, _SUMS = 0x80, 0xC0, 0x120

BATCH_SHAPE_ERROR = "BatchShapeInvalid(uint256,uint256)"
BATCH_ERROR_DECL = """\
    /// @notice A batch must hold n >= 1 proofs (8n words) and n input vectors (k n words).
    error BatchShapeInvalid(uint256 proofWords, uint256 inputWords);
"""


def _x(v: int) -> str:
    return f"0x{v:x}"


def _ecmul(point: tuple[str, str] | None, scalar: str, out: str) -> list[str]:
    """ECMUL of `point` (or the point already at _MUL) by `scalar` into `out`."""
    lines = []
    if point is not None:
        lines += [f"mstore({_x(_MUL)}, {point[0]})", f"mstore({_x(_MUL + 0x20)}, {point[1]})"]
    lines += [
        f"mstore({_x(_MUL + 0x40)}, {scalar})",
        f"ok := and(ok, staticcall(gas(), 0x07, {_x(_MUL)}, 0x60, {out}, 0x40))",
    ]
    return lines


_ECADD = f"ok := and(ok, staticcall(gas(), 0x06, {_x(_ACC)}, 0x80, {_x(_ACC)}, 0x40))"


#: Up to this many public inputs, the per-input checks and sums are unrolled (a few
#: hundred bytes of code at most); above it they loop, so the largest verifiers still fit
#: the EIP-170 code size limit.
UNROLL_MAX_INPUTS = 16


def _shape_and_ranges(k: int) -> list[str]:
    return [
        "let pOff := proofs.offset",
        "let pLen := proofs.length",
        "let iOff := inputs.offset",
        "let iLen := inputs.length",
        "let n := shr(3, pLen)",
        f"if or(or(iszero(n), and(pLen, 7)), iszero(eq(iLen, mul(n, {k})))) {{",
        "    mstore(0x00, E_SHAPE)",
        "    mstore(0x04, pLen)",
        "    mstore(0x24, iLen)",
        "    revert(0x00, 0x44)",
        "}",
        "// Every proof word < q and every input < r: rejected, never reduced. A proof is",
        "// eight words, so its check is unrolled: one loop step per proof, not per word.",
        "let valid := 1",
        "for { let p := pOff } lt(p, add(pOff, shl(5, pLen))) { p := add(p, 0x100) } {",
        *(f"    valid := and(valid, lt(calldataload({at}), q))" for at in _words("p", 8)),
        "}",
        "if iszero(valid) { firstOutOfRange(pOff, pLen, q, E_COORD) }",
        *_input_range_loop(k),
        "if iszero(valid) { firstOutOfRange(iOff, iLen, r, E_INPUT) }",
    ]


def _words(at: str, count: int) -> list[str]:
    """Yul expressions of `count` consecutive words from `at` (unrolled code)."""
    return [at, *(f"add({at}, {_x(32 * w)})" for w in range(1, count))]


def _input_range_loop(k: int) -> list[str]:
    """Every input word < r; one loop step per input vector when k is small enough for the
    unrolled checks to cost little code, else one per word."""
    if k > UNROLL_MAX_INPUTS:
        return [
            "for { let w := 0 } lt(w, iLen) { w := add(w, 1) } {",
            "    valid := and(valid, lt(calldataload(add(iOff, shl(5, w))), r))",
            "}",
        ]
    return [
        "let iEnd := add(iOff, shl(5, iLen))",
        f"for {{ let x := iOff }} lt(x, iEnd) {{ x := add(x, {_x(32 * k)}) }} {{",
        *(f"    valid := and(valid, lt(calldataload({at}), r))" for at in _words("x", k)),
        "}",
    ]


def _position_sums(k: int) -> list[str]:
    """s_j += rho x_ij for the k inputs of proof i (at xi): unrolled when k is small."""
    if k > UNROLL_MAX_INPUTS:
        return [
            f"for {{ let j := 0 }} lt(j, {k}) {{ j := add(j, 1) }} {{",
            f"    let slot := add({_x(_SUMS + 0x20)}, shl(5, j))",
            "    let x := calldataload(add(xi, shl(5, j)))",
            "    mstore(slot, addmod(mload(slot), mulmod(rho, x, r), r))",
            "}",
        ]
    return [
        f"mstore({_x(_SUMS + 0x20 * (j + 1))}, addmod(mload({_x(_SUMS + 0x20 * (j + 1))}), "
        f"mulmod(rho, calldataload({at}), r), r))"
        for j, at in enumerate(_words("xi", k))
    ]


def _seed(pairs_at: int) -> list[str]:
    return [
        "// Fiat-Shamir seed over every proof word and every input word, in calldata order.",
        f"calldatacopy({_x(pairs_at)}, pOff, shl(5, pLen))",
        f"calldatacopy(add({_x(pairs_at)}, shl(5, pLen)), iOff, shl(5, iLen))",
        f"mstore(0x00, keccak256({_x(pairs_at)}, shl(5, add(pLen, iLen))))",
    ]


def _proof_loop(k: int, pairs_at: int) -> list[str]:
    """Per proof: rho_i, the position sums, the pair (-rho_i A_i, B_i), acc += rho_i C_i."""
    body = [
        "let pr := add(pOff, shl(8, i))",
        "let rho := 1",
        "if i {",
        "    mstore(0x20, i)",
        "    rho := mod(keccak256(0x00, 0x40), r)",
        "}",
        f"mstore({_x(_SUMS)}, addmod(mload({_x(_SUMS)}), rho, r))",
        f"let xi := add(iOff, mul(i, {_x(32 * k)}))",
        *_position_sums(k),
        "switch i",
        "case 0 { calldatacopy(e, pr, 0x40) }",
        "default {",
        *(
            "    " + s
            for s in _ecmul(("calldataload(pr)", "calldataload(add(pr, 0x20))"), "rho", "e")
        ),
        "}",
        "// -(rho A): A.y < q, so q - y does not wrap; the mod keeps infinity (0, 0).",
        "mstore(add(e, 0x20), mod(sub(q, mload(add(e, 0x20))), q))",
        "calldatacopy(add(e, 0x40), add(pr, 0x40), 0x80)",
        "switch i",
        f"case 0 {{ calldatacopy({_x(_ACC)}, add(pr, 0xc0), 0x40) }}",
        "default {",
        *(
            "    " + s
            for s in _ecmul(
                ("calldataload(add(pr, 0xc0))", "calldataload(add(pr, 0xe0))"), "rho", _x(_MUL)
            )
        ),
        f"    {_ECADD}",
        "}",
        "e := add(e, 0xc0)",
    ]
    return [
        "let ok := 1",
        f"let e := {_x(pairs_at)}",
        "for { let i := 0 } lt(i, n) { i := add(i, 1) } {",
        *("    " + s for s in body),
        "}",
    ]


def _g2(name: str, at: str) -> list[str]:
    return [f"mstore(add({at}, {_x(0x20 * j)}), {name}_{j})" for j in range(4)]


def _fixed_pairs(vk: VerifyingKey) -> list[str]:
    """(S alpha, beta), (S IC_0 + sum s_j IC_j, gamma), (sum rho_i C_i, delta) after the n."""
    out = [
        "// (sum rho C, delta) first: the accumulator is reused for vk_x.",
        f"mstore(add(e, 0x180), mload({_x(_ACC)}))",
        f"mstore(add(e, 0x1a0), mload({_x(_ACC + 0x20)}))",
        *_g2("DELTA", "add(e, 0x1c0)"),
        "// (S alpha, beta) with S = sum rho_i.",
        *_ecmul(("ALPHA_X", "ALPHA_Y"), f"mload({_x(_SUMS)})", "e"),
        *_g2("BETA", "add(e, 0x40)"),
        "// (vk_x, gamma): S IC0 + sum_j s_j IC_j, the inputs combined per position.",
        *_ecmul(("IC0_X", "IC0_Y"), f"mload({_x(_SUMS)})", _x(_ACC)),
    ]
    for j in range(1, vk.n_public + 1):
        out += _ecmul((f"IC{j}_X", f"IC{j}_Y"), f"mload({_x(_SUMS + 0x20 * j)})", _x(_MUL))
        out.append(_ECADD)
    out += [
        f"mstore(add(e, 0xc0), mload({_x(_ACC)}))",
        f"mstore(add(e, 0xe0), mload({_x(_ACC + 0x20)}))",
        *_g2("GAMMA", "add(e, 0x100)"),
    ]
    return out


def batch_function(vk: VerifyingKey, prelude: list[str]) -> list[str]:
    """Solidity lines of ``verifyBatch`` for `vk`; `prelude` is the Yul helpers and error
    selectors the assembly of ``verifyProof`` also opens with (indented 12 spaces)."""
    k = vk.n_public
    pairs_at = _SUMS + 0x20 * (k + 1)
    asm = [
        *_shape_and_ranges(k),
        *_seed(pairs_at),
        *_proof_loop(k, pairs_at),
        *_fixed_pairs(vk),
        "let size := mul(add(n, 3), 0xc0)",
        f"ok := and(ok, staticcall(gas(), 0x08, {_x(pairs_at)}, size, 0x00, 0x20))",
        "if iszero(ok) { fail0(E_POINT) }",
        "if iszero(mload(0x00)) { fail0(E_INVALID) }",
        "return(0x00, 0x00)",
    ]
    return [
        "    /// @notice Verify n proofs at once (n + 3 pairings, Fiat-Shamir coefficients over",
        "    ///         every proof and input word); returns iff all are valid.",
        "    /// @param proofs n proofs of 8 words each (EVM layout), back to back",
        f"    /// @param inputs n public-input vectors of {k} words each, in the same order",
        "    function verifyBatch(uint256[] calldata proofs, uint256[] calldata inputs)",
        "        external",
        "        view",
        "    {",
        "        assembly {",
        *prelude,
        f"            let E_SHAPE := 0x{_selector_word(BATCH_SHAPE_ERROR)}",
        *("            " + s for s in asm),
        "        }",
        "    }",
    ]


def _selector_word(signature: str) -> str:
    return function_signature_to_4byte_selector(signature).hex() + "0" * 56
