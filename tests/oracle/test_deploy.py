"""Deploying a real model: registration fields, model ids, `deploy_model`, the `Hub` client
and the `deploy` / `export-verifier` commands.

The model is the 8 -> 16 -> 1 MLP of `circuits.onnx.examples`, compiled and set up with
native keys; the chain is a real Anvil node (the embedded chain is exercised by
tests/e2e/test_pipeline_onchain.py). No proof is verified here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from circuits import compile_model, quantize, setup
from circuits.errors import BackendError
from circuits.onnx.examples import mlp, save
from oracle import chain as chains
from oracle.accounts import ENV_KEYSTORE_PASSWORD, ENV_PRIVATE_KEY
from oracle.anvil import AnvilNode
from oracle.chain import Chain
from oracle.cli import main
from oracle.errors import TransactionReverted
from oracle.hub import (
    ArtifactError,
    DeploymentError,
    Hub,
    ModelArtifacts,
    ModelSpec,
    RequestStatus,
    deploy_model,
    model_id_of,
)
from oracle.hub.artifacts import verifying_key_hash
from oracle.hub.deploy import read_deployment
from oracle.hub.sources import render_model_verifier

FEATURES = [0.5, -0.25, 0.1, 0.9, -0.7, 0.3, 0.0, 0.2]


def make_model(root: Path) -> Path:
    """The 8 -> 16 -> 1 MLP compiled and set up (native) in `root`/model."""
    compile_model(save(mlp((8, 16, 1), seed=0), root / "mlp.onnx"), root / "model")
    setup(root / "model", "native")
    return root / "model"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model(tmp_path_factory.mktemp("deploy"))


@pytest.fixture(autouse=True)
def no_configured_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (ENV_PRIVATE_KEY, "ZKORACLE_KEYSTORE", ENV_KEYSTORE_PASSWORD):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def anvil_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="module")
def chain(anvil_node: AnvilNode) -> Chain:
    return chains.rpc(anvil_node.url, signer=None)


# -- what is registered, under which id ----------------------------------------------------


def test_registration_fields_come_from_the_manifest(model_dir: Path) -> None:
    art = ModelArtifacts.load(model_dir)
    m = art.manifest
    spec = art.spec("0x" + "ab" * 20)
    assert art.manifest_hash == hashlib.sha256((model_dir / "manifest.json").read_bytes()).digest()
    assert (spec.n_inputs, spec.n_outputs) == (8, 1)
    # 24-bit inputs packed 10 per word, 32-bit outputs 7 per word: 3 public inputs.
    assert (spec.input_bits, spec.inputs_per_word) == (m.layout.inputs.bits, 10) == (24, 10)
    assert (spec.output_bits, spec.outputs_per_word) == (32, 7)
    assert (spec.input_scale, spec.output_scale) == (m.inputs[0].scale, m.outputs[0].scale)
    assert spec.onnx_sha256.hex() == m.onnx_sha256 and spec.r1cs_sha256.hex() == m.r1cs_sha256
    assert art.layout.n_public == art.vk.n_public == 3
    header = render_model_verifier(art).split("pragma")[0]
    for value in (art.manifest_hash.hex(), m.onnx_sha256, m.r1cs_sha256):
        assert value in header


def test_model_id_is_the_owner_and_a_salt_from_the_keys_or_a_name(
    model_dir: Path, tmp_path: Path
) -> None:
    art = ModelArtifacts.load(model_dir)
    salt = keccak(encode(["bytes32", "bytes32"], [art.manifest_hash, verifying_key_hash(art.vk)]))
    assert art.salt() == salt == ModelArtifacts.load(model_dir).default_salt()
    assert art.salt("risk-v2") == keccak(b"risk-v2")
    owner, other_owner = "0x" + "11" * 20, "0x" + "22" * 20
    assert art.model_id(owner) == keccak(encode(["address", "bytes32"], [owner, salt]))
    assert art.model_id(owner) != art.model_id(other_owner)
    assert art.model_id(owner, "risk-v2") == model_id_of(owner, keccak(b"risk-v2"))
    # A new setup of the same circuit: same manifest, new key, new salt.
    again = shutil.copytree(model_dir, tmp_path / "again")
    setup(again, "native")
    other = ModelArtifacts.load(again)
    assert other.manifest_hash == art.manifest_hash and other.salt() != art.salt()


def test_a_directory_whose_keys_belong_elsewhere_is_refused(
    model_dir: Path, tmp_path: Path
) -> None:
    bad = shutil.copytree(model_dir, tmp_path / "bad")
    setup_json = json.loads((bad / "setup.json").read_text())
    setup_json["r1cs_sha256"] = "00" * 32
    (bad / "setup.json").write_text(json.dumps(setup_json))
    with pytest.raises(ArtifactError, match="keys were set up for r1cs 0000"):
        ModelArtifacts.load(bad)
    (bad / "setup.json").unlink()
    with pytest.raises(BackendError, match="run the setup first"):
        ModelArtifacts.load(bad)


# -- deploy_model and the Hub client on Anvil -----------------------------------------------


@pytest.mark.anvil
def test_deploy_model_registers_what_the_manifest_says(chain: Chain, model_dir: Path) -> None:
    dep = deploy_model(chain, model_dir)
    art = ModelArtifacts.load(model_dir)
    hub = Hub(chain, dep.hub)
    registered = hub.model(dep.model_id)
    assert registered is not None and dep.model_id == art.model_id(chain.sender)
    assert hub.model_id_of(chain.sender, art.salt()) == dep.model_id
    code = chain.w3.eth.get_code(dep.verifier)  # type: ignore[arg-type]
    assert registered["verifier_code_hash"] == keccak(bytes(code))
    spec = art.spec(dep.verifier)
    assert registered["verifier"] == dep.verifier and registered["owner"] == chain.sender
    assert registered["manifest_hash"] == spec.manifest_hash
    assert (registered["n_inputs"], registered["input_bits"], registered["inputs_per_word"]) == (
        spec.n_inputs,
        spec.input_bits,
        spec.inputs_per_word,
    )
    assert registered["n_public"] == 3 and not registered["retired"]
    assert set(dep.transactions) == {"verifier", "register"} and dep.hub_tx is not None
    assert dep.gas_used == sum(t.gas_used for t in [dep.hub_tx, *dep.transactions.values()])

    # Again on the same hub: nothing is sent, the registration is reported.
    again = deploy_model(chain, model_dir, dep.hub)
    assert (again.verifier, again.model_id, again.transactions) == (dep.verifier, dep.model_id, {})
    # Under a name: a second verifier and id on the same hub.
    named = deploy_model(chain, model_dir, hub, name="risk-named")
    assert named.model_id == model_id_of(chain.sender, keccak(b"risk-named"))
    assert named.verifier != dep.verifier
    # Another account deploying the same directory gets an id of its own.
    theirs = deploy_model(chain, model_dir, hub, sender=chain.accounts[1])
    assert theirs.model_id == art.model_id(chain.accounts[1]) != dep.model_id
    # A salt already used for another manifest is refused before anything is sent.
    with pytest.raises(DeploymentError, match="register with another salt"):
        deploy_model(chain, model_dir, hub, salt=_used_salt_of_other_model(chain, hub))


def _used_salt_of_other_model(chain: Chain, hub: Hub) -> bytes:
    """A salt the chain's sender registered another model (another manifest) with."""
    salt = keccak(b"another-model")
    verifier = Hub.deploy(chain).address  # any contract with code
    spec = ModelSpec(verifier, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 1, 1, 8, 1, 8, 1, 0, 0)
    chain.transact(hub.contract.functions.registerModel(salt, spec.as_abi()))
    return salt


@pytest.mark.anvil
def test_hub_requests_quantize_real_inputs_and_decode_reverts(
    chain: Chain, model_dir: Path
) -> None:
    dep = deploy_model(chain, model_dir, name="requests")
    hub = Hub(chain, dep.hub)  # a fresh client: the scale comes from the registration
    sent = hub.request(dep.model_id, FEATURES, fee=10**9, sender=chain.accounts[1])
    assert sent.event["inputs"] == [int(v) for v in quantize(FEATURES, 16)]
    assert sent.event["requester"] == chain.accounts[1] and sent.event["fee"] == 10**9
    assert hub.result(sent.request_id) == {"status": RequestStatus.PENDING, "outputs": []}
    assert hub.requested_since(sent.tx.block_number) == [sent.event]
    with pytest.raises(TransactionReverted) as info:
        hub.request(dep.model_id, [1, 2, 3])
    assert (info.value.error_name, info.value.error_args) == ("WrongInputCount", (8, 3))
    with pytest.raises(TransactionReverted) as info:
        hub.request(dep.model_id, [0] * 7 + [1 << 23])
    assert info.value.error_name == "ValueOutOfRange"
    hub.retire(dep.model_id)
    with pytest.raises(TransactionReverted) as info:
        hub.request(dep.model_id, [0] * 8)
    assert info.value.error_name == "ModelIsRetired"


# -- commands ---------------------------------------------------------------------------------


@pytest.mark.anvil
def test_deploy_command_writes_the_deployment_and_reuses_its_hub(
    anvil_node: AnvilNode,
    chain: Chain,
    model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "deployment.json"
    args = ["deploy", str(model_dir), "--rpc", anvil_node.url, "--out", str(out)]
    assert main([*args, "--name", "cli-first"]) == 0
    printed = capsys.readouterr().out
    doc = read_deployment(out)
    (first,) = doc["models"]
    assert doc["chain_id"] == 31337 and doc["hub_tx"] is not None
    assert first["model_id"] == "0x" + model_id_of(chain.sender, keccak(b"cli-first")).hex()
    assert f"hub       {doc['hub']} (deployed)" in printed
    assert f"verifier  {first['verifier']}" in printed and "next:" in printed
    assert f'id = "{first["model_id"]}"' in printed and "zkoracle serve" in printed
    registered = Hub(chain, doc["hub"]).model(bytes.fromhex(first["model_id"][2:]))
    assert registered is not None and registered["verifier"] == first["verifier"]

    assert main([*args, "--name", "cli-second"]) == 0
    captured = capsys.readouterr()
    assert f"using the hub recorded in {out}" in captured.err
    again = read_deployment(out)
    assert again["hub"] == doc["hub"] and again["hub_tx"] == doc["hub_tx"]
    assert [m["model_id"] for m in again["models"]] == [
        first["model_id"],
        "0x" + model_id_of(chain.sender, keccak(b"cli-second")).hex(),
    ]
    salt = "0x" + "5a" * 32
    assert main([*args, "--salt", salt]) == 0
    salted = read_deployment(out)["models"][-1]
    assert salted["model_id"] == "0x" + model_id_of(chain.sender, bytes.fromhex("5a" * 32)).hex()
    with pytest.raises(SystemExit):
        main([*args, "--salt", "0x1234"])
    assert "a salt is 32 bytes in hex" in capsys.readouterr().err


@pytest.mark.anvil
def test_deploy_command_signs_with_a_keystore(
    anvil_node: AnvilNode,
    chain: Chain,
    model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = Account.create()
    keystore = tmp_path / "key.json"
    keyfile = Account.encrypt(account.key, "pw", kdf="pbkdf2", iterations=1000)
    keystore.write_text(json.dumps(keyfile))
    chain.fund(account.address, 10**19)
    monkeypatch.setenv(ENV_KEYSTORE_PASSWORD, "pw")
    out = tmp_path / "d.json"
    argv = ["deploy", str(model_dir), "--rpc", anvil_node.url, "--keystore", str(keystore)]
    assert main([*argv, "--name", "keystore", "--out", str(out)]) == 0
    (entry,) = read_deployment(out)["models"]
    assert entry["owner"] == account.address
    assert entry["model_id"] == "0x" + model_id_of(account.address, keccak(b"keystore")).hex()
    registered = Hub(chain, read_deployment(out)["hub"]).model(bytes.fromhex(entry["model_id"][2:]))
    assert registered is not None and registered["owner"] == account.address


@pytest.mark.anvil
def test_deploy_command_errors_name_the_problem(
    anvil_node: AnvilNode, model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rpc = ["deploy", str(model_dir), "--rpc", anvil_node.url]
    nowhere = "0x" + "12" * 20
    assert main([*rpc, "--hub", nowhere, "--out", str(tmp_path / "d.json")]) == 2
    assert "no contract at hub address 0x1212" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    assert main([*rpc, "--out", str(tmp_path / "bad.json")]) == 2
    assert "not a deployment file" in capsys.readouterr().err

    # A lasting record is never overwritten by a deployment elsewhere...
    lasting = tmp_path / "lasting.json"
    assert main([*rpc, "--name", "lasting", "--out", str(lasting)]) == 0
    recorded = lasting.read_text()
    capsys.readouterr()
    for other in (["--chain", "anvil"], [*rpc[2:], "--hub", nowhere]):
        assert main(["deploy", str(model_dir), *other, "--out", str(lasting)]) == 2
        assert f"{lasting} records hub" in capsys.readouterr().err
        assert lasting.read_text() == recorded
    # ... while the record of a chain that ended with its command is replaced.
    ephemeral = tmp_path / "ephemeral.json"
    for _ in range(2):
        assert main(["deploy", str(model_dir), "--chain", "anvil", "--out", str(ephemeral)]) == 0
        assert "(deployed)" in capsys.readouterr().out
        assert len(read_deployment(ephemeral)["models"]) == 1


def test_export_verifier_command(
    model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sol" / "Verifier.sol"
    assert main(["export-verifier", str(model_dir), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    art = ModelArtifacts.load(model_dir)
    assert out.read_text() == render_model_verifier(art)
    assert "uint256[3] calldata input" in out.read_text()
    assert "Groth16Verifier: 3 public inputs" in printed and "bytes of code" in printed
    assert f"wrote {out}" in printed and f"next: zkoracle deploy {model_dir}" in printed

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["export-verifier", str(empty), "-o", str(tmp_path / "x.sol")]) == 2
    assert "zkoracle export-verifier: error:" in capsys.readouterr().err
    assert not (tmp_path / "x.sol").exists()
