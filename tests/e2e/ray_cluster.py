"""The tests' Ray cluster: `oracle.cluster.local.LocalRayCluster`, run only in a network
namespace whose one interface is loopback (`make test` starts the Ray tests under
``unshare -n``); elsewhere `require_isolated_network` skips them."""

from __future__ import annotations

import pytest

from oracle.cluster.local import LocalRayCluster as RayCluster
from oracle.cluster.local import loopback_only, network_devices

__all__ = ["RayCluster", "require_isolated_network"]


def require_isolated_network() -> None:
    """Skip unless loopback is the only network interface (a private namespace)."""
    if not loopback_only():
        pytest.skip(
            f"Ray binds every interface ({', '.join(network_devices())} here): the Ray tests "
            "run in a loopback-only network namespace, `make test` starts them under `unshare -n`"
        )
    pytest.importorskip("ray")
