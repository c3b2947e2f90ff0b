"""The hub's Python side, in one place: one binding class, its types, its deployment.

* `artifacts`: a compiled, set-up model directory as the chain sees it (registration
  fields, salt, model id);
* `sources`: ``contracts/`` compiled, a model's verifier rendered and compiled, deployment;
* `records`: what the hub returns (events, views, sent transactions) and `RequestStatus`;
* `binding`: `Hub`, built from `base` (connection, ABI, retried reads), `reads` (views),
  `events` (request logs, receipt events) and `calldata` (proof-carrying calls' bytes);
* `deploy`: hub, verifier and registration of a model directory, ``deployment.json``;
* `onchain_feeds`: the ``OnchainInputFeeds`` front of the hub (feeds with on-chain inputs).
"""

from oracle.hub.artifacts import ArtifactError, ModelArtifacts, ModelSpec, model_id_of
from oracle.hub.binding import Hub
from oracle.hub.deploy import Deployment, DeploymentError, deploy_model
from oracle.hub.events import RequestEvent, UndecodableLog
from oracle.hub.records import RequestStatus, Sent, only_from
from oracle.hub.sources import (
    CONTRACTS_DIR,
    VERIFIER_NAME,
    compile_model_verifier,
    deploy_contract,
    hub_contracts,
    load_hub_abi,
)

__all__ = [
    "CONTRACTS_DIR",
    "VERIFIER_NAME",
    "ArtifactError",
    "Deployment",
    "DeploymentError",
    "Hub",
    "ModelArtifacts",
    "ModelSpec",
    "RequestEvent",
    "RequestStatus",
    "Sent",
    "UndecodableLog",
    "compile_model_verifier",
    "deploy_contract",
    "deploy_model",
    "hub_contracts",
    "load_hub_abi",
    "model_id_of",
    "only_from",
]
