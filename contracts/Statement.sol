// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The public statement a model proof makes, as the hub builds it
/// @notice Public inputs, in this order (the layout of the artifact manifest):
///
///  1. `binding`: keccak256 of the context, reduced mod r (see `requestBinding`,
///     `feedBinding`). The circuit only carries it; Groth16 binds every public input, so a
///     proof is valid for one request (or feed round) and one submitter only.
///  2. the model inputs, encoded with the model's input packing;
///  3. the model outputs, encoded with the model's output packing;
///  4. for a model with private weights, their registered Poseidon commitment.
///
/// A model may commit to its inputs or outputs instead (`privacy`): that part is then one
/// word, the salted Poseidon commitment (a field element below r). A threshold claim is
/// registered as two unpacked outputs, the threshold and the boolean result.
///
/// Encoding of a list of signed values v_0..v_{n-1} with signed bit width `bits`
/// (every value must satisfy -2^(bits-1) <= v < 2^(bits-1), 1 <= bits <= 253) and
/// `perWord` values per field element:
///
///  * perWord == 1 (unpacked): one field element per value, `v mod r`
///    (v >= 0 -> v; v < 0 -> r + v).
///  * perWord >= 2 (packed, perWord * bits <= 253): ceil(n / perWord) field elements; value i
///    goes to element i / perWord at slot j = i % perWord, and
///        element_k = sum_j (v_{k*perWord + j} + 2^(bits-1)) << (bits * j),
///    the last element holding only the remaining values. Each offset value lies in
///    [0, 2^bits), so an element is below 2^253 < r and the packing is injective.
///
/// The range check is what keeps the encoding honest: without it an int256 output v - r
/// would encode to the same field element as v.
library Statement {
    /// @notice The BN254 scalar field order.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Largest signed bit width (and largest perWord * bits) a packing may use.
    uint256 internal constant MAX_BITS = 253;

    /// @notice `privacy` bit: the statement carries a commitment to the inputs (one word).
    uint8 internal constant PRIVATE_INPUTS = 1;
    /// @notice `privacy` bit: the statement carries a commitment to the outputs (one word).
    uint8 internal constant PRIVATE_OUTPUTS = 2;

    /// @notice Stored `privacy` bit, set at registration when a weights commitment is given
    /// (so a public-weights fulfilment never reads the commitment's slot).
    uint8 internal constant PRIVATE_WEIGHTS = 4;

    /// @notice Which list a value belongs to, for error reports.
    enum Side {
        Input,
        Output
    }

    /// @notice A value does not fit the model's declared signed bit width.
    error ValueOutOfRange(Side side, uint256 index, int256 value, uint8 bits);

    /// @notice Binding of a request fulfilment: the chain, this hub, the request and the
    /// address that submits the proof (which also receives the fee).
    function requestBinding(uint256 requestId, address submitter) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), requestId, submitter))) % R;
    }

    /// @notice Binding of a feed update. Its preimage is five words long and a request's is
    /// four, so a request binding and a feed binding never share a preimage.
    function feedBinding(bytes32 feedId, uint64 round, address submitter) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), feedId, round, submitter))) % R;
    }

    /// @notice Number of field elements that `n` values take with `perWord` values each.
    function wordCount(uint256 n, uint8 perWord) internal pure returns (uint256) {
        return (n + perWord - 1) / perWord;
    }

    /// @notice True iff (bits, perWord) is a packing this library can encode below r.
    function validPacking(uint8 bits, uint8 perWord) internal pure returns (bool) {
        return bits >= 1 && perWord >= 1 && uint256(bits) * perWord <= MAX_BITS;
    }

    /// @notice `v mod r` for a value already range-checked to |v| <= 2^252.
    function encodeSigned(int256 v) internal pure returns (uint256) {
        return v >= 0 ? uint256(v) : R - uint256(-v);
    }

    /// @notice Range-check `values` and write their encoding to `out[at..]`, which must be
    /// zero there (a fresh array). Reverts `ValueOutOfRange` naming the first bad value.
    function encodeInto(
        int256[] calldata values,
        uint8 bits,
        uint8 perWord,
        Side side,
        uint256[] memory out,
        uint256 at
    ) internal pure {
        int256 half = int256(1) << (bits - 1);
        uint256 n = values.length;
        for (uint256 i; i < n; ) {
            int256 v = values[i];
            if (v < -half || v >= half) revert ValueOutOfRange(side, i, v, bits);
            unchecked {
                if (perWord == 1) {
                    out[at + i] = encodeSigned(v);
                } else {
                    // v + half is in [0, 2^bits): no overflow, no sign.
                    out[at + i / perWord] |= uint256(v + half) << (uint256(bits) * (i % perWord));
                }
                ++i;
            }
        }
    }
}
