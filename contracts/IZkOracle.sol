// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Types, events, errors and the external functions of the oracle hub: what
/// consumers call, and what registrants and provers call (registration, fulfilment, feeds)
/// @notice Quantization: a value q of a model with scale s stands for the real number
/// q / 2^s (s fractional bits). Packing and binding are described in `Statement`.
interface IZkOracle {
    /// @notice What a registrant declares about a model (see `ZkOracle.registerModel`).
    struct ModelSpec {
        address verifier; // generated Groth16 verifier with nPublic inputs
        bytes32 onnxSha256; // sha256 of the ONNX file the circuit was compiled from
        bytes32 r1csSha256; // sha256 of the .r1cs file the keys were set up for
        bytes32 manifestHash; // hash of the artifact manifest (public-input layout, quantization)
        uint16 nInputs; // number of model input values
        uint16 nOutputs; // number of model output values
        uint8 inputBits; // signed bit width of every input value, 1..253
        uint8 inputsPerWord; // 1 = unpacked (v mod r); >= 2 = packed, inputsPerWord * inputBits <= 253
        uint8 outputBits; // signed bit width of every output value, 1..253
        uint8 outputsPerWord; // as inputsPerWord, for the outputs
        uint8 inputScale; // fractional bits of an input: real = q / 2^inputScale
        uint8 outputScale; // fractional bits of an output: real = q / 2^outputScale
        uint8 privacy; // PRIVATE_INPUTS | PRIVATE_OUTPUTS: which parts the statement commits to
        uint256 weightsCommitment; // Poseidon commitment to private weights, last public input; 0: public weights
    }

    /// @notice A registered model. The first slot holds everything a fulfilment reads.
    struct Model {
        address verifier;
        bytes4 selector; // verifyProof(uint256[8],uint256[nPublic])
        uint16 nInputs;
        uint16 nOutputs;
        uint8 inputsPerWord;
        uint8 outputBits;
        uint8 outputsPerWord;
        bool retired;
        address owner;
        uint8 inputBits;
        uint8 inputScale;
        uint8 outputScale;
        uint16 nPublic; // 1 + input words + output words (+ 1 with a weights commitment)
        uint8 privacy; // ModelSpec.privacy | PRIVATE_WEIGHTS when a weights commitment is registered
        bytes32 onnxSha256;
        bytes32 r1csSha256;
        bytes32 manifestHash;
        bytes32 verifierCodeHash; // codehash of `verifier` at registration; checked on every proof
        uint88 minFee; // owner's terms: smallest fee a request must escrow (wei)
        uint32 maxCallbackGas; // owner's terms: largest callback gas a request may ask; 0 = hub maximum
        uint256 weightsCommitment; // as in ModelSpec
    }

    enum Status {
        None,
        Pending,
        Fulfilled,
        Cancelled
    }

    /// @notice An inference request; three storage slots.
    struct Request {
        bytes32 modelId;
        address requester;
        uint88 fee; // escrowed wei, paid to the submitter of a valid proof
        Status status;
        address callback; // address(0): no callback
        uint32 callbackGasLimit;
        uint64 expiry; // unix time after which the request can no longer be fulfilled
    }

    /// @notice A push feed: outputs of one model, updated in strictly increasing rounds.
    struct Feed {
        bytes32 modelId;
        address owner;
        uint64 round; // latest round, 0 before the first update
        address updater; // who may update; address(0) = anyone
        uint64 updatedAt; // block time of the latest update, 0 before the first
    }

    /// @notice A model was registered under `modelId = keccak256(abi.encode(owner, salt))`;
    /// `owner` may retire it and set its terms.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed owner,
        address verifier,
        bytes32 onnxSha256,
        bytes32 r1csSha256,
        bytes32 manifestHash
    );
    /// @notice The owner set the terms every new request for `modelId` must meet.
    event ModelTermsSet(bytes32 indexed modelId, uint88 minFee, uint32 maxCallbackGas);
    /// @notice A model was retired: no new requests or feed updates, pending requests cancellable.
    event ModelRetired(bytes32 indexed modelId);
    /// @notice A request to answer: prove `modelId` on `inputs` and call `fulfill` before `expiry`.
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
    /// @notice A verified answer was stored and `submitter` was paid the fee.
    event InferenceFulfilled(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed submitter,
        int256[] outputs
    );
    /// @notice The consumer callback reverted or ran out of gas; `reason` is its revert data
    /// cut to 256 bytes. The fulfilment stands.
    event CallbackFailed(uint256 indexed requestId, bytes reason);

    /// @notice A request whose inputs stay off-chain: `inputCommitment` is the salted
    /// Poseidon commitment the proof states; `ciphertext` holds the inputs (and salt)
    /// encrypted to the operator's public key. Fulfilled with `fulfill` like any request.
    event PrivateInferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed requester,
        uint256 inputCommitment,
        bytes ciphertext,
        address callback,
        uint32 callbackGasLimit,
        uint256 fee,
        uint64 expiry
    );
    /// @notice A pending request was cancelled and `refund` wei went back to the requester.
    event RequestCancelled(uint256 indexed requestId, uint256 refund);
    /// @notice A feed of `modelId` was created by `owner`.
    event FeedCreated(bytes32 indexed feedId, bytes32 indexed modelId, address indexed owner);
    /// @notice Who may post rounds of a feed (address(0): anyone).
    event FeedUpdaterSet(bytes32 indexed feedId, address updater);
    /// @notice A proven round of a feed was published.
    event FeedUpdated(bytes32 indexed feedId, uint64 round, address indexed updater, int256[] inputs, int256[] outputs);

    /// @notice Why a request of a batch was passed over.
    enum SkipReason {
        NotPending, // unknown, fulfilled (also earlier in this batch) or cancelled
        Expired,
        ModelRetired,
        OtherModel
    }

    /// @notice Request `requestId` of a batch was not fulfilled, for `reason`.
    event RequestSkipped(uint256 indexed requestId, SkipReason reason);

    /// @notice One round of a feed in `updateFeedBatch`.
    struct FeedRound {
        bytes32 feedId;
        uint64 round;
        int256[] inputs;
        int256[] outputs;
    }

    /// @notice Why a feed round of a batch was passed over.
    enum RoundSkipReason {
        RoundNotAccepted, // not the latest round plus one (as `updateFeed` requires)
        UnknownFeed,
        NotUpdater,
        OtherModel,
        ModelRetired
    }

    /// @notice Round `round` of feed `feedId` in a batch was not published, for `reason`.
    event FeedRoundSkipped(bytes32 indexed feedId, uint64 round, RoundSkipReason reason);

    // Registry.
    error ModelExists(bytes32 modelId);
    error UnknownModel(bytes32 modelId);
    error ModelIsRetired(bytes32 modelId);
    error NotModelOwner(bytes32 modelId, address caller);
    error NoVerifierCode(address verifier);
    error BadModelShape(string what);
    /// @notice The verifier's code is not the code it had when the model was registered.
    error VerifierCodeChanged(bytes32 modelId);
    // Statement shape (a value outside its bit width reverts `Statement.ValueOutOfRange`).
    error WrongInputCount(uint256 expected, uint256 got);
    /// @notice `request` for a model with private inputs, or `requestPrivate` for one without.
    error WrongInputPrivacy(bool modelHasPrivateInputs);
    /// @notice A commitment that is not a field element below r.
    error NotAFieldElement(uint256 value);
    error WrongOutputCount(uint256 expected, uint256 got);
    // Request parameters.
    error FeeTooLarge(uint256 fee);
    error CallbackGasTooHigh(uint32 gasLimit, uint32 max);
    error CallbackNotContract(address callback);
    error BadExpiry(uint64 expiry);
    error FeeBelowModelMinimum(bytes32 modelId, uint256 fee, uint256 minFee);
    error CallbackGasAboveModelMax(bytes32 modelId, uint32 gasLimit, uint32 maxCallbackGas);
    // Request life cycle.
    error UnknownRequest(uint256 requestId);
    error AlreadyFulfilled(uint256 requestId);
    error RequestNotPending(uint256 requestId, Status status);
    error RequestExpired(uint256 requestId, uint64 expiry);
    error NotRequester(uint256 requestId, address caller);
    error NotCancellable(uint256 requestId, uint64 expiry);
    /// @notice The model's verifier rejected the proof for the statement the hub built.
    error InvalidProof();
    /// @notice The transaction lacks the gas the callback is owed (EIP-150 63/64 rule).
    error InsufficientGasForCallback(uint256 available, uint256 needed);
    error PaymentFailed(address to, uint256 amount);
    error Reentrancy();
    // Feeds.
    error FeedExists(bytes32 feedId);
    error UnknownFeed(bytes32 feedId);
    error NotFeedOwner(bytes32 feedId, address caller);
    error NotFeedUpdater(bytes32 feedId, address caller);
    /// @notice A feed round must be exactly the latest round plus one.
    error RoundNotNext(bytes32 feedId, uint64 round, uint64 latestRound);
    error StaleFeed(bytes32 feedId, uint64 updatedAt, uint256 maxAge);
    // Batches.
    /// @notice requestIds, outputs and proofs of a batch differ in length (or are empty).
    error BatchLengthMismatch(uint256 requests, uint256 outputs, uint256 proofs);

    /// @notice Register a model under `modelIdOf(msg.sender, salt)` with its deployed
    /// verifier (see `ModelRegistry.registerModel`).
    function registerModel(bytes32 salt, ModelSpec calldata spec) external returns (bytes32 modelId);

    /// @notice Answer request `requestId` with `outputs` and a proof for
    /// `requestPublicInputs(requestId, msg.sender, outputs)` (see `ZkOracle.fulfill`).
    function fulfill(uint256 requestId, int256[] calldata outputs, uint256[8] calldata proof) external;

    /// @notice Answer requests of `modelId` with one batch verification; requests no longer
    /// pending are skipped with `RequestSkipped` (see `BatchFulfillment.fulfillBatch`).
    function fulfillBatch(
        bytes32 modelId,
        uint256[] calldata requestIds,
        int256[][] calldata outputs,
        uint256[8][] calldata proofs
    ) external returns (uint256 fulfilled);

    /// @notice Publish round `round` of feed `feedId`, exactly its latest round plus one
    /// (see `OracleFeeds.updateFeed`).
    function updateFeed(
        bytes32 feedId,
        int256[] calldata inputs,
        int256[] calldata outputs,
        uint64 round,
        uint256[8] calldata proof
    ) external;

    /// @notice Publish rounds of feeds of `modelId` with one batch verification; rounds the
    /// hub would refuse are skipped with `FeedRoundSkipped` (see
    /// `BatchFulfillment.updateFeedBatch`).
    function updateFeedBatch(bytes32 modelId, FeedRound[] calldata rounds, uint256[8][] calldata proofs)
        external
        returns (uint256 published);

    /// @notice Ask for an inference of `modelId` on `inputs`; msg.value is the fee.
    function request(
        bytes32 modelId,
        int256[] calldata inputs,
        address callback,
        uint32 callbackGasLimit,
        uint64 expiry
    ) external payable returns (uint256 requestId);

    /// @notice Request an inference on inputs that stay off-chain (see `ZkOracle.requestPrivate`).
    function requestPrivate(
        bytes32 modelId,
        uint256 inputCommitment,
        bytes calldata ciphertext,
        address callback,
        uint32 callbackGasLimit,
        uint64 expiry
    ) external payable returns (uint256 requestId);

    /// @notice Cancel an expired request (or one whose model was retired) and refund its fee
    /// to the requester, who alone may call this.
    function cancel(uint256 requestId) external;

    /// @notice Status and verified outputs of a request (outputs empty unless fulfilled).
    function result(uint256 requestId) external view returns (Status status, int256[] memory outputs);

    /// @notice The stored record of a request.
    function getRequest(uint256 requestId) external view returns (Request memory);

    /// @notice The registered model `modelId`.
    function getModel(bytes32 modelId) external view returns (Model memory);

    /// @notice The id `owner` registers a model under with `salt`:
    /// keccak256(abi.encode(owner, salt)). Nobody else can take it.
    function modelIdOf(address owner, bytes32 salt) external pure returns (bytes32);

    /// @notice The stored record of feed `feedId`.
    function getFeed(bytes32 feedId) external view returns (Feed memory);

    /// @notice Latest verified outputs of a feed, its round and the time it was updated.
    function latest(bytes32 feedId) external view returns (int256[] memory outputs, uint64 round, uint64 updatedAt);

    /// @notice As `latest`, reverting `StaleFeed` when the update is older than `maxAge`
    /// seconds (or the feed was never updated).
    function latestNoOlderThan(bytes32 feedId, uint256 maxAge)
        external
        view
        returns (int256[] memory outputs, uint64 round, uint64 updatedAt);
}
