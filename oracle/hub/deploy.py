"""Put a compiled, set-up model on a chain: hub (once), the model's verifier, registration.

`deploy_model` is the one path the CLI (``zkoracle deploy``), the scripts, the demo and the
tests take. It checks the model directory before sending anything, deploys a hub unless
one is given, renders and deploys the verifier of the directory's verification key, and
registers the model with a salt; the hub derives the id from the sender and the salt
(`oracle.hub.artifacts`), so nobody else can have taken it. Deploying a model that the same
sender already registered on that hub with the same salt sends nothing and returns the
existing registration, so the command can be re-run.

``deployment.json`` records, per chain and hub, every model deployed through it::

    {"format": "zkoracle-deployment/1", "chain_id": 31337, "chain": "rpc",
     "hub": "0x...", "hub_tx": {"tx_hash": "0x...", "gas_used": 4000000} | null,
     "models": [{"model_id": "0x...", "model_dir": "...", "manifest_sha256": "...",
                 "verifier": "0x...", "owner": "0x...",
                 "transactions": {"verifier": {...}, "register": {...}}}]}
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypedDict

from web3 import Web3

from oracle.chain import Chain
from oracle.errors import OracleError
from oracle.hub.artifacts import ModelArtifacts, model_id_of
from oracle.hub.binding import Hub
from oracle.hub.records import Sent
from oracle.hub.sources import compile_model_verifier, deploy_contract

FORMAT = "zkoracle-deployment/1"
DEFAULT_FILE = "deployment.json"
#: Chains that end with the process that started them: their records are replaced freely.
EPHEMERAL_CHAINS = ("embedded", "anvil")

Progress = Callable[[str], None]


class DeploymentError(OracleError):
    """A deployment cannot go ahead (a salt used for another model, a bad deployment file)."""


class TxJson(TypedDict):
    tx_hash: str
    gas_used: int


class ModelJson(TypedDict):
    model_id: str
    model_dir: str
    manifest_sha256: str
    verifier: str
    owner: str
    transactions: dict[str, TxJson]


class DeploymentJson(TypedDict):
    format: str
    chain_id: int
    chain: str
    hub: str
    hub_tx: TxJson | None
    models: list[ModelJson]


def _tx_json(tx: Sent) -> TxJson:
    return {"tx_hash": tx.tx_hash, "gas_used": tx.gas_used}


@dataclass(frozen=True)
class Deployment:
    """One model on one hub: addresses, id and the transactions this deployment sent
    (`hub_tx` is None for a hub that existed; `transactions` is empty when the model was
    registered already)."""

    chain_id: int
    chain: str
    hub: str
    verifier: str
    model_id: bytes
    model_dir: Path
    manifest_sha256: str
    owner: str
    hub_tx: Sent | None = None
    transactions: dict[str, Sent] = field(default_factory=dict)

    @property
    def gas_used(self) -> int:
        txs = [*self.transactions.values(), *([self.hub_tx] if self.hub_tx else [])]
        return sum(t.gas_used for t in txs)

    def model_json(self) -> ModelJson:
        return {
            "model_id": "0x" + self.model_id.hex(),
            "model_dir": str(self.model_dir),
            "manifest_sha256": self.manifest_sha256,
            "verifier": self.verifier,
            "owner": self.owner,
            "transactions": {k: _tx_json(t) for k, t in self.transactions.items()},
        }


def deploy_model(
    chain: Chain,
    model_dir: str | Path,
    hub: str | Hub | None = None,
    *,
    name: str | None = None,
    salt: bytes | None = None,
    sender: str | None = None,
    progress: Progress | None = None,
) -> Deployment:
    """Deploy the model in `model_dir` on `chain`, with a new hub unless `hub` is given,
    registered with `salt` if given, else the salt `oracle.hub.artifacts` derives (from `name`
    if given); the id is the sender's (`model_id_of`)."""
    say = progress or (lambda _m: None)
    art = ModelArtifacts.load(model_dir)
    say(f"rendering and compiling the verifier ({art.layout.n_public} public inputs)")
    _, verifier_code = compile_model_verifier(art)
    owner = Web3.to_checksum_address(sender) if sender else chain.sender
    if hub is None:
        say("compiling and deploying the ZkOracle hub")
        hub = Hub.deploy(chain, sender=owner)
    elif not isinstance(hub, Hub):
        hub = Hub(chain, hub)
    salt = salt or art.salt(name)
    model_id = model_id_of(owner, salt)
    base = Deployment(
        chain_id=chain.chain_id,
        chain=chain.kind,
        hub=hub.address,
        verifier="",
        model_id=model_id,
        model_dir=art.dir.resolve(),
        manifest_sha256=art.manifest_hash.hex(),
        owner=owner,
        hub_tx=hub.deploy_tx,
    )
    existing = hub.model(model_id)
    if existing is not None:
        if existing["manifest_hash"] != art.manifest_hash:
            raise DeploymentError(
                f"{owner} registered model 0x{model_id.hex()} on hub {hub.address} with this "
                f"salt for manifest {existing['manifest_hash'].hex()[:16]}... already; "
                "register with another salt (--name or --salt)"
            )
        say(f"model 0x{model_id.hex()} is registered already; nothing to send")
        hub.attach(model_id, art)
        return replace(base, verifier=existing["verifier"])
    say(f"deploying the verifier ({verifier_code.deployed_size} bytes of code)")
    verifier, verifier_tx = deploy_contract(chain, verifier_code, sender=owner)
    say(f"registering model 0x{model_id.hex()}")
    reg = hub.register_model(art, verifier, salt=salt, sender=owner)
    if reg.model_id != model_id:
        raise DeploymentError(
            f"hub {hub.address} registered the model as 0x{reg.model_id.hex()}, expected "
            f"0x{model_id.hex()} = keccak256(abi.encode(owner, salt)): not a ZkOracle hub?"
        )
    return replace(
        base, verifier=verifier, transactions={"verifier": verifier_tx, "register": reg.tx}
    )


# -- deployment.json --------------------------------------------------------------------


def read_deployment(path: str | Path) -> DeploymentJson:
    """A deployment file written by `write_deployment`."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except OSError as e:
        raise DeploymentError(f"{p}: cannot read the deployment file: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise DeploymentError(f"{p}: not JSON (line {e.lineno} column {e.colno})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DeploymentError(f"{p}: not a deployment file (format is not {FORMAT!r})")
    for key, kind in (("chain_id", int), ("hub", str), ("models", list)):
        if not isinstance(doc.get(key), kind):
            raise DeploymentError(f"{p}: {key!r} is missing or not a {kind.__name__}")
    return doc  # type: ignore[return-value]


def _lasting(doc: DeploymentJson) -> bool:
    """False for a record of a chain that ended with the command that wrote it."""
    return doc.get("chain") not in EPHEMERAL_CHAINS


def _same_place(doc: DeploymentJson, chain_id: int, hub: str | None) -> bool:
    same_hub = hub is None or doc["hub"].lower() == hub.lower()
    return doc["chain_id"] == chain_id and same_hub


def hub_for(path: str | Path, chain: Chain, hub: str | None = None) -> str | None:
    """The hub to deploy to: `hub` if given, else the one the deployment file at `path`
    records for this chain (None: deploy a new one). Raises `DeploymentError` when the file
    records a lasting deployment elsewhere, which writing to it would lose."""
    p = Path(path)
    if not p.exists():
        return hub
    doc = read_deployment(p)
    if not _lasting(doc):
        return hub
    if not _same_place(doc, chain.chain_id, hub):
        raise DeploymentError(
            f"{p} records hub {doc['hub']} on chain {doc['chain_id']}: write this deployment "
            "to another file (--out)"
        )
    if not chain.w3.eth.get_code(Web3.to_checksum_address(doc["hub"])):
        raise DeploymentError(
            f"{p} records hub {doc['hub']} on chain {chain.chain_id}, but it has no code "
            "there (was the node restarted?): remove the file or use another --out"
        )
    return doc["hub"]


def write_deployment(path: str | Path, dep: Deployment) -> DeploymentJson:
    """Write (or add to) the deployment file: the models of the same chain and hub are
    kept, the entry of `dep`'s model id replaced. A lasting record of another chain or hub
    is never overwritten (`DeploymentError`)."""
    p = Path(path)
    models: list[ModelJson] = []
    hub_tx = _tx_json(dep.hub_tx) if dep.hub_tx else None
    if p.exists():
        old = read_deployment(p)
        if _same_place(old, dep.chain_id, dep.hub):
            models = [m for m in old["models"] if m.get("model_id") != "0x" + dep.model_id.hex()]
            hub_tx = hub_tx or old.get("hub_tx")
        elif _lasting(old):
            raise DeploymentError(
                f"{p} records hub {old['hub']} on chain {old['chain_id']}; not overwritten"
            )
    doc: DeploymentJson = {
        "format": FORMAT,
        "chain_id": dep.chain_id,
        "chain": dep.chain,
        "hub": dep.hub,
        "hub_tx": hub_tx,
        "models": [*models, dep.model_json()],
    }
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=1) + "\n")
    return doc
