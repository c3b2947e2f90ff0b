// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkOracle} from "contracts/IZkOracle.sol";
import {IZkOracleConsumer} from "contracts/IZkOracleConsumer.sol";

interface IHubFulfill {
    function fulfill(uint256 requestId, int256[] calldata outputs, uint256[8] calldata proof) external;

    function cancel(uint256 requestId) external;
}

/// Test-only consumer whose callback misbehaves in a chosen way.
contract TestConsumer is IZkOracleConsumer {
    enum Mode {
        Record,
        Revert,
        ReturnBomb,
        BurnGas,
        ReenterFulfill,
        ReenterCancel,
        ReenterRequest,
        ForgeEvents
    }

    /// Look-alikes of the hub's events (same signatures), emitted by `ForgeEvents`.
    event InferenceFulfilled(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed submitter,
        int256[] outputs
    );
    event CallbackFailed(uint256 indexed requestId, bytes reason);
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

    error Refused(uint256 requestId);

    IZkOracle public immutable hub;
    Mode public mode;
    uint256 public calls;
    uint256 public lastRequestId;
    uint256 public followUpId;
    bytes public reentryError;
    int256[] internal _lastOutputs;
    int256[] internal _inputs;
    uint256[8] internal _proof;

    constructor(IZkOracle hub_) {
        hub = hub_;
    }

    receive() external payable {}

    function setMode(Mode m) external {
        mode = m;
    }

    /// The proof the callback replays when re-entering `fulfill`.
    function arm(uint256[8] calldata proof) external {
        _proof = proof;
    }

    function ask(bytes32 modelId, int256[] calldata inputs, uint32 gasLimit, uint64 expiry)
        external
        payable
        returns (uint256)
    {
        _inputs = inputs;
        return hub.request{value: msg.value}(modelId, inputs, address(this), gasLimit, expiry);
    }

    function cancel(uint256 requestId) external {
        hub.cancel(requestId);
    }

    function lastOutputs() external view returns (int256[] memory) {
        return _lastOutputs;
    }

    function onInference(uint256 requestId, bytes32 modelId, int256[] calldata outputs) external {
        require(msg.sender == address(hub), "not hub");
        calls += 1;
        lastRequestId = requestId;
        _lastOutputs = outputs;
        Mode m = mode;
        if (m == Mode.Revert) revert Refused(requestId);
        if (m == Mode.ReturnBomb) {
            assembly {
                revert(0, 100000)
            }
        }
        if (m == Mode.BurnGas) {
            assembly {
                for {} 1 {} {}
            }
        }
        if (m == Mode.ReenterFulfill) {
            try IHubFulfill(address(hub)).fulfill(requestId, outputs, _proof) {} catch (bytes memory err) {
                reentryError = err;
            }
        }
        if (m == Mode.ReenterCancel) {
            try IHubFulfill(address(hub)).cancel(requestId) {} catch (bytes memory err) {
                reentryError = err;
            }
        }
        if (m == Mode.ForgeEvents) {
            int256[] memory fake = new int256[](outputs.length);
            fake[0] = 666;
            emit InferenceFulfilled(requestId, modelId, address(this), fake);
            emit CallbackFailed(requestId, "forged");
            emit InferenceRequested(requestId + 1, modelId, address(this), _inputs, address(this), 0, 1 ether, 1);
        }
        if (m == Mode.ReenterRequest) {
            followUpId = hub.request(modelId, _inputs, address(0), 0, 0);
        }
    }
}

/// Test-only fee recipient that refuses ether.
contract RefusingSubmitter {
    function fulfill(IHubFulfill hub, uint256 requestId, int256[] calldata outputs, uint256[8] calldata proof)
        external
    {
        hub.fulfill(requestId, outputs, proof);
    }
}

/// Test-only aggregator that misbehaves in a chosen way on round 5 (and reverts on every
/// call in mode Revert). Rounds 1..9 exist; the answer of round n is 10n with 2 decimals.
contract FlakyAggregator {
    enum Mode {
        Honest,
        Revert,
        NotFinal,
        WrongRoundId,
        FutureTime
    }

    Mode public mode;
    uint8 public constant decimals = 2;

    function setMode(Mode m) external {
        mode = m;
    }

    function getRoundData(uint80 id) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (mode == Mode.Revert || id == 0 || id > 9) revert("no data");
        uint256 t = block.timestamp;
        if (id == 5 && mode == Mode.NotFinal) return (id, 50, t, 0, id);
        if (id == 5 && mode == Mode.WrongRoundId) return (id + 1, 50, t, t, id + 1);
        if (id == 5 && mode == Mode.FutureTime) return (id, 50, t, t + 1000, id);
        return (id, int256(uint256(id)) * 10, t, t, id);
    }
}

/// Test-only source of one int256 for view-call feed inputs.
contract ValueSource {
    int256 public value;

    function set(int256 v) external {
        value = v;
    }
}

/// Test-only verifier that accepts every proof: what a model-id squatter registers.
contract AcceptAllVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(true);
    }
}

/// Test-only verifier that refuses every proof and can be destroyed (which removes its code
/// when done in the transaction that created it, EIP-6780).
contract DestructibleVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(false);
    }

    function destroy() external {
        selfdestruct(payable(msg.sender));
    }
}

interface IRegistry {
    function registerModel(bytes32 salt, IZkOracle.ModelSpec calldata spec) external returns (bytes32);
}

/// Test-only factory of metamorphic contracts: CREATE2 of one init code that installs
/// whatever runtime code the factory holds, so one address can carry different code over
/// time (destroy, then create again).
contract MetamorphicFactory {
    bytes32 public constant SALT = keccak256("morph");
    bytes public runtime;

    function create(bytes memory code) public returns (address a) {
        runtime = code;
        bytes memory init = type(MorphInit).creationCode;
        bytes32 salt = SALT;
        assembly {
            a := create2(0, add(init, 0x20), mload(init), salt)
        }
        require(a != address(0), "create2 failed");
    }

    /// In one transaction: create the verifier from `code`, register it with the hub, and
    /// destroy it (so that `create` can put other code at its address later).
    function registerThenDestroy(IRegistry hub, bytes calldata code, bytes32 salt, IZkOracle.ModelSpec memory spec)
        external
        returns (bytes32 modelId)
    {
        spec.verifier = create(code);
        modelId = hub.registerModel(salt, spec);
        DestructibleVerifier(payable(spec.verifier)).destroy();
    }
}

contract MorphInit {
    constructor() {
        bytes memory code = MetamorphicFactory(msg.sender).runtime();
        assembly {
            return(add(code, 0x20), mload(code))
        }
    }
}
