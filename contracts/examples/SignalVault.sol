// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkOracle} from "../IZkOracle.sol";
import {IZkOracleConsumer} from "../IZkOracleConsumer.sol";

/// @title Example consumer: a vault that sets its target position from a proven signal
/// @notice The signal is the first output of the model, in its quantized units. It maps to
/// a position by two thresholds:
///
///     signal >= longAt   -> Long  (target exposure +100%)
///     signal <= shortAt  -> Short (target exposure -100%)
///     otherwise          -> Flat  (0)
///
/// A signal arrives either as a hub callback for a request the keeper made, or by anyone
/// calling `syncFromFeed`, which reads the feed through `latestNoOlderThan` and so refuses a
/// stale value. A signal older than the one applied last is refused.
///
/// What the vault trusts, pinned at construction and checked again on every callback and
/// feed read: the model's owner and id (the hub derives an id from its owner, so nobody
/// else can hold it), the code hash of the model's verifier (the deployer compares it with
/// the verifier rendered from the model's verification key), and for the feed its model
/// and its updater, who chooses the feed's inputs (a proof shows the model was run on them,
/// not that they are the right ones). The keeper can cancel its expired requests; the hub
/// refunds their fees to the vault, which forwards them to the keeper.
contract SignalVault is IZkOracleConsumer {
    enum Position {
        Flat,
        Long,
        Short
    }

    IZkOracle public immutable hub;
    bytes32 public immutable modelId;
    address public immutable modelOwner;
    address public immutable verifier;
    bytes32 public immutable verifierCodeHash;
    /// @notice The only account trusted to post the feed's rounds.
    address public immutable feedUpdater;
    bytes32 public immutable feedId;
    int256 public immutable longAt;
    int256 public immutable shortAt;
    uint256 public immutable maxAge;
    uint32 public immutable callbackGasLimit;
    address public immutable keeper;

    Position public position;
    int256 public signal;
    /// @notice When the applied signal was produced (callback time or feed update time).
    uint64 public signalAt;
    mapping(uint256 requestId => bool) public pending;

    event SignalApplied(int256 signal, Position position, uint64 producedAt, bool fromFeed);
    event PositionChanged(Position from, Position to);

    error BadConfig(string what);
    error UntrustedModel(bytes32 modelId);
    error UntrustedFeed(bytes32 feedId);
    error RefundFailed(uint256 amount);
    error NotHub(address caller);
    error NotKeeper(address caller);
    error NotOurRequest(uint256 requestId);
    error SignalNotNewer(uint64 producedAt, uint64 appliedAt);

    /// @param modelOwner_ The account trusted to have registered `modelId_`.
    /// @param verifierCodeHash_ Code hash of the verifier the model must be checked by.
    /// @param feedId_ Feed of `modelId_` to read, or 0 for callbacks only.
    /// @param feedUpdater_ The account trusted to post the feed's rounds (not address(0)).
    constructor(
        IZkOracle hub_,
        address modelOwner_,
        bytes32 modelId_,
        bytes32 verifierCodeHash_,
        bytes32 feedId_,
        address feedUpdater_,
        int256 longAt_,
        int256 shortAt_,
        uint256 maxAge_,
        uint32 callbackGasLimit_
    ) {
        if (shortAt_ >= longAt_) revert BadConfig("shortAt must be below longAt");
        IZkOracle.Model memory m = hub_.getModel(modelId_); // reverts UnknownModel for a wrong id
        if (m.owner != modelOwner_ || m.verifierCodeHash != verifierCodeHash_ || m.retired) {
            revert UntrustedModel(modelId_);
        }
        if (m.verifier.codehash != verifierCodeHash_) revert UntrustedModel(modelId_);
        hub = hub_;
        modelId = modelId_;
        modelOwner = modelOwner_;
        verifier = m.verifier;
        verifierCodeHash = verifierCodeHash_;
        feedUpdater = feedUpdater_;
        if (feedId_ != bytes32(0)) {
            if (feedUpdater_ == address(0)) revert BadConfig("feed updater");
            _checkFeed(feedId_);
        }
        feedId = feedId_;
        longAt = longAt_;
        shortAt = shortAt_;
        maxAge = maxAge_;
        callbackGasLimit = callbackGasLimit_;
        keeper = msg.sender;
    }

    /// @notice Fee refunds of cancelled requests.
    receive() external payable {}

    /// @notice Ask the hub for a signal on `inputs` (keeper only); msg.value is the fee.
    function requestSignal(int256[] calldata inputs) external payable returns (uint256 requestId) {
        if (msg.sender != keeper) revert NotKeeper(msg.sender);
        requestId = hub.request{value: msg.value}(modelId, inputs, address(this), callbackGasLimit, 0);
        pending[requestId] = true;
    }

    /// @notice Hub callback: apply the proven signal of a request this vault made.
    function onInference(uint256 requestId, bytes32 model, int256[] calldata outputs) external {
        if (msg.sender != address(hub)) revert NotHub(msg.sender);
        if (!pending[requestId] || model != modelId) revert NotOurRequest(requestId);
        if (verifier.codehash != verifierCodeHash) revert UntrustedModel(model);
        delete pending[requestId];
        _apply(outputs[0], uint64(block.timestamp), false);
    }

    /// @notice Apply the feed's latest signal if it is at most `maxAge` old and newer than
    /// the signal applied last. Anyone may call.
    function syncFromFeed() external returns (Position) {
        _checkFeed(feedId);
        if (verifier.codehash != verifierCodeHash) revert UntrustedModel(modelId);
        (int256[] memory outputs, , uint64 updatedAt) = hub.latestNoOlderThan(feedId, maxAge);
        _apply(outputs[0], updatedAt, true);
        return position;
    }

    /// @notice Cancel a request of this vault that has expired (or whose model was
    /// retired), keeper only; the hub's refund is forwarded to the keeper.
    function cancelExpired(uint256 requestId) external {
        if (msg.sender != keeper) revert NotKeeper(msg.sender);
        if (!pending[requestId]) revert NotOurRequest(requestId);
        delete pending[requestId];
        uint256 before = address(this).balance;
        hub.cancel(requestId);
        uint256 refund = address(this).balance - before;
        (bool ok, ) = keeper.call{value: refund}("");
        if (!ok) revert RefundFailed(refund);
    }

    /// @notice The position a signal maps to.
    function positionFor(int256 s) public view returns (Position) {
        if (s >= longAt) return Position.Long;
        if (s <= shortAt) return Position.Short;
        return Position.Flat;
    }

    /// @notice Target exposure in basis points of the vault: +10000, 0 or -10000.
    function targetExposureBps() external view returns (int256) {
        if (position == Position.Long) return 10_000;
        if (position == Position.Short) return -10_000;
        return 0;
    }

    /// @dev The feed must still publish the pinned model and be posted by the pinned updater
    /// (its owner can change the updater at any time).
    function _checkFeed(bytes32 feedId_) private view {
        IZkOracle.Feed memory f = hub.getFeed(feedId_);
        if (f.modelId != modelId || f.updater != feedUpdater) revert UntrustedFeed(feedId_);
    }

    function _apply(int256 s, uint64 producedAt, bool fromFeed) private {
        if (producedAt <= signalAt && signalAt != 0) revert SignalNotNewer(producedAt, signalAt);
        Position next = positionFor(s);
        Position prev = position;
        signal = s;
        signalAt = producedAt;
        if (next != prev) {
            position = next;
            emit PositionChanged(prev, next);
        }
        emit SignalApplied(s, next, producedAt, fromFeed);
    }
}
