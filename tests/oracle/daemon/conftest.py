"""Fixtures of the daemon tests: the compiled hub stand-in and a fresh Anvil per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oracle.anvil import AnvilNode
from oracle.solc import CompiledContract, compile_sources
from tests.oracle.daemon.daemon_helpers import Devchain


@pytest.fixture(scope="session")
def mock_hub() -> CompiledContract:
    source = Path(__file__).with_name("MockHub.sol").read_text()
    return compile_sources({"MockHub.sol": source})["MockHub"]


@pytest.fixture
def devchain(mock_hub: CompiledContract) -> Iterator[Devchain]:
    with AnvilNode() as node:
        yield Devchain(node.url, mock_hub)
