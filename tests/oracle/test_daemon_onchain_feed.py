"""The daemon's side of a feed with on-chain inputs, against the real contracts on Anvil.

The scheduler reads the sources at the block it targets (the newest aggregator round and
the inputs the contract builds from it), the job is proved (a trapdoor proof for the
statement bound to the `OnchainInputFeeds` contract) and the submitter sends ``update`` to
that contract; a round that appears meanwhile changes nothing, since the round ids travel
with the job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from oracle.accounts import Signer
from oracle.daemon.feeds import FeedScheduler, InputShape, onchain_update_calldata
from oracle.daemon.feeds_config import FeedConfig, SourceConfig
from oracle.daemon.fees import GasPolicy
from oracle.daemon.jobs import State
from oracle.daemon.models_config import ModelConfig
from oracle.daemon.store import Store
from oracle.daemon.submitter import Submitter
from oracle.hub import Hub
from oracle.hub.onchain_feeds import to_fixed_point
from oracle.statement import feed_binding
from tests.oracle.hub_harness import RISK_PACKED, HubEnv, open_env

pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("daemon-onchain-feed")]
POLICY = GasPolicy(max_fee_wei=100 * 10**9, priority_fee_wei=10**9, replace_after=30.0,
                   bump_percent=12.5)  # fmt: skip
PRICES = [4000 + 53 * i for i in range(10)]


@pytest.fixture(scope="module")
def env() -> Iterator[HubEnv]:
    with open_env("anvil") as hub_env:
        yield hub_env


def test_the_daemon_posts_a_round_from_the_rounds_it_read(env: HubEnv, tmp_path: Path) -> None:
    agg = env.chain.deploy("PriceAggregator", 2, "ETH / USD", sender=env.owner)
    for p in PRICES:
        env.chain.send(agg.functions.transmit(p), env.owner)
    feeds = env.chain.deploy("OnchainInputFeeds", env.hub.address)
    feed_id = keccak(text="daemon-onchain")
    sources = [(agg.address, 8, 0, b"")]
    env.chain.send(
        feeds.functions.declareFeed(feed_id, env.id(RISK_PACKED), 600, sources), env.other
    )

    w3 = env.chain.w3
    hub = Hub(w3, env.hub.address)
    store = Store(tmp_path / "feed.db")
    model = ModelConfig("risk", env.id(RISK_PACKED), tmp_path)
    feed = FeedConfig(
        feed_id, "risk", 3600.0, 0.5, 1.0, SourceConfig("onchain", address=feeds.address)
    )
    scheduler = FeedScheduler(hub, store, [feed], {"risk": model},
                              shapes=lambda _: InputShape((), ()), clock=lambda: 0.0)  # fmt: skip
    number, block_hash, now = hub.latest_block()
    (job,) = scheduler.tick(number, block_hash, now)
    expected = [to_fixed_point(p, 2, RISK_PACKED.input_scale) for p in PRICES[:1:-1]]
    assert job.payload["round_ids"] == [10] and job.payload["inputs"] == expected
    assert job.payload["to"] == feeds.address and job.payload["round"] == 1

    env.chain.send(agg.functions.transmit(9999), env.owner)  # a new round before inclusion
    account = Account.create()
    w3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])  # type: ignore[arg-type]
    binding = feed_binding(env.chain.chain.chain_id, env.hub.address, feed_id, 1, feeds.address)
    proof = RISK_PACKED.forge(RISK_PACKED.layout.public_inputs(binding, expected, [77]))
    store.start_proving(job.id)
    calldata = onchain_update_calldata(w3, feeds.address, job.payload, [77], proof)
    store.mark_proved(job.id, [77], bytes(256), calldata)
    submitter = Submitter(hub, store, Signer.from_key(account.key), POLICY, confirmations=1)
    for _ in range(3):
        submitter.step()
        w3.provider.make_request("anvil_mine", ["0x1"])  # type: ignore[arg-type]
    assert store.get(job.id).state is State.CONFIRMED
    assert env.hub.functions.latest(feed_id).call()[:2] == [[77], 1]
    assert feeds.functions.lastRoundUsed(feed_id, 0).call() == 10
