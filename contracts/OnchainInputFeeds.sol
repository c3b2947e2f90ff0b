// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "./IAggregatorV3.sol";
import {IZkOracle} from "./IZkOracle.sol";

/// @notice The feed functions of the hub this contract drives.
interface IHubFeeds is IZkOracle {
    function createFeed(bytes32 feedId, bytes32 modelId) external;
}

/// @title Feeds whose inputs come from the chain: nobody is trusted for the inputs
/// @notice A feed declared here reads its model inputs from on-chain sources, in
/// declaration order:
///
///  * an aggregator window (`window >= 1`): `window` consecutive rounds of a Chainlink-style
///    aggregator, newest first: the round id the updater names, then the ones before it;
///  * a view call (`window == 0`): `target.staticcall(callData)` returning one int256.
///
/// `update` reads the named rounds (and the view calls) in the same transaction, checks them,
/// converts each value to the model's input scale and posts the round to the hub as the
/// feed's updater: the hub then verifies the proof against exactly these inputs. Anyone may
/// update. A round must exist and be final (`updatedAt != 0`, `answeredInRound >= roundId`,
/// not in the future); the newest round of a window must be at most `maxInputAge` seconds
/// old and not older than the one the previous update used.
///
/// Conversion (exact, integer only): a value v with d decimals stands for v / 10^d; the
/// model's input with s fractional bits is q = round(v * 2^s / 10^d), rounding half away
/// from zero. |v| * 2^s must stay below 2^255 (`ConversionOverflow`); the hub then checks
/// that q fits the model's input bit width (`ValueOutOfRange`).
///
/// Binding: the hub sees this contract as the submitter, so a proof for round n of a feed
/// is bound to (chain, hub, feed, n, this contract); whoever sends it publishes the same
/// round. The hub round is always its latest round + 1.
contract OnchainInputFeeds {
    struct Source {
        address target; // aggregator (window >= 1) or contract to call (window == 0)
        uint16 window; // rounds of the aggregator read; 0 for a view call
        uint8 decimals; // view call: decimals of its value; aggregator: read at declaration
        bytes callData; // view call: the call returning int256; empty for an aggregator
    }

    struct Declaration {
        bytes32 modelId;
        uint64 maxInputAge;
        uint8 inputScale;
        uint16 nInputs;
    }

    IHubFeeds public immutable hub;
    mapping(bytes32 feedId => Declaration) internal _declarations;
    mapping(bytes32 feedId => Source[]) internal _sources;
    /// @notice Newest aggregator round used so far, per feed and source index.
    mapping(bytes32 feedId => mapping(uint256 source => uint80)) public lastRoundUsed;

    event OnchainFeedDeclared(bytes32 indexed feedId, bytes32 indexed modelId, uint64 maxInputAge);
    event OnchainFeedUpdated(bytes32 indexed feedId, uint64 round, address indexed sender, uint80[] roundIds);

    error UnknownOnchainFeed(bytes32 feedId);
    error BadDeclaration(string what);
    error WrongRoundCount(uint256 expected, uint256 got);
    error SourceReverted(uint256 source, uint80 roundId);
    error RoundUnavailable(uint256 source, uint80 roundId);
    error RoundNotFinal(uint256 source, uint80 roundId);
    error RoundTooOld(uint256 source, uint80 roundId, uint256 updatedAt, uint64 maxInputAge);
    error RoundBeforePrevious(uint256 source, uint80 roundId, uint80 previous);
    error RoundNotNext(bytes32 feedId, uint64 round, uint64 next);
    error ConversionOverflow(int256 value, uint8 decimals, uint8 scale);

    constructor(IHubFeeds hub_) {
        hub = hub_;
    }

    /// @notice Create hub feed `feedId` of model `modelId` (this contract becomes its owner
    /// and only updater) with inputs read from `sources`; their values must add up to the
    /// model's input count.
    function declareFeed(bytes32 feedId, bytes32 modelId, uint64 maxInputAge, Source[] calldata sources) external {
        IZkOracle.Model memory m = hub.getModel(modelId);
        if (maxInputAge == 0) revert BadDeclaration("maxInputAge must be >= 1 s");
        uint256 total;
        for (uint256 i; i < sources.length; ++i) {
            Source memory s = sources[i];
            if (s.target.code.length == 0) revert BadDeclaration("a source has no code");
            if (s.window == 0) {
                total += 1;
            } else {
                if (s.callData.length != 0) revert BadDeclaration("an aggregator takes no callData");
                s.decimals = IAggregatorV3(s.target).decimals();
                total += s.window;
            }
            if (s.decimals > 77) revert BadDeclaration("decimals above 77");
            _sources[feedId].push(s);
        }
        if (total != m.nInputs) revert BadDeclaration("sources do not give the model's input count");
        _declarations[feedId] = Declaration(modelId, maxInputAge, m.inputScale, m.nInputs);
        hub.createFeed(feedId, modelId);
        emit OnchainFeedDeclared(feedId, modelId, maxInputAge);
    }

    /// @notice The declaration and sources of feed `feedId`.
    function getDeclaration(bytes32 feedId) external view returns (Declaration memory, Source[] memory) {
        return (_declaration(feedId), _sources[feedId]);
    }

    /// @notice The hub round the next update of feed `feedId` posts.
    function nextRound(bytes32 feedId) public view returns (uint64) {
        return hub.getFeed(feedId).round + 1;
    }

    /// @notice The model inputs `update` would build now from aggregator rounds `roundIds`
    /// (one per source; 0 for a view call), with every check `update` makes.
    function inputsFor(bytes32 feedId, uint80[] calldata roundIds) public view returns (int256[] memory inputs) {
        Declaration memory d = _declaration(feedId);
        Source[] storage sources = _sources[feedId];
        if (roundIds.length != sources.length) revert WrongRoundCount(sources.length, roundIds.length);
        inputs = new int256[](d.nInputs);
        uint256 at;
        for (uint256 i; i < sources.length; ++i) {
            Source memory s = sources[i];
            if (s.window == 0) {
                inputs[at++] = toFixedPoint(_callValue(s, i), s.decimals, d.inputScale);
                continue;
            }
            if (roundIds[i] < s.window) revert RoundUnavailable(i, roundIds[i]);
            _checkNewest(feedId, i, roundIds[i], s.target, d.maxInputAge);
            for (uint256 j; j < s.window; ++j) {
                uint80 id = roundIds[i] - uint80(j);
                inputs[at++] = toFixedPoint(_roundValue(s.target, i, id), s.decimals, d.inputScale);
            }
        }
    }

    /// @notice Publish hub round `round` (which must be `nextRound(feedId)`) of feed `feedId`
    /// from aggregator rounds `roundIds`: `outputs` and a proof for
    /// `hub.feedPublicInputs(feedId, round, this, inputsFor(feedId, roundIds), outputs)`.
    /// Anyone may call. Reverts `RoundNotNext` when another update got in first.
    function update(
        bytes32 feedId,
        uint64 round,
        uint80[] calldata roundIds,
        int256[] calldata outputs,
        uint256[8] calldata proof
    ) external {
        uint64 next = nextRound(feedId);
        if (round != next) revert RoundNotNext(feedId, round, next);
        int256[] memory inputs = inputsFor(feedId, roundIds);
        for (uint256 i; i < roundIds.length; ++i) {
            if (roundIds[i] != 0) lastRoundUsed[feedId][i] = roundIds[i];
        }
        hub.updateFeed(feedId, inputs, outputs, round, proof);
        emit OnchainFeedUpdated(feedId, round, msg.sender, roundIds);
    }

    /// @notice round(v * 2^scale / 10^decimals), half away from zero (see the contract notes).
    function toFixedPoint(int256 v, uint8 decimals, uint8 scale) public pure returns (int256) {
        if (v == type(int256).min || scale > 254) revert ConversionOverflow(v, decimals, scale);
        uint256 mag = uint256(v < 0 ? -v : v);
        if (mag >= uint256(1) << (255 - scale)) revert ConversionOverflow(v, decimals, scale);
        uint256 unit = 10 ** decimals;
        uint256 q = ((mag << scale) + unit / 2) / unit;
        return v < 0 ? -int256(q) : int256(q);
    }

    function _declaration(bytes32 feedId) internal view returns (Declaration memory d) {
        d = _declarations[feedId];
        if (d.modelId == bytes32(0)) revert UnknownOnchainFeed(feedId);
    }

    /// @dev The newest round of a window: final, fresh, not before the previous update's.
    function _checkNewest(bytes32 feedId, uint256 i, uint80 id, address target, uint64 maxAge) internal view {
        uint80 previous = lastRoundUsed[feedId][i];
        if (id < previous) revert RoundBeforePrevious(i, id, previous);
        (, , uint256 updatedAt) = _round(target, i, id);
        if (block.timestamp - updatedAt > maxAge) revert RoundTooOld(i, id, updatedAt, maxAge);
    }

    function _roundValue(address target, uint256 i, uint80 id) internal view returns (int256 answer) {
        (answer, , ) = _round(target, i, id);
    }

    /// @dev Round `id` of aggregator `target` (source `i`), reverting unless it is final.
    function _round(address target, uint256 i, uint80 id)
        internal
        view
        returns (int256 answer, uint80 answeredInRound, uint256 updatedAt)
    {
        if (id == 0) revert RoundUnavailable(i, id);
        uint80 got;
        try IAggregatorV3(target).getRoundData(id) returns (uint80 r, int256 a, uint256, uint256 u, uint80 air) {
            (got, answer, updatedAt, answeredInRound) = (r, a, u, air);
        } catch {
            revert SourceReverted(i, id);
        }
        if (got != id) revert RoundUnavailable(i, id);
        if (updatedAt == 0 || answeredInRound < id || updatedAt > block.timestamp) revert RoundNotFinal(i, id);
    }

    function _callValue(Source memory s, uint256 i) internal view returns (int256) {
        (bool ok, bytes memory data) = s.target.staticcall(s.callData);
        if (!ok || data.length < 32) revert SourceReverted(i, 0);
        return abi.decode(data, (int256));
    }
}
