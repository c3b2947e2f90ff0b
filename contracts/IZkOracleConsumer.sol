// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Receiver of verified model outputs
/// @notice The hub calls `onInference` after it has verified the proof, stored the outputs
/// and paid the submitter. The call gets exactly the gas limit given in the request; if it
/// reverts or runs out of gas the hub records `CallbackFailed` and the fulfilment stands,
/// so the outputs stay readable through `ZkOracle.result`.
///
/// An implementation MUST check that `msg.sender` is the hub it trusts and that it made
/// request `requestId`: anyone can call this function directly.
interface IZkOracleConsumer {
    /// @notice Delivers the verified outputs of request `requestId` for model `modelId`.
    /// @param outputs The model outputs, quantized with the model's output scale.
    function onInference(uint256 requestId, bytes32 modelId, int256[] calldata outputs) external;
}
