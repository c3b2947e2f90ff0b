// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The ABI between the oracle hub and a generated Groth16 verifier
/// @notice A verifier generated for a circuit with N public inputs exposes
///
///     function verifyProof(uint256[8] calldata proof, uint256[N] calldata input) external view
///
/// and REVERTS when the proof is invalid, when an input is not below the scalar field order
/// r, or when a proof point is malformed. A verifier that instead returns a `bool` is
/// accepted too: the hub treats a returned `false` as a rejection.
///
/// `proof` is the EVM layout [A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x, C.y].
///
/// Solidity cannot declare that function for every N, so the hub does not call it through an
/// interface. Both parameters are static arrays, which the ABI encodes inline, one word per
/// element, without offsets or lengths; the calldata is therefore exactly
///
///     bytes4(keccak256("verifyProof(uint256[8],uint256[N])")) ‖ proof[0..8] ‖ input[0..N]
///
/// (4 + 32 * (8 + N) bytes). The hub computes the selector for N once, when a model is
/// registered, stores it, and builds that calldata with `encodeCall` below. It calls the
/// verifier with STATICCALL, so a verifier can neither change state nor re-enter the hub.
library Groth16VerifierABI {
    /// @notice Largest number of public inputs a registered model may have: the most a
    /// generated verifier takes within the EIP-170 code limit (`circuits.MAX_PUBLIC_INPUTS`,
    /// which a test holds equal). It also bounds the calldata and memory a fulfilment
    /// builds; a model that needs more should pack.
    uint256 internal constant MAX_PUBLIC_INPUTS = 180;

    /// @notice The selector of `verifyProof(uint256[8],uint256[nPublic])`.
    function selectorFor(uint256 nPublic) internal pure returns (bytes4) {
        return bytes4(keccak256(abi.encodePacked("verifyProof(uint256[8],uint256[", _decimal(nPublic), "])")));
    }

    /// @notice The calldata of `verifyProof(proof, input)` for a verifier with
    /// `input.length` public inputs (see the layout above).
    function encodeCall(bytes4 selector, uint256[8] calldata proof, uint256[] memory input)
        internal
        pure
        returns (bytes memory)
    {
        // encodePacked writes every array element as a full word and no length: the
        // inline encoding of uint256[8] followed by uint256[N].
        return abi.encodePacked(selector, proof, input);
    }

    /// @notice True iff `verifier` accepts `proof` for `input`: the static call neither
    /// reverts nor returns a false word. A target without code is never accepted (a call to
    /// it would succeed vacuously).
    function accepts(address verifier, bytes4 selector, uint256[8] calldata proof, uint256[] memory input)
        internal
        view
        returns (bool ok)
    {
        if (verifier.code.length == 0) return false;
        bytes memory data = encodeCall(selector, proof, input);
        assembly ("memory-safe") {
            // Output goes to scratch space and at most one word is copied, so a verifier
            // cannot make the hub copy a large returndata.
            ok := staticcall(gas(), verifier, add(data, 0x20), mload(data), 0x00, 0x20)
            let size := returndatasize()
            // No return value: the verifier signals failure by reverting only.
            // A return value: it must be at least one word holding exactly 1 (true).
            if and(ok, iszero(iszero(size))) { ok := and(iszero(lt(size, 0x20)), eq(mload(0x00), 1)) }
        }
    }

    function _decimal(uint256 value) private pure returns (bytes memory out) {
        if (value == 0) return "0";
        uint256 digits;
        for (uint256 v = value; v != 0; v /= 10) {
            ++digits;
        }
        out = new bytes(digits);
        for (uint256 v = value; v != 0; v /= 10) {
            out[--digits] = bytes1(uint8(48 + (v % 10)));
        }
    }
}
