// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The read side of a Chainlink-style price aggregator (AggregatorV3Interface)
/// @notice A round is final once `updatedAt` is non-zero and `answeredInRound >= roundId`.
/// Reading a round that does not exist yet reverts or returns `updatedAt == 0`.
interface IAggregatorV3 {
    function decimals() external view returns (uint8);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 id, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
