"""Fixtures of the end-to-end daemon tests: one compiled model per session, a fresh chain
with the hub per test, a Ray cluster per module of the Ray tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.e2e_stack import Stack, start_stack
from tests.e2e.ray_cluster import RayCluster, require_isolated_network
from tests.oracle.daemon.daemon_helpers import tiny_model


@pytest.fixture(scope="session")
def mlp_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 3 -> 4 -> 2 MLP, compiled and set up once for every test of the session."""
    return tiny_model(tmp_path_factory.mktemp("e2e-model"))


@pytest.fixture
def stack(mlp_model: Path) -> Iterator[Stack]:
    """Anvil mining a block every 0.1 s, the hub with the MLP, a funded daemon account."""
    s = start_stack(mlp_model, block_interval=0.1)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    """A Ray cluster of a head and a second node on loopback, once per module (the Ray
    tests skip outside a loopback-only network namespace)."""
    require_isolated_network()
    c = RayCluster(tmp_path_factory.mktemp("ray"))
    try:
        c.start_head()
        c.add_node("n2")
        c.wait_for_nodes(2)
        yield c
    finally:
        c.stop()
