// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ModelRegistry} from "./ModelRegistry.sol";
import {Statement} from "./Statement.sol";

/// @title Push feeds: proven model outputs published in strictly increasing rounds
/// @notice The proof shows that the model maps the posted inputs to the posted outputs; it
/// does not show that the inputs are the right ones. Whoever chooses the inputs is trusted
/// for that, so a feed is updated by its creator unless the owner names another updater
/// (or address(0) to let anyone update, for feeds whose inputs anyone can check).
///
/// The binding of round `round` is keccak256(abi.encode(chainid, hub, feedId, round,
/// updater)) mod r: a proof serves one feed round and one submitter, and a round number can
/// never be used twice because it must exceed the stored one.
abstract contract OracleFeeds is ModelRegistry {
    mapping(bytes32 feedId => Feed) internal _feeds;
    mapping(bytes32 feedId => mapping(uint256 index => int256)) internal _feedOutputs;

    /// @notice Create feed `feedId` publishing outputs of the live model `modelId`. The
    /// caller becomes owner and sole updater.
    function createFeed(bytes32 feedId, bytes32 modelId) external {
        _liveModel(modelId);
        if (_feeds[feedId].owner != address(0)) revert FeedExists(feedId);
        _feeds[feedId] = Feed({modelId: modelId, owner: msg.sender, round: 0, updater: msg.sender, updatedAt: 0});
        emit FeedCreated(feedId, modelId, msg.sender);
        emit FeedUpdaterSet(feedId, msg.sender);
    }

    /// @notice Let `updater` post rounds of feed `feedId` (owner only); address(0) lets
    /// anyone post.
    function setFeedUpdater(bytes32 feedId, address updater) external {
        Feed storage f = _feed(feedId);
        if (f.owner != msg.sender) revert NotFeedOwner(feedId, msg.sender);
        f.updater = updater;
        emit FeedUpdaterSet(feedId, updater);
    }

    /// @notice Publish round `round` of feed `feedId`: `outputs` of the feed's model on
    /// `inputs`, with a Groth16 `proof` of `feedPublicInputs(feedId, round, msg.sender,
    /// inputs, outputs)`. `round` must exceed the latest round. Reverts `InvalidProof`,
    /// `RoundNotIncreasing`, `NotFeedUpdater`, `ModelIsRetired`, `WrongInputCount`,
    /// `WrongOutputCount` or `ValueOutOfRange`. Only a STATICCALL leaves the hub, so no
    /// lock is needed.
    function updateFeed(
        bytes32 feedId,
        int256[] calldata inputs,
        int256[] calldata outputs,
        uint64 round,
        uint256[8] calldata proof
    ) external {
        Feed storage f = _feed(feedId);
        if (f.updater != address(0) && f.updater != msg.sender) revert NotFeedUpdater(feedId, msg.sender);
        if (round <= f.round) revert RoundNotIncreasing(feedId, round, f.round);
        _verify(_liveModel(f.modelId), proof, _feedStatement(feedId, round, msg.sender, inputs, outputs));

        f.round = round;
        f.updatedAt = uint64(block.timestamp);
        for (uint256 i; i < outputs.length; ++i) {
            _feedOutputs[feedId][i] = outputs[i];
        }
        emit FeedUpdated(feedId, round, msg.sender, inputs, outputs);
    }

    /// @notice The stored record of feed `feedId`.
    function getFeed(bytes32 feedId) external view returns (Feed memory) {
        return _feed(feedId);
    }

    /// @notice Latest outputs of feed `feedId` with their round and update time; empty
    /// outputs and round 0 before the first update.
    function latest(bytes32 feedId) external view returns (int256[] memory outputs, uint64 round, uint64 updatedAt) {
        return _latest(feedId);
    }

    /// @notice As `latest`, but reverts `StaleFeed` unless the feed was updated at most
    /// `maxAge` seconds ago (a feed never updated is always stale).
    function latestNoOlderThan(bytes32 feedId, uint256 maxAge)
        external
        view
        returns (int256[] memory outputs, uint64 round, uint64 updatedAt)
    {
        (outputs, round, updatedAt) = _latest(feedId);
        if (round == 0 || block.timestamp - updatedAt > maxAge) revert StaleFeed(feedId, updatedAt, maxAge);
    }

    /// @notice The binding a proof for round `round` of feed `feedId` posted by `submitter`
    /// carries.
    function feedBinding(bytes32 feedId, uint64 round, address submitter) external view returns (uint256) {
        return Statement.feedBinding(feedId, round, submitter);
    }

    /// @notice The exact public-input vector `updateFeed` verifies when `submitter` posts
    /// round `round` of feed `feedId` with these inputs and outputs.
    function feedPublicInputs(
        bytes32 feedId,
        uint64 round,
        address submitter,
        int256[] calldata inputs,
        int256[] calldata outputs
    ) external view returns (uint256[] memory) {
        _feed(feedId);
        return _feedStatement(feedId, round, submitter, inputs, outputs);
    }

    /// @notice The public inputs [binding, inputs, outputs] of model `modelId` with
    /// `binding` taken as given: the encoding and packing alone, for off-chain tools.
    function statementFor(bytes32 modelId, uint256 binding, int256[] calldata inputs, int256[] calldata outputs)
        external
        view
        returns (uint256[] memory)
    {
        Model storage m = _registered(modelId);
        return _outputStatement(m, binding, _encodeInputs(m, inputs), outputs);
    }

    function _feedStatement(
        bytes32 feedId,
        uint64 round,
        address submitter,
        int256[] calldata inputs,
        int256[] calldata outputs
    ) internal view returns (uint256[] memory) {
        Model storage m = _models[_feeds[feedId].modelId];
        uint256 binding = Statement.feedBinding(feedId, round, submitter);
        return _outputStatement(m, binding, _encodeInputs(m, inputs), outputs);
    }

    function _feed(bytes32 feedId) internal view returns (Feed storage f) {
        f = _feeds[feedId];
        if (f.owner == address(0)) revert UnknownFeed(feedId);
    }

    function _latest(bytes32 feedId) private view returns (int256[] memory outputs, uint64 round, uint64 updatedAt) {
        Feed storage f = _feed(feedId);
        round = f.round;
        updatedAt = f.updatedAt;
        if (round == 0) return (outputs, round, updatedAt);
        outputs = new int256[](_models[f.modelId].nOutputs);
        for (uint256 i; i < outputs.length; ++i) {
            outputs[i] = _feedOutputs[feedId][i];
        }
    }
}
