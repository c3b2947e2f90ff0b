// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The request/fulfil surface of the oracle hub, with the same event, error and
/// function signatures, and a stand-in proof check: proof[0] must equal
/// keccak256(requestId, outputs, msg.sender) so that a wrong proof reverts like the real one.
contract MockHub {
    enum Status {
        None,
        Pending,
        Fulfilled,
        Cancelled
    }

    struct Request {
        bytes32 modelId;
        address requester;
        uint88 fee;
        Status status;
        address callback;
        uint32 callbackGasLimit;
        uint64 expiry;
    }

    event InferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed requester,
        int256[] inputs,
        address callback,
        uint32 callbackGasLimit,
        uint256 fee,
        uint64 expiry
    );
    event InferenceFulfilled(
        uint256 indexed requestId, bytes32 indexed modelId, address indexed submitter, int256[] outputs
    );

    error UnknownRequest(uint256 requestId);
    error AlreadyFulfilled(uint256 requestId);
    error InvalidProof();

    uint256 public nextRequestId = 1;
    mapping(uint256 => Request) internal requests;

    function request(
        bytes32 modelId,
        int256[] calldata inputs,
        address callback,
        uint32 callbackGasLimit,
        uint64 expiry
    ) external payable returns (uint256 requestId) {
        requestId = nextRequestId++;
        requests[requestId] = Request(
            modelId, msg.sender, uint88(msg.value), Status.Pending, callback, callbackGasLimit, expiry
        );
        emit InferenceRequested(
            requestId, modelId, msg.sender, inputs, callback, callbackGasLimit, msg.value, expiry
        );
    }

    function fulfill(uint256 requestId, int256[] calldata outputs, uint256[8] calldata proof) external {
        Request storage r = requests[requestId];
        if (r.status == Status.None) revert UnknownRequest(requestId);
        if (r.status == Status.Fulfilled) revert AlreadyFulfilled(requestId);
        if (proof[0] != uint256(keccak256(abi.encode(requestId, outputs, msg.sender)))) {
            revert InvalidProof();
        }
        r.status = Status.Fulfilled;
        emit InferenceFulfilled(requestId, r.modelId, msg.sender, outputs);
    }

    function getRequest(uint256 requestId) external view returns (Request memory) {
        if (requests[requestId].status == Status.None) revert UnknownRequest(requestId);
        return requests[requestId];
    }
}
