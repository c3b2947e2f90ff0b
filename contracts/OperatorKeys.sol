// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Operators' encryption keys for private-input requests
/// @notice A requester of a private-input model seals its inputs to the operator's
/// secp256k1 encryption key (ECIES). Each operator account publishes that key here, so a
/// requester reads it from the chain instead of receiving it out of band. Only the operator
/// itself can set its key; a key that is not a point of the curve is refused, so a requester
/// never seals to garbage. Every change is logged; `version` counts them.
contract OperatorKeys {
    /// @dev The secp256k1 base field prime: y^2 = x^3 + 7 over it.
    uint256 private constant _P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;

    struct Key {
        uint256 x;
        uint256 y;
        uint64 version;
        uint64 updatedAt;
    }

    mapping(address operator => Key) private _keys;

    /// @notice (x, y) is not an affine point of secp256k1 (or a coordinate is not below p).
    error InvalidPublicKey(uint256 x, uint256 y);
    /// @notice The operator has never published a key.
    error NoKey(address operator);

    event EncryptionKeyPublished(address indexed operator, uint256 x, uint256 y, uint64 version);

    /// @notice Publish (or replace) the caller's encryption key, given by its affine
    /// coordinates. Publishing the current key again changes nothing and logs nothing.
    function publish(uint256 x, uint256 y) external {
        if (!isOnCurve(x, y)) revert InvalidPublicKey(x, y);
        Key storage k = _keys[msg.sender];
        if (k.version != 0 && k.x == x && k.y == y) return;
        k.x = x;
        k.y = y;
        k.version += 1;
        k.updatedAt = uint64(block.timestamp);
        emit EncryptionKeyPublished(msg.sender, x, y, k.version);
    }

    /// @notice The operator's key; reverts with `NoKey` when it has none.
    function keyOf(address operator)
        external
        view
        returns (uint256 x, uint256 y, uint64 version, uint64 updatedAt)
    {
        Key storage k = _keys[operator];
        if (k.version == 0) revert NoKey(operator);
        return (k.x, k.y, k.version, k.updatedAt);
    }

    /// @notice True when (x, y) satisfies y^2 = x^3 + 7 (mod p) with both below p. The
    /// point at infinity has no affine form, so it is never accepted.
    function isOnCurve(uint256 x, uint256 y) public pure returns (bool) {
        if (x >= _P || y >= _P) return false;
        uint256 rhs = addmod(mulmod(mulmod(x, x, _P), x, _P), 7, _P);
        return mulmod(y, y, _P) == rhs;
    }
}
