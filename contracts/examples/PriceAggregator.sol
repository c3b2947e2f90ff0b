// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../IAggregatorV3.sol";

/// @title A price aggregator with the AggregatorV3Interface read side
/// @notice Its transmitter posts one answer per round; round ids run 1, 2, 3... and every
/// posted round is final at once. Reading a round not posted yet reverts `NoDataPresent`,
/// as Chainlink's aggregators do. The demo runs one for ETH/USD fed by a price path.
contract PriceAggregator is IAggregatorV3 {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    uint8 public immutable decimals;
    address public immutable transmitter;
    string public description;
    uint80 public latestRound;
    mapping(uint80 roundId => Round) internal _rounds;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error NoDataPresent(uint80 roundId);
    error NotTransmitter(address caller);

    constructor(uint8 decimals_, string memory description_) {
        decimals = decimals_;
        description = description_;
        transmitter = msg.sender;
    }

    /// @notice Post the answer of the next round (transmitter only).
    function transmit(int256 answer) external returns (uint80 roundId) {
        if (msg.sender != transmitter) revert NotTransmitter(msg.sender);
        roundId = ++latestRound;
        _rounds[roundId] = Round(answer, uint64(block.timestamp), uint64(block.timestamp));
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(latestRound);
    }

    function getRoundData(uint80 roundId) public view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _rounds[roundId];
        if (r.updatedAt == 0) revert NoDataPresent(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }
}
