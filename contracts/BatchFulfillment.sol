// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Groth16VerifierABI} from "./IGroth16Verifier.sol";
import {OracleFeeds} from "./OracleFeeds.sol";
import {Statement} from "./Statement.sol";

/// @title Batched fulfilment: n requests of one model answered with one batch verification
/// @notice `fulfillBatch` has the same effect as n `fulfill` calls in batch order (outputs,
/// `InferenceFulfilled` events, fees, callbacks with their exact gas), checked with the
/// verifier's `verifyBatch` (n + 3 pairings) instead of n verifications. A request that is
/// no longer pending when the batch lands (fulfilled by someone else, cancelled, expired,
/// its model retired, or listed twice in the batch) is skipped with `RequestSkipped` and
/// never reverts the rest; an invalid proof, a wrong output count or an out-of-range value
/// reverts the whole batch, as it would revert a single fulfilment.
///
/// Atomicity: every selected request is marked fulfilled before the proofs are checked,
/// which makes a duplicate in the same batch "not pending"; if the check fails the whole
/// transaction reverts, so nothing stays marked. The fees are paid to the submitter in one
/// transfer of their sum, before the callbacks run, under the hub's lock.
abstract contract BatchFulfillment is OracleFeeds {
    /// @notice `verifyBatch(uint256[],uint256[])` of a generated verifier.
    bytes4 internal constant VERIFY_BATCH = bytes4(keccak256("verifyBatch(uint256[],uint256[])"));

    /// @notice Fulfil requests `requestIds` of model `modelId`: request i with `outputs[i]`
    /// and `proofs[i]`, each proof for `requestPublicInputs(requestIds[i], msg.sender,
    /// outputs[i])`. Returns how many were fulfilled (the others emit `RequestSkipped`).
    /// Reverts `InvalidProof` if any selected proof is wrong, `WrongOutputCount`,
    /// `ValueOutOfRange`, `UnknownModel`, `BatchLengthMismatch`, or
    /// `InsufficientGasForCallback`.
    function fulfillBatch(
        bytes32 modelId,
        uint256[] calldata requestIds,
        int256[][] calldata outputs,
        uint256[8][] calldata proofs
    ) external nonReentrant returns (uint256 fulfilled) {
        uint256 n = requestIds.length;
        if (n == 0 || outputs.length != n || proofs.length != n) {
            revert BatchLengthMismatch(n, outputs.length, proofs.length);
        }
        Model storage m = _registered(modelId);
        _checkVerifierCode(modelId, m);
        bool[] memory selected = new bool[](n);
        uint256 fees;
        (fulfilled, fees) = _select(modelId, m.retired, requestIds, selected);
        if (fulfilled == 0) return 0;
        uint256[][] memory inputWords = _checkBatch(m, requestIds, outputs, proofs, selected, fulfilled);
        for (uint256 i; i < n; ++i) {
            if (selected[i]) _storeOutputs(requestIds[i], inputWords[i].length, outputs[i]);
        }
        _pay(msg.sender, fees);
        for (uint256 i; i < n; ++i) {
            if (selected[i]) _announce(modelId, requestIds[i], outputs[i]);
        }
    }

    /// @dev What `fulfill` does after paying: the event, then the callback.
    function _announce(bytes32 modelId, uint256 requestId, int256[] calldata outputs) private {
        emit InferenceFulfilled(requestId, modelId, msg.sender, outputs);
        Request storage req = _requestRecord(requestId);
        _deliver(requestId, modelId, req.callback, req.callbackGasLimit, outputs);
    }

    /// @notice Publish rounds of feeds of model `modelId` in one transaction: round i with
    /// `proofs[i]`, each proof for `feedPublicInputs(feedId, round, msg.sender, inputs,
    /// outputs)`. The same as `updateFeed` for each in order, except that a round that
    /// `updateFeed` would refuse for its round number, its feed, its updater or its model is
    /// skipped with `FeedRoundSkipped`; a bad proof or value reverts the whole batch.
    /// Returns how many rounds were published. Only a STATICCALL leaves the hub.
    function updateFeedBatch(bytes32 modelId, FeedRound[] calldata rounds, uint256[8][] calldata proofs)
        external
        returns (uint256 published)
    {
        uint256 n = rounds.length;
        if (n == 0 || proofs.length != n) revert BatchLengthMismatch(n, n, proofs.length);
        Model storage m = _registered(modelId);
        _checkVerifierCode(modelId, m);
        bool[] memory selected = new bool[](n);
        for (uint256 i; i < n; ++i) {
            if (_selectRound(modelId, m.retired, rounds[i])) {
                selected[i] = true;
                ++published;
            }
        }
        if (published == 0) return 0;
        Batch memory b = Batch(new uint256[](published * m.nPublic), new uint256[](published * 8), 0, 0);
        for (uint256 i; i < n; ++i) {
            if (!selected[i]) continue;
            FeedRound calldata r = rounds[i];
            uint256[] memory one = _feedStatement(r.feedId, r.round, msg.sender, r.inputs, r.outputs);
            _appendWords(b, one, proofs[i], i);
        }
        _verifyAll(m, b, proofs);
        for (uint256 i; i < n; ++i) {
            if (selected[i]) _publish(rounds[i]);
        }
    }

    /// @dev Whether round `r` can be published now; if so its feed's round is moved to it
    /// (the transaction reverts if the proofs fail), else `FeedRoundSkipped` is emitted.
    function _selectRound(bytes32 modelId, bool retired, FeedRound calldata r) private returns (bool) {
        Feed storage f = _feeds[r.feedId];
        RoundSkipReason reason;
        if (f.owner == address(0)) reason = RoundSkipReason.UnknownFeed;
        else if (f.modelId != modelId) reason = RoundSkipReason.OtherModel;
        else if (f.updater != address(0) && f.updater != msg.sender) reason = RoundSkipReason.NotUpdater;
        else if (retired) reason = RoundSkipReason.ModelRetired;
        else if (r.round != f.round + 1) reason = RoundSkipReason.RoundNotAccepted;
        else {
            f.round = r.round;
            return true;
        }
        emit FeedRoundSkipped(r.feedId, r.round, reason);
        return false;
    }

    /// @dev What `updateFeed` stores and emits once the proof is checked.
    function _publish(FeedRound calldata r) private {
        _feeds[r.feedId].updatedAt = uint64(block.timestamp);
        for (uint256 i; i < r.outputs.length; ++i) {
            _feedOutputs[r.feedId][i] = r.outputs[i];
        }
        emit FeedUpdated(r.feedId, r.round, msg.sender, r.inputs, r.outputs);
    }

    /// @dev Mark every fulfillable request of the batch fulfilled (the transaction reverts
    /// if the proofs fail) and skip the rest; the count and the fees of the selected ones.
    function _select(bytes32 modelId, bool retired, uint256[] calldata ids, bool[] memory selected)
        private
        returns (uint256 count, uint256 fees)
    {
        for (uint256 i; i < ids.length; ++i) {
            Request storage req = _requestRecord(ids[i]);
            SkipReason reason;
            if (req.status != Status.Pending) reason = SkipReason.NotPending;
            else if (req.modelId != modelId) reason = SkipReason.OtherModel;
            else if (retired) reason = SkipReason.ModelRetired;
            else if (block.timestamp > req.expiry) reason = SkipReason.Expired;
            else {
                req.status = Status.Fulfilled;
                selected[i] = true;
                fees += req.fee;
                ++count;
                continue;
            }
            emit RequestSkipped(ids[i], reason);
        }
    }

    /// @dev The public inputs and proof words of the selected requests, back to back.
    struct Batch {
        uint256[] pub;
        uint256[] words;
        uint256 count;
        uint256 last; // index (in the call) of the last selected request
    }

    /// @dev Build the statement of every selected request and verify their proofs (one
    /// `verifyProof` for a single one, `verifyBatch` otherwise); the stored input words.
    function _checkBatch(
        Model storage m,
        uint256[] calldata ids,
        int256[][] calldata outputs,
        uint256[8][] calldata proofs,
        bool[] memory selected,
        uint256 count
    ) private view returns (uint256[][] memory inputWords) {
        inputWords = new uint256[][](ids.length);
        Batch memory b = Batch(new uint256[](count * m.nPublic), new uint256[](count * 8), 0, 0);
        for (uint256 i; i < ids.length; ++i) {
            if (selected[i]) inputWords[i] = _append(m, ids[i], outputs[i], proofs[i], b, i);
        }
        _verifyAll(m, b, proofs);
    }

    /// @dev One `verifyProof` for a single proof, `verifyBatch` for more.
    function _verifyAll(Model storage m, Batch memory b, uint256[8][] calldata proofs) private view {
        if (b.count == 1) {
            if (!Groth16VerifierABI.accepts(m.verifier, m.selector, proofs[b.last], b.pub)) revert InvalidProof();
        } else {
            _verifyBatch(m, b.words, b.pub);
        }
    }

    /// @dev Append public inputs `one` and `proof` (entry `i` of the call) to `b`.
    function _appendWords(Batch memory b, uint256[] memory one, uint256[8] calldata proof, uint256 i) private pure {
        uint256 k = one.length;
        uint256 j = b.count++;
        for (uint256 t; t < k; ++t) {
            b.pub[j * k + t] = one[t];
        }
        for (uint256 t; t < 8; ++t) {
            b.words[j * 8 + t] = proof[t];
        }
        b.last = i;
    }

    /// @dev Append the statement of request `id` (entry `i` of the call) and its proof to
    /// `b`; the request's stored input words.
    function _append(
        Model storage m,
        uint256 id,
        int256[] calldata outputs,
        uint256[8] calldata proof,
        Batch memory b,
        uint256 i
    ) private view returns (uint256[] memory inputWords) {
        inputWords = _storedInputWords(id, m);
        uint256[] memory one = _outputStatement(m, Statement.requestBinding(id, msg.sender), inputWords, outputs);
        _appendWords(b, one, proof, i);
    }

    /// @dev Revert `InvalidProof` unless `m`'s verifier accepts the batch: `verifyBatch`
    /// neither reverts nor returns a false word (a verifier without it always fails).
    function _verifyBatch(Model storage m, uint256[] memory proofWords, uint256[] memory pub) internal view {
        address verifier = m.verifier;
        if (verifier.code.length == 0) revert InvalidProof();
        bytes memory data = abi.encodeWithSelector(VERIFY_BATCH, proofWords, pub);
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), verifier, add(data, 0x20), mload(data), 0x00, 0x20)
            let size := returndatasize()
            if and(ok, iszero(iszero(size))) { ok := and(iszero(lt(size, 0x20)), eq(mload(0x00), 1)) }
        }
        if (!ok) revert InvalidProof();
    }

    // Hooks into the request store of the hub.
    function _requestRecord(uint256 requestId) internal view virtual returns (Request storage);
    function _storedInputWords(uint256 requestId, Model storage m) internal view virtual returns (uint256[] memory);
    function _storeOutputs(uint256 requestId, uint256 nInputWords, int256[] calldata outputs) internal virtual;
    function _deliver(
        uint256 requestId,
        bytes32 modelId,
        address callback,
        uint32 gasLimit,
        int256[] calldata outputs
    ) internal virtual;
}
