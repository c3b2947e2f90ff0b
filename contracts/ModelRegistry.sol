// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkOracle} from "./IZkOracle.sol";
import {Groth16VerifierABI} from "./IGroth16Verifier.sol";
import {Statement} from "./Statement.sol";

/// @title Model registry and proof checking shared by requests and feeds
/// @notice Anyone may register a model and becomes its owner. The id is derived by the hub
/// from the caller and a salt (`modelIdOf`), so nobody can take an id another account will
/// use. The verifier's code hash is recorded at registration and every proof check refuses a
/// verifier whose code has changed since (a contract re-created at the same address). Only
/// the owner may retire the model or set its terms (minimum fee, maximum callback gas). A
/// retired model takes no new requests or feed updates and its pending requests can be
/// cancelled at once (retiring is how a broken verifier or model is withdrawn). Records are
/// never deleted, so an id cannot be registered twice.
abstract contract ModelRegistry is IZkOracle {
    mapping(bytes32 modelId => Model) internal _models;

    uint256 private constant _UNLOCKED = 1;
    uint256 private constant _LOCKED = 2;
    uint256 private _lock = _UNLOCKED;

    /// @dev Held by the functions that move ether or call foreign code (`fulfill`,
    /// `cancel`), so none of them can be re-entered from a payment or a consumer callback.
    modifier nonReentrant() {
        if (_lock != _UNLOCKED) revert Reentrancy();
        _lock = _LOCKED;
        _;
        _lock = _UNLOCKED;
    }

    /// @notice Register the model of `spec` under `modelIdOf(msg.sender, salt)`; the caller
    /// becomes its owner, the verifier's current code hash is pinned. Reverts `ModelExists`
    /// if the caller used `salt` before, `NoVerifierCode` if the verifier has no code,
    /// `BadModelShape` for an invalid count or packing.
    /// @return modelId The id of the new model.
    function registerModel(bytes32 salt, ModelSpec calldata spec) external returns (bytes32 modelId) {
        modelId = modelIdOf(msg.sender, salt);
        if (_models[modelId].verifier != address(0)) revert ModelExists(modelId);
        if (spec.verifier.code.length == 0) revert NoVerifierCode(spec.verifier);
        uint256 nPublic = _checkShape(spec);
        _models[modelId] = Model({
            verifier: spec.verifier,
            selector: Groth16VerifierABI.selectorFor(nPublic),
            nInputs: spec.nInputs,
            nOutputs: spec.nOutputs,
            inputsPerWord: spec.inputsPerWord,
            outputBits: spec.outputBits,
            outputsPerWord: spec.outputsPerWord,
            retired: false,
            owner: msg.sender,
            inputBits: spec.inputBits,
            inputScale: spec.inputScale,
            outputScale: spec.outputScale,
            nPublic: uint16(nPublic),
            privacy: spec.privacy | (spec.weightsCommitment != 0 ? Statement.PRIVATE_WEIGHTS : 0),
            onnxSha256: spec.onnxSha256,
            r1csSha256: spec.r1csSha256,
            manifestHash: spec.manifestHash,
            verifierCodeHash: spec.verifier.codehash,
            minFee: 0,
            maxCallbackGas: 0,
            weightsCommitment: spec.weightsCommitment
        });
        emit ModelRegistered(modelId, msg.sender, spec.verifier, spec.onnxSha256, spec.r1csSha256, spec.manifestHash);
    }

    /// @notice Retire model `modelId` for good (owner only). Pending requests for it can no
    /// longer be fulfilled and their requesters may cancel them immediately.
    function retireModel(bytes32 modelId) external {
        Model storage m = _liveModel(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        m.retired = true;
        emit ModelRetired(modelId);
    }

    /// @notice Set the terms every new request for `modelId` must meet (owner only): a fee
    /// of at least `minFee` wei and a callback gas limit of at most `maxCallbackGas` (0: the
    /// hub's maximum). Pending requests keep the terms they were made under.
    function setModelTerms(bytes32 modelId, uint88 minFee, uint32 maxCallbackGas) external {
        Model storage m = _liveModel(modelId);
        if (m.owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        m.minFee = minFee;
        m.maxCallbackGas = maxCallbackGas;
        emit ModelTermsSet(modelId, minFee, maxCallbackGas);
    }

    /// @inheritdoc IZkOracle
    function modelIdOf(address owner, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, salt));
    }

    /// @inheritdoc IZkOracle
    function getModel(bytes32 modelId) external view returns (Model memory) {
        return _registered(modelId);
    }

    /// @dev The number of public inputs of `spec`, reverting on an invalid shape.
    function _checkShape(ModelSpec calldata spec) private pure returns (uint256 nPublic) {
        if (spec.nInputs == 0 || spec.nOutputs == 0) revert BadModelShape("nInputs and nOutputs must be >= 1");
        if (!Statement.validPacking(spec.inputBits, spec.inputsPerWord)) {
            revert BadModelShape("input packing: need bits >= 1, perWord >= 1, bits * perWord <= 253");
        }
        if (!Statement.validPacking(spec.outputBits, spec.outputsPerWord)) {
            revert BadModelShape("output packing: need bits >= 1, perWord >= 1, bits * perWord <= 253");
        }
        if (spec.privacy > (Statement.PRIVATE_INPUTS | Statement.PRIVATE_OUTPUTS)) revert BadModelShape("unknown privacy bits");
        if (spec.weightsCommitment >= Statement.R) revert NotAFieldElement(spec.weightsCommitment);
        if (spec.privacy & Statement.PRIVATE_OUTPUTS != 0 && spec.nOutputs != 1) {
            revert BadModelShape("committed outputs: nOutputs must be 1 (the commitment)");
        }
        nPublic =
            1 +
            (spec.privacy & Statement.PRIVATE_INPUTS != 0 ? 1 : Statement.wordCount(spec.nInputs, spec.inputsPerWord)) +
            Statement.wordCount(spec.nOutputs, spec.outputsPerWord) +
            (spec.weightsCommitment != 0 ? 1 : 0);
        if (nPublic > Groth16VerifierABI.MAX_PUBLIC_INPUTS) revert BadModelShape("more public inputs than MAX_PUBLIC_INPUTS");
    }

    /// @dev A registered model, retired or not.
    function _registered(bytes32 modelId) internal view returns (Model storage m) {
        m = _models[modelId];
        if (m.verifier == address(0)) revert UnknownModel(modelId);
    }

    /// @dev A registered, not retired model.
    function _liveModel(bytes32 modelId) internal view returns (Model storage m) {
        m = _registered(modelId);
        if (m.retired) revert ModelIsRetired(modelId);
    }

    /// @dev The public inputs of a statement about model `m`: binding, stored input words
    /// (already encoded, or the input commitment), then `outputs` encoded with the model's
    /// output packing (or, for committed outputs, the commitment as its one output), then
    /// the registered weights commitment of a private-weights model.
    function _outputStatement(Model storage m, uint256 binding, uint256[] memory inputWords, int256[] calldata outputs)
        internal
        view
        returns (uint256[] memory pub)
    {
        if (outputs.length != m.nOutputs) revert WrongOutputCount(m.nOutputs, outputs.length);
        uint256 nIn = inputWords.length;
        uint8 privacy = m.privacy;
        uint256 nOut = Statement.wordCount(m.nOutputs, m.outputsPerWord);
        bool weights = privacy & Statement.PRIVATE_WEIGHTS != 0;
        pub = new uint256[](1 + nIn + nOut + (weights ? 1 : 0));
        pub[0] = binding;
        for (uint256 i; i < nIn; ++i) {
            pub[1 + i] = inputWords[i];
        }
        if (privacy & Statement.PRIVATE_OUTPUTS != 0) {
            uint256 c = uint256(outputs[0]);
            if (c >= Statement.R) revert NotAFieldElement(c);
            pub[1 + nIn] = c;
        } else {
            Statement.encodeInto(outputs, m.outputBits, m.outputsPerWord, Statement.Side.Output, pub, 1 + nIn);
        }
        if (weights) pub[1 + nIn + nOut] = m.weightsCommitment;
    }

    /// @dev Range-check and encode `inputs` for model `m` into their public-input words.
    /// Reverts `WrongInputPrivacy` for a model that takes committed inputs.
    function _encodeInputs(Model storage m, int256[] calldata inputs) internal view returns (uint256[] memory words) {
        if (m.privacy & Statement.PRIVATE_INPUTS != 0) revert WrongInputPrivacy(true);
        if (inputs.length != m.nInputs) revert WrongInputCount(m.nInputs, inputs.length);
        words = new uint256[](Statement.wordCount(m.nInputs, m.inputsPerWord));
        Statement.encodeInto(inputs, m.inputBits, m.inputsPerWord, Statement.Side.Input, words, 0);
    }

    /// @dev Revert `VerifierCodeChanged` if the verifier of model `modelId` no longer has
    /// the code it was registered with, `InvalidProof` unless it accepts `proof` for `pub`.
    function _verify(bytes32 modelId, Model storage m, uint256[8] calldata proof, uint256[] memory pub)
        internal
        view
    {
        _checkVerifierCode(modelId, m);
        if (!Groth16VerifierABI.accepts(m.verifier, m.selector, proof, pub)) revert InvalidProof();
    }

    /// @dev Revert `VerifierCodeChanged` unless the verifier still has the code registered.
    function _checkVerifierCode(bytes32 modelId, Model storage m) internal view {
        if (m.verifier.codehash != m.verifierCodeHash) revert VerifierCodeChanged(modelId);
    }

    /// @dev Send `amount` wei to `to`, reverting `PaymentFailed` if it refuses them.
    function _pay(address to, uint256 amount) internal {
        if (amount == 0) return;
        bool ok;
        assembly ("memory-safe") {
            // No returndata is copied: a recipient cannot make the hub pay for a large one.
            ok := call(gas(), to, amount, 0, 0, 0, 0)
        }
        if (!ok) revert PaymentFailed(to, amount);
    }
}
