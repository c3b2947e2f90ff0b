// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkOracle} from "../IZkOracle.sol";
import {IZkOracleConsumer} from "../IZkOracleConsumer.sol";

/// @title Example consumer: an ether lending pool that sizes credit by a proven risk score
/// @notice A borrower asks the hub to run the risk model on their features (paying the
/// oracle fee); when the proven score arrives the pool sets their credit limit:
///
///     score >= refuseAtScore        -> 0 (credit refused)
///     score <= 0                    -> maxCredit
///     otherwise                     -> maxCredit * (refuseAtScore - score) / refuseAtScore
///
/// The score is the model's first output in its quantized units (real = score /
/// 2^outputScale). A limit is only usable for `maxAge` seconds after it was set. In this
/// example the borrower supplies the features; a real pool would take them from a source it
/// trusts (the proof shows the model was run correctly, not that the features are true).
///
/// What the pool trusts, pinned at construction and checked again on every callback: the
/// model's owner and id (the hub derives an id from its owner, so nobody else can hold it),
/// and the code hash of the verifier the hub registered for it (the pool's deployer
/// compares it with the verifier rendered from the model's verification key). The hub
/// itself refuses a verifier whose code changed, and calls back only with verified outputs.
contract RiskGatedLendingPool is IZkOracleConsumer {
    struct Profile {
        uint128 creditLimit; // wei
        uint64 scoredAt; // time the limit was set, 0 = never
    }

    IZkOracle public immutable hub;
    bytes32 public immutable modelId;
    address public immutable modelOwner;
    /// @notice The model's verifier and its code hash, as registered on the hub.
    address public immutable verifier;
    bytes32 public immutable verifierCodeHash;
    uint256 public immutable maxAge;
    int256 public immutable refuseAtScore;
    uint128 public immutable maxCredit;
    uint32 public immutable callbackGasLimit;

    mapping(address borrower => Profile) public profiles;
    mapping(address borrower => uint256) public debt;
    /// @notice Borrower of each score request this pool made and that is still open.
    mapping(uint256 requestId => address borrower) public pendingBorrower;

    event ScoreRequested(address indexed borrower, uint256 indexed requestId);
    event CreditLimitSet(address indexed borrower, uint256 indexed requestId, int256 score, uint256 creditLimit);
    event Borrowed(address indexed borrower, uint256 amount);
    event Repaid(address indexed borrower, uint256 amount);

    error BadConfig(string what);
    error UntrustedModel(bytes32 modelId);
    error NotHub(address caller);
    error NotOurRequest(uint256 requestId);
    error NotYourRequest(uint256 requestId, address caller);
    error StaleScore(address borrower, uint64 scoredAt, uint256 maxAge);
    error CreditRefused(address borrower);
    error OverLimit(uint256 requested, uint256 available);
    error RepayTooMuch(uint256 paid, uint256 owed);
    error TransferFailed(address to, uint256 amount);

    /// @param modelOwner_ The account trusted to have registered `modelId_`.
    /// @param verifierCodeHash_ Code hash of the verifier the model must be checked by.
    /// @param refuseAtScore_ Score at and above which no credit is given (must be > 0).
    /// @param maxCredit_ Limit in wei for a score at or below 0.
    constructor(
        IZkOracle hub_,
        address modelOwner_,
        bytes32 modelId_,
        bytes32 verifierCodeHash_,
        uint256 maxAge_,
        int256 refuseAtScore_,
        uint128 maxCredit_,
        uint32 callbackGasLimit_
    ) payable {
        if (refuseAtScore_ <= 0) revert BadConfig("refuseAtScore must be > 0");
        IZkOracle.Model memory m = hub_.getModel(modelId_); // reverts UnknownModel for a wrong id
        if (m.owner != modelOwner_ || m.verifierCodeHash != verifierCodeHash_ || m.retired) {
            revert UntrustedModel(modelId_);
        }
        if (m.verifier.codehash != verifierCodeHash_) revert UntrustedModel(modelId_);
        hub = hub_;
        modelId = modelId_;
        modelOwner = modelOwner_;
        verifier = m.verifier;
        verifierCodeHash = verifierCodeHash_;
        maxAge = maxAge_;
        refuseAtScore = refuseAtScore_;
        maxCredit = maxCredit_;
        callbackGasLimit = callbackGasLimit_;
    }

    /// @notice Liquidity from lenders, and fee refunds from the hub.
    receive() external payable {}

    /// @notice Ask the hub to score msg.sender on `features`; msg.value pays the oracle fee.
    function requestScore(int256[] calldata features) external payable returns (uint256 requestId) {
        requestId = hub.request{value: msg.value}(modelId, features, address(this), callbackGasLimit, 0);
        pendingBorrower[requestId] = msg.sender;
        emit ScoreRequested(msg.sender, requestId);
    }

    /// @notice As `requestScore` for a model with private inputs: the borrower's features
    /// stay off-chain, sealed to the operator in `ciphertext`; `inputCommitment` is their
    /// salted Poseidon commitment, which the proof's statement carries. The pool learns the
    /// proven score only.
    function requestScorePrivate(uint256 inputCommitment, bytes calldata ciphertext)
        external
        payable
        returns (uint256 requestId)
    {
        requestId = hub.requestPrivate{value: msg.value}(
            modelId, inputCommitment, ciphertext, address(this), callbackGasLimit, 0
        );
        pendingBorrower[requestId] = msg.sender;
        emit ScoreRequested(msg.sender, requestId);
    }

    /// @notice Give up an expired score request; the refunded fee goes to the borrower.
    function cancelScoreRequest(uint256 requestId) external {
        if (pendingBorrower[requestId] != msg.sender) revert NotYourRequest(requestId, msg.sender);
        delete pendingBorrower[requestId];
        uint256 before = address(this).balance;
        hub.cancel(requestId);
        _send(msg.sender, address(this).balance - before);
    }

    /// @notice Hub callback: set the borrower's credit limit from the proven score. Accepts
    /// only the hub, only requests this pool made for the pinned model, and only while the
    /// pinned verifier still has the pinned code.
    function onInference(uint256 requestId, bytes32 model, int256[] calldata outputs) external {
        if (msg.sender != address(hub)) revert NotHub(msg.sender);
        address borrower = pendingBorrower[requestId];
        if (borrower == address(0) || model != modelId) revert NotOurRequest(requestId);
        if (verifier.codehash != verifierCodeHash) revert UntrustedModel(model);
        delete pendingBorrower[requestId];
        int256 score = outputs[0];
        uint128 limit = creditLimitFor(score);
        profiles[borrower] = Profile({creditLimit: limit, scoredAt: uint64(block.timestamp)});
        emit CreditLimitSet(borrower, requestId, score, limit);
    }

    /// @notice The credit limit a score earns (see the contract notice).
    function creditLimitFor(int256 score) public view returns (uint128) {
        if (score >= refuseAtScore) return 0;
        if (score <= 0) return maxCredit;
        return uint128((uint256(maxCredit) * uint256(refuseAtScore - score)) / uint256(refuseAtScore));
    }

    /// @notice Borrow `amount` wei against a score set at most `maxAge` seconds ago.
    function borrow(uint256 amount) external {
        Profile memory p = profiles[msg.sender];
        if (p.scoredAt == 0 || block.timestamp - p.scoredAt > maxAge) revert StaleScore(msg.sender, p.scoredAt, maxAge);
        if (p.creditLimit == 0) revert CreditRefused(msg.sender);
        uint256 owed = debt[msg.sender];
        if (owed + amount > p.creditLimit) revert OverLimit(amount, p.creditLimit - owed);
        debt[msg.sender] = owed + amount;
        emit Borrowed(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice Repay up to the sender's debt.
    function repay() external payable {
        uint256 owed = debt[msg.sender];
        if (msg.value > owed) revert RepayTooMuch(msg.value, owed);
        debt[msg.sender] = owed - msg.value;
        emit Repaid(msg.sender, msg.value);
    }

    function _send(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok, ) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }
}
