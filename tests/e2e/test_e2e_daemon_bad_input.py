"""Bad requests fail with their reason while the daemon goes on serving; a bad
configuration file stops ``zkoracle serve`` at once with exit code 2, naming the key.

The hub checks a request against the model's registration, so a request the daemon cannot
prove reaches it only when the registration and the daemon's artifacts disagree: the
tests register the MLP again under other ids with a wider input range or one input more,
and list those ids in the daemon's configuration with the MLP's artifacts. A model
dropped from the configuration while its requests wait in the store is the third case.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from oracle.daemon.jobs import State
from oracle.daemon.store import Store
from tests.e2e.e2e_stack import ROOT, DaemonProcess, Stack, wait_for, write_config


@pytest.mark.anvil
@pytest.mark.slow
def test_bad_requests_fail_with_their_reason_and_the_others_are_served(
    stack: Stack, tmp_path: Path
) -> None:
    wide = stack.register_variant("e2e-mlp-wide", input_bits=32, inputs_per_word=7)
    four = stack.register_variant("e2e-mlp-four", n_inputs=4)
    gone = stack.register_variant("e2e-mlp-gone")
    sent = [
        stack.send_request([100, 200, 300]),
        stack.send_request([1, 2, 3, 4], four),
        stack.send_request([2**23, 0, 0], wide),  # fits the registration, not the circuit
        stack.send_request([1, 2, 3], gone),
        stack.send_request([-100, -200, -300]),
    ]
    good1, bad_count, bad_range, bad_model, good2 = ids = stack.request_ids(sent)
    head = stack.w3.eth.block_number
    wait_for("a confirmation", lambda: stack.w3.eth.block_number > head, 10)

    # One pass with every model configured: all five requests are stored.
    models = [("four", four), ("wide", wide), ("gone", gone)]
    config = write_config(tmp_path, stack, confirmations=1, models=models)
    key = stack.daemon.key.hex()
    once = DaemonProcess(config, key, tmp_path / "once.log", grace=0).start("--once")
    assert once.proc is not None and once.proc.wait(60) == 0, once.tail()
    # The operator drops "gone" from the configuration; the daemon serves on.
    write_config(tmp_path, stack, confirmations=1, models=models[:2])
    daemon = DaemonProcess(config, key, tmp_path / "daemon.log")
    store = Store(tmp_path / "state" / "oracle.db")
    try:
        assert len(store.jobs()) == 5
        daemon.start()
        wait_for("the good requests", lambda: store.counts()[State.CONFIRMED] == 2, 60)
        assert daemon.alive(), daemon.tail()
        jobs = {int(j.payload["request_id"]): j for j in store.jobs()}
        histories = {i: [to for _, to, _ in store.history(j.id)] for i, j in jobs.items()}
        assert daemon.stop() == 0, daemon.tail()
    finally:
        daemon.cleanup()
        store.close()

    assert {i: stack.status(i) for i in ids} == {good1: 2, bad_count: 1, bad_range: 1,
                                                  bad_model: 1, good2: 2}  # fmt: skip
    assert stack.fulfilled_counts() == Counter({good1: 1, good2: 1})
    failed = {i: (j.reason_code, j.reason) for i, j in jobs.items() if j.state is State.FAILED}
    assert failed == {
        bad_count: ("wrong_input_count", "model four takes 3 input values, the request has 4"),
        bad_range: ("input_out_of_range", "model wide: input #0 = 8388608 does not fit 24 "
                    "signed bits"),
        bad_model: ("unknown_model", f"model 0x{gone.hex()} is not configured"),
    }  # fmt: skip
    for request_id in (bad_count, bad_range):  # refused before any prover was asked
        assert "proving" not in histories[request_id], histories[request_id]


_GOOD = """[chain]
url = "http://127.0.0.1:9"
chain_id = 31337
confirmations = 1
[hub]
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
[account]
key_env = "ZKORACLE_E2E_UNSET_KEY"
[gas]
replace_after = 60
[[models]]
name = "mlp"
id = "0x{id}"
artifacts = "{artifacts}"
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("replace_after = 60", "bump_percent = 5", "[gas].bump_percent: expected a number >= 10"),
        ("confirmations = 1", "confirmation = 1", "[chain].confirmation: unknown key"),
        ('name = "mlp"', "name = 7", "[models][0].name: expected a non-empty string, got 7"),
    ],
)
def test_a_bad_config_file_exits_2_naming_the_key(
    mlp_model: Path, tmp_path: Path, old: str, new: str, message: str
) -> None:
    config = tmp_path / "oracle.toml"
    good = _GOOD.format(id="42" * 32, artifacts=mlp_model)
    assert old in good
    config.write_text(good.replace(old, new))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "oracle.cli", "serve", "-c", str(config)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"zkoracle serve: error: {config}: {message}"), done.stderr
    assert not (tmp_path / "oracle.db").exists()  # refused before anything was touched
