"""No single job stops the daemon, and requests not worth proving are refused first.

One run of ``zkoracle serve`` on Anvil with the hub, and next to two good requests one
poison job of each kind:

* a bad round: a feed-round job for round 2^64, as the daemon used to schedule after
  someone jumped an open feed to round 2^64 - 1 (put in the store before the start);
* an undecodable event: an ``InferenceRequested`` log of the hub without its data (the
  hub's code is swapped for three instructions that emit it, then restored: a real hub
  cannot emit one, so Anvil's ``anvil_setCode`` stands in for a buggy or upgraded hub);
* a prover exception: a model whose proving key on disk is cut short;
* a revert on simulation: a model registered with an output packing its circuit does not
  have, so the hub's statement is not the proof's and the pre-flight call reverts;
* the griefing request: zero fee and a 5,000,000-gas callback, which the model's policy
  refuses before any prover is asked.

Every poison job fails with its reason in the store; both good requests are fulfilled.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from web3 import Web3

from oracle.daemon.jobs import Kind, NewJob, State, feed_key
from oracle.daemon.store import Store
from tests.e2e.e2e_stack import REQUEST_GAS, DaemonProcess, Stack, wait_for, write_config

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
REQUESTED = Web3.keccak(
    text="InferenceRequested(uint256,bytes32,address,int256[],address,uint32,uint256,uint64)"
)
POLICY = "max_callback_gas = 1000000\nmin_time_left = 5\n"


def _emit_undecodable_log(stack: Stack) -> str:
    """Have the hub's address emit InferenceRequested(requestId 999, the model) with no
    data; its transaction hash. LOG3 pops offset, size and the topics from the stack."""
    code = b"".join(b"\x7f" + t for t in (stack.model_id, (999).to_bytes(32, "big"), REQUESTED))
    code += bytes.fromhex("60006000a300")  # PUSH1 0 (size), PUSH1 0 (offset), LOG3, STOP
    hub = stack.hub.address
    original = stack.w3.eth.get_code(hub).to_0x_hex()
    stack.rpc("anvil_setCode", hub, "0x" + code.hex())
    tx = stack.w3.eth.send_transaction({"from": stack.chain.dev_accounts[2], "to": hub})
    stack.receipt(tx.to_0x_hex())
    stack.rpc("anvil_setCode", hub, original)
    return tx.to_0x_hex()


def _broken_copy(model_dir: Path, folder: Path) -> Path:
    broken = Path(shutil.copytree(model_dir, folder / "broken-model"))
    key = broken / "proving_key.bin"
    key.write_bytes(key.read_bytes()[:100])
    return broken


def _poison_round(store_path: Path, stack: Stack) -> int:
    """A feed job for round 2^64 in the daemon's store; its job id."""
    feed_id = b"\x66" * 32
    block = stack.w3.eth.get_block("latest")
    payload = {"feed_id": "0x" + feed_id.hex(), "round": 2**64, "inputs": [1, 2, 3]}
    new = NewJob(Kind.FEED, feed_key(feed_id, 2**64), stack.model_id, payload,
                 int(block["number"]), block["hash"].to_0x_hex())  # fmt: skip
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with Store(store_path) as store:
        job, _ = store.insert_seen(new)
    return job.id


def test_poison_jobs_fail_with_their_reasons_and_good_jobs_are_served(
    stack: Stack, tmp_path: Path
) -> None:
    broken = stack.register_variant("e2e-broken")
    mispacked = stack.register_variant("e2e-mispacked", outputs_per_word=1)
    griefing = stack.hub.functions.request(stack.model_id, [1, 2, 3], stack.hub.address,
                                           5_000_000, 0)  # fmt: skip
    sent = [
        stack.send_request([100, 200, 300]),
        stack.send_request([1, 2, 3], broken),
        stack.send_request([1, 2, 3], mispacked),
        griefing.transact({"from": stack.chain.dev_accounts[1], "gas": REQUEST_GAS}).to_0x_hex(),
    ]
    good1, bad_prover, bad_sim, grief = stack.request_ids(sent)  # mined before the swap
    bad_tx = _emit_undecodable_log(stack)
    good2 = stack.request([-100, -200, -300])

    models = [("broken", broken), ("mispacked", mispacked)]
    config = write_config(tmp_path, stack, confirmations=1, models=models)
    text = config.read_text().replace('name = "mlp"\n', f'name = "mlp"\n{POLICY}', 1)
    config.write_text(_point(text, "broken", _broken_copy(stack.model_dir, tmp_path)))
    poison_round = _poison_round(tmp_path / "state" / "oracle.db", stack)
    daemon = DaemonProcess(config, stack.daemon.key.hex(), tmp_path / "daemon.log")
    store = Store(tmp_path / "state" / "oracle.db")
    try:
        daemon.start()
        wait_for("the good requests", lambda: store.counts()[State.CONFIRMED] == 2, 90)
        wait_for("the poison jobs", lambda: store.counts()[State.FAILED] == 5, 60)
        assert daemon.alive(), daemon.tail()
        jobs = store.jobs()
        assert daemon.stop() == 0, daemon.tail()
    finally:
        daemon.cleanup()
        store.close()

    assert {i: stack.status(i) for i in (good1, good2)} == {good1: 2, good2: 2}
    by_request = {int(j.payload["request_id"]): j for j in jobs if j.kind is Kind.REQUEST}
    failed = {j.id: j for j in jobs if j.state is State.FAILED}
    assert failed[poison_round].reason_code == "dispatch_error"
    assert "feed round 18446744073709551616 does not fit uint64" in str(failed[poison_round].reason)
    (undecodable,) = [j for j in failed.values() if j.reason_code == "undecodable_event"]
    assert bad_tx in str(undecodable.reason)
    assert by_request[bad_prover].reason_code == "prove_error"
    assert by_request[bad_sim].reason_code == "invalid_proof"
    assert by_request[grief].reason_code == "callback_gas_too_high"
    assert "callback gas 5000000 exceeds the model's maximum 1000000" in str(
        by_request[grief].reason
    )
    with Store(tmp_path / "state" / "oracle.db") as done:
        history = [to for _, to, _ in done.history(by_request[grief].id)]
    assert "proving" not in history  # refused before any prover was asked


def _point(text: str, name: str, artifacts: Path) -> str:
    """`text` with the artifacts of model `name` replaced."""
    head, sep, tail = text.partition(f'name = "{name}"\n')
    entry, rest = tail.split("artifacts = ", 1)
    _, _, rest = rest.partition("\n")
    return f'{head}{sep}{entry}artifacts = "{artifacts}"\n{rest}'
