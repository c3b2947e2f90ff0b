"""The chain the daemon talks to: an RPC endpoint, or a chain of its own.

`connect` opens ``[chain].kind = "rpc"``. With ``"anvil"`` or ``"embedded"`` the daemon
starts the chain itself (`start_chain`: an Anvil node on a free loopback port, or py-evm
in its own process) and funds its account from the dev accounts; `deploy_hub` then
deploys a hub, registers every configured model (with its configured salt, so under
the id the daemon's account derives, with a freshly rendered verifier) and creates every
configured feed with the daemon as its
updater. Such a chain lives as long as the daemon: nothing on it outlives a restart, so
a ``[hub].address`` cannot refer to it.

The Anvil node mines a transaction as soon as it arrives and, besides, a block every
second, so confirmation depths greater than zero are reached without traffic.
"""

from __future__ import annotations

import logging

from web3 import Web3
from web3.types import RPCEndpoint

from oracle import chain as chains
from oracle.accounts import Signer
from oracle.chain import Chain
from oracle.daemon.config import DaemonConfig
from oracle.daemon.errors import DaemonError
from oracle.errors import ChainConnectionError
from oracle.hub import Hub, deploy_model
from oracle.redaction import redact_url, register_secret, scrub, secret_parts

log = logging.getLogger(__name__)

#: Automine plus a block every second (`anvil --mixed-mining`).
ANVIL_ARGS = ("--mixed-mining", "--block-time", "1")


def connect(config: DaemonConfig) -> Web3:
    """A Web3 for the configured RPC endpoint; its chain id must be the configured one.
    web3's own retries are off: `oracle.rpc` retries with the daemon's policy. The
    chain id, which web3 checks before every call it validates, is asked once and kept;
    nothing else is cached (a block hash must be read anew to see a reorg)."""
    chain = config.chain
    if chain.kind != "rpc" or chain.url is None:
        raise DaemonError(f"{config.file}: [chain].kind = {chain.kind!r} has no RPC url")
    provider = Web3.HTTPProvider(
        chain.url,
        request_kwargs={"timeout": 30},
        exception_retry_configuration=None,
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )
    for part in secret_parts(chain.url):  # no log line may show the URL's API key
        register_secret(part)
    shown = redact_url(chain.url)
    w3 = Web3(provider)
    try:
        actual = int(w3.eth.chain_id)
    except OSError as exc:
        why = scrub(f"{type(exc).__name__}: {exc}", chain.url)
        raise ChainConnectionError(f"cannot reach {shown}: {why}") from None
    if actual != chain.chain_id:
        raise DaemonError(
            f"{config.file}: [chain].chain_id is {chain.chain_id} but {shown} serves chain {actual}"
        )
    return w3


def start_chain(config: DaemonConfig, signer: Signer) -> Chain:
    """The local chain of `config` (kind "anvil" or "embedded"), `signer` funded on it."""
    kind = config.chain.kind
    if config.hub is not None:
        raise DaemonError(
            f"{config.file}: [hub].address: with [chain].kind = {kind!r} the daemon starts a "
            "new chain, where no hub exists yet: leave [hub].address out and the daemon "
            "deploys one"
        )
    if kind == "anvil":
        chain = chains.anvil(signer=signer, extra_args=ANVIL_ARGS)
        url = getattr(chain.w3.provider, "endpoint_uri", None)
        log.info("started a local Anvil node at %s", url, extra={"rpc_url": url})
        return chain
    if kind == "embedded":
        return chains.embedded(signer=signer)
    raise DaemonError(f"{config.file}: [chain].kind = {kind!r} is not a local chain")


def deploy_hub(chain: Chain, config: DaemonConfig, updater: str) -> str:
    """Deploy a hub on `chain` with the configured models and feeds; its address."""
    hub = Hub.deploy(chain, sender=updater)
    for model in config.models:
        if model.salt is None:
            raise DaemonError(f"{config.file}: model {model.name!r} has no salt to register with")
        dep = deploy_model(chain, model.artifacts, hub, salt=model.salt, sender=updater)
        if dep.model_id != model.model_id:
            raise DaemonError(
                f"{config.file}: model {model.name!r} was registered as 0x{dep.model_id.hex()}, "
                f"the configuration expects 0x{model.model_id.hex()}"
            )
    for feed in config.feeds:
        hub.create_feed(feed.feed_id, config.model(feed.model).model_id)
        hub.set_feed_updater(feed.feed_id, updater)
    log.info(
        "deployed a hub with %d model(s) and %d feed(s)",
        len(config.models),
        len(config.feeds),
        extra={"hub": hub.address},
    )
    return hub.address
