// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkOracle} from "./IZkOracle.sol";
import {IZkOracleConsumer} from "./IZkOracleConsumer.sol";
import {BatchFulfillment} from "./BatchFulfillment.sol";
import {Statement} from "./Statement.sol";

/// @title zkML oracle hub: requests answered with Groth16 proofs of model inferences
/// @notice Flow of a request: `request` escrows the fee and stores the range-checked,
/// encoded inputs; an off-chain prover runs the model and proves the statement
/// [binding, inputs, outputs] (see `Statement`), with the binding computed for its own
/// address (`requestBinding`); `fulfill` rebuilds that statement, has the model's verifier
/// check the proof, stores the outputs, pays the fee to the submitter and finally calls the
/// consumer back. A wrong proof, a changed input or output, a proof for another request or
/// one copied from the mempool by another sender all make `fulfill` revert `InvalidProof`.
///
/// Re-entrancy: `fulfill` and `cancel` hold a lock and mark the request done before any
/// call that can run foreign code (fee payment, callback), and the verifier is called with
/// STATICCALL. `request` makes no external call and stays open, so a consumer may place a
/// follow-up request from its callback.
contract ZkOracle is BatchFulfillment {
    /// @notice Largest callback gas limit a request may ask for.
    uint32 public constant MAX_CALLBACK_GAS = 5_000_000;
    /// @notice Gas kept beyond the callback limit and its 1/64 (EIP-150) share: the cost of
    /// the CALL itself (cold account) and of recording a failure afterwards.
    uint256 public constant CALLBACK_GAS_RESERVE = 10_000;
    /// @notice At most this many bytes of a failed callback's returndata are copied.
    uint256 public constant MAX_REASON_BYTES = 256;
    /// @notice Lifetime of a request whose `expiry` is 0.
    uint64 public constant DEFAULT_TTL = 1 days;

    /// @notice Number of requests made so far; ids run from 1 to requestCount.
    uint256 public requestCount;
    mapping(uint256 requestId => Request) internal _requests;
    /// @dev Per-request words: the encoded input words while the request is pending, the
    /// outputs (int256 bit patterns) once it is fulfilled. Writing the outputs over the
    /// input words costs a warm rewrite instead of a fresh slot, and clearing the input
    /// words left over earns a refund; the inputs stay in the InferenceRequested event.
    mapping(uint256 requestId => mapping(uint256 index => uint256)) internal _words;

    /// @notice Request an inference of `modelId` on `inputs`. msg.value is escrowed as the
    /// fee for whoever fulfils the request with a valid proof.
    /// @param inputs Quantized inputs; each must fit the model's signed input bit width.
    /// @param callback Contract to receive `IZkOracleConsumer.onInference`, or address(0).
    /// @param callbackGasLimit Exact gas the callback gets (at most MAX_CALLBACK_GAS and the
    /// model's `maxCallbackGas`; msg.value must be at least the model's `minFee`).
    /// @param expiry Unix time after which the request can no longer be fulfilled and the
    /// requester may `cancel` it; 0 means now + DEFAULT_TTL.
    /// @return requestId The sequential id of the new request.
    function request(
        bytes32 modelId,
        int256[] calldata inputs,
        address callback,
        uint32 callbackGasLimit,
        uint64 expiry
    ) external payable returns (uint256 requestId) {
        uint256[] memory words = _encodeInputs(_liveModel(modelId), inputs);
        requestId = _open(modelId, words, callback, callbackGasLimit, expiry);
        emit InferenceRequested(requestId, modelId, msg.sender, inputs, callback, callbackGasLimit, msg.value, _requests[requestId].expiry);
    }

    /// @notice Request an inference of a private-input model without revealing the inputs:
    /// `inputCommitment` is their salted Poseidon commitment (the statement's input part),
    /// `ciphertext` the inputs and salt encrypted to the operator's public key (ECIES over
    /// secp256k1, AES-256-GCM; the hub does not read it). Otherwise as `request`.
    function requestPrivate(
        bytes32 modelId,
        uint256 inputCommitment,
        bytes calldata ciphertext,
        address callback,
        uint32 callbackGasLimit,
        uint64 expiry
    ) external payable returns (uint256 requestId) {
        if (_liveModel(modelId).privacy & Statement.PRIVATE_INPUTS == 0) revert WrongInputPrivacy(false);
        if (inputCommitment >= Statement.R) revert NotAFieldElement(inputCommitment);
        uint256[] memory words = new uint256[](1);
        words[0] = inputCommitment;
        requestId = _open(modelId, words, callback, callbackGasLimit, expiry);
        emit PrivateInferenceRequested(
            requestId, modelId, msg.sender, inputCommitment, ciphertext, callback, callbackGasLimit, msg.value,
            _requests[requestId].expiry
        );
    }

    /// @dev Check the request terms, escrow msg.value and store the request with its
    /// statement input words.
    function _open(bytes32 modelId, uint256[] memory words, address callback, uint32 callbackGasLimit, uint64 expiry)
        private
        returns (uint256 requestId)
    {
        Model storage m = _liveModel(modelId);
        if (msg.value > type(uint88).max) revert FeeTooLarge(msg.value);
        if (callbackGasLimit > MAX_CALLBACK_GAS) revert CallbackGasTooHigh(callbackGasLimit, MAX_CALLBACK_GAS);
        if (msg.value < m.minFee) revert FeeBelowModelMinimum(modelId, msg.value, m.minFee);
        uint32 maxGas = m.maxCallbackGas;
        if (maxGas != 0 && callbackGasLimit > maxGas) revert CallbackGasAboveModelMax(modelId, callbackGasLimit, maxGas);
        if (callback != address(0) && callback.code.length == 0) revert CallbackNotContract(callback);
        if (expiry == 0) {
            expiry = uint64(block.timestamp) + DEFAULT_TTL;
        } else if (expiry <= block.timestamp) {
            revert BadExpiry(expiry);
        }
        requestId = ++requestCount;
        _requests[requestId] = Request({
            modelId: modelId,
            requester: msg.sender,
            fee: uint88(msg.value),
            status: Status.Pending,
            callback: callback,
            callbackGasLimit: callbackGasLimit,
            expiry: expiry
        });
        for (uint256 i; i < words.length; ++i) {
            _words[requestId][i] = words[i];
        }
    }

    /// @notice Answer request `requestId` with the model `outputs` and a Groth16 `proof` of
    /// the statement `requestPublicInputs(requestId, msg.sender, outputs)`. On success the
    /// outputs are stored, the fee goes to msg.sender and the callback (if any) is called
    /// with its exact gas limit; a failing callback is recorded as `CallbackFailed` and does
    /// not undo the fulfilment. Reverts `InvalidProof`, `AlreadyFulfilled`,
    /// `RequestExpired`, `ModelIsRetired`, `WrongOutputCount`, `ValueOutOfRange`, or
    /// `InsufficientGasForCallback` when the transaction lacks the gas the callback is owed.
    function fulfill(uint256 requestId, int256[] calldata outputs, uint256[8] calldata proof) external nonReentrant {
        Request storage req = _pendingRequest(requestId);
        if (block.timestamp > req.expiry) revert RequestExpired(requestId, req.expiry);
        bytes32 modelId = req.modelId;
        Model storage m = _liveModel(modelId);
        uint256 binding = Statement.requestBinding(requestId, msg.sender);
        uint256[] memory inputWords = _storedInputWords(requestId, m);
        _verify(modelId, m, proof, _outputStatement(m, binding, inputWords, outputs));

        req.status = Status.Fulfilled;
        _storeOutputs(requestId, inputWords.length, outputs);
        emit InferenceFulfilled(requestId, modelId, msg.sender, outputs);
        _pay(msg.sender, req.fee);
        _deliver(requestId, modelId, req.callback, req.callbackGasLimit, outputs);
    }

    /// @notice Cancel a pending request and refund its fee to the requester (the only
    /// caller allowed), once it has expired or its model has been retired.
    function cancel(uint256 requestId) external nonReentrant {
        Request storage req = _pendingRequest(requestId);
        if (req.requester != msg.sender) revert NotRequester(requestId, msg.sender);
        if (block.timestamp <= req.expiry && !_models[req.modelId].retired) {
            revert NotCancellable(requestId, req.expiry);
        }
        req.status = Status.Cancelled;
        uint256 refund = req.fee;
        emit RequestCancelled(requestId, refund);
        _pay(msg.sender, refund);
    }

    /// @inheritdoc IZkOracle
    function result(uint256 requestId) external view returns (Status status, int256[] memory outputs) {
        Request storage req = _requests[requestId];
        status = req.status;
        if (status == Status.None) revert UnknownRequest(requestId);
        if (status != Status.Fulfilled) return (status, outputs);
        outputs = new int256[](_models[req.modelId].nOutputs);
        for (uint256 i; i < outputs.length; ++i) {
            outputs[i] = int256(_words[requestId][i]);
        }
    }

    /// @inheritdoc IZkOracle
    function getRequest(uint256 requestId) external view returns (Request memory) {
        Request memory req = _requests[requestId];
        if (req.status == Status.None) revert UnknownRequest(requestId);
        return req;
    }

    /// @notice The encoded input words of the pending request `requestId`.
    function requestInputWords(uint256 requestId) external view returns (uint256[] memory) {
        return _storedInputWords(requestId, _models[_pendingRequest(requestId).modelId]);
    }

    /// @notice The binding a proof for request `requestId` submitted by `submitter` carries.
    function requestBinding(uint256 requestId, address submitter) external view returns (uint256) {
        return Statement.requestBinding(requestId, submitter);
    }

    /// @notice The exact public-input vector `fulfill` verifies when `submitter` answers
    /// the pending request `requestId` with `outputs` (reverts as `fulfill` does on bad
    /// outputs).
    function requestPublicInputs(uint256 requestId, address submitter, int256[] calldata outputs)
        external
        view
        returns (uint256[] memory)
    {
        Model storage m = _models[_pendingRequest(requestId).modelId];
        uint256 binding = Statement.requestBinding(requestId, submitter);
        return _outputStatement(m, binding, _storedInputWords(requestId, m), outputs);
    }

    /// @dev The request, reverting unless it is pending.
    function _pendingRequest(uint256 requestId) private view returns (Request storage req) {
        req = _requests[requestId];
        Status status = req.status;
        if (status == Status.Pending) return req;
        if (status == Status.None) revert UnknownRequest(requestId);
        if (status == Status.Fulfilled) revert AlreadyFulfilled(requestId);
        revert RequestNotPending(requestId, status);
    }

    function _requestRecord(uint256 requestId) internal view override returns (Request storage) {
        return _requests[requestId];
    }

    function _storedInputWords(uint256 requestId, Model storage m)
        internal
        view
        override
        returns (uint256[] memory words)
    {
        bool committed = m.privacy & Statement.PRIVATE_INPUTS != 0;
        words = new uint256[](committed ? 1 : Statement.wordCount(m.nInputs, m.inputsPerWord));
        for (uint256 i; i < words.length; ++i) {
            words[i] = _words[requestId][i];
        }
    }

    function _storeOutputs(uint256 requestId, uint256 nInputWords, int256[] calldata outputs) internal override {
        mapping(uint256 => uint256) storage w = _words[requestId];
        uint256 n = outputs.length;
        for (uint256 i; i < n; ++i) {
            w[i] = uint256(outputs[i]);
        }
        for (uint256 i = n; i < nInputWords; ++i) {
            delete w[i];
        }
    }

    /// @dev Call the consumer back with exactly `gasLimit` gas; record a failure, never
    /// revert on one.
    function _deliver(
        uint256 requestId,
        bytes32 modelId,
        address callback,
        uint32 gasLimit,
        int256[] calldata outputs
    ) internal override {
        if (callback == address(0)) return;
        bytes memory data = abi.encodeCall(IZkOracleConsumer.onInference, (requestId, modelId, outputs));
        (bool ok, bytes memory reason) = _callWithExactGas(callback, gasLimit, data);
        if (!ok) emit CallbackFailed(requestId, reason);
    }

    /// @dev CALL `target` with exactly `gasLimit` gas. The check before the call makes sure
    /// the 63/64 rule cannot shrink the callee's gas below the limit, so a submitter cannot
    /// make a callback fail by sending too little gas: such a transaction reverts as a whole.
    /// At most MAX_REASON_BYTES of a failure's returndata are copied (no return bomb).
    function _callWithExactGas(address target, uint256 gasLimit, bytes memory data)
        private
        returns (bool ok, bytes memory reason)
    {
        uint256 needed = gasLimit + gasLimit / 63 + CALLBACK_GAS_RESERVE;
        uint256 available = gasleft();
        if (available < needed) revert InsufficientGasForCallback(available, needed);
        assembly ("memory-safe") {
            ok := call(gasLimit, target, 0, add(data, 0x20), mload(data), 0, 0)
            if iszero(ok) {
                let size := returndatasize()
                if gt(size, MAX_REASON_BYTES) {
                    size := MAX_REASON_BYTES
                }
                reason := mload(0x40)
                mstore(reason, size)
                returndatacopy(add(reason, 0x20), 0, size)
                mstore(0x40, add(add(reason, 0x20), and(add(size, 0x1f), not(0x1f))))
            }
        }
    }
}
