// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The part of a Chainlink-style aggregator a feed source reads.
contract MockAggregator {
    uint8 public decimals;
    int256 internal answer;
    uint80 internal roundId;

    constructor(uint8 decimals_) {
        decimals = decimals_;
    }

    function setAnswer(int256 answer_) external {
        answer = answer_;
        roundId += 1;
    }

    function latestRoundData()
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        return (roundId, answer, block.timestamp, block.timestamp, roundId);
    }
}
