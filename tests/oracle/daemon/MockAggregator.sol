// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of a Chainlink-style aggregator a feed source reads.
contract MockAggregator {
    uint8 public decimals;
    int256 internal answer;
    uint80 internal roundId;
    uint256 internal updatedAt;
    uint80 internal answeredInRound;

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    function setAnswer(int256 answer_) external {
        answer = answer_;
        roundId += 1;
        updatedAt = block.timestamp;
        answeredInRound = roundId;
    }

    /// A round as a dead or lagging aggregator reports it.
    function setRound(uint80 roundId_, int256 answer_, uint256 updatedAt_, uint80 answeredInRound_) external {
        (roundId, answer, updatedAt, answeredInRound) = (roundId_, answer_, updatedAt_, answeredInRound_);
    }

    function latestRoundData()
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        return (roundId, answer, updatedAt, updatedAt, answeredInRound);
    }
}
