"""Fixtures of the page tests: the tiny MLP, and a daemon on Anvil that served requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oracle.daemon.daemon_helpers import tiny_model
from tests.oracle.pages.pages_stack import LiveDaemon, serve_requests, start_live_daemon


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("pages-model"), "mlp")


@pytest.fixture(scope="session")
def live_daemon(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDaemon]:
    live = start_live_daemon(model_dir, tmp_path_factory.mktemp("pages-daemon"))
    try:
        serve_requests(live)
        yield live
    finally:
        live.close()
