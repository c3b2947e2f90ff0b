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
        ReenterRequest
    }

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
