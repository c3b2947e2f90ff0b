"""Where the pinned local toolchain lives: ``hardhat-free-devnet/`` and its node_modules.

The folder sits next to the packages in the repository; ``ZKORACLE_DEVNET_DIR`` points
elsewhere (e.g. an installed copy). Every lookup fails with a message that says which
command installs what is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from oracle.errors import DevnetError

ENV_DEVNET_DIR = "ZKORACLE_DEVNET_DIR"

#: npm installs Anvil's binary through the one platform package that matches the machine.
_ANVIL_GLOB = "node_modules/@foundry-rs/anvil-*/bin/anvil"


def devnet_dir() -> Path:
    """The devnet folder: ``$ZKORACLE_DEVNET_DIR`` or ``<repo>/hardhat-free-devnet``."""
    override = os.environ.get(ENV_DEVNET_DIR)
    path = (
        Path(override) if override else Path(__file__).resolve().parents[1] / "hardhat-free-devnet"
    )
    if not (path / "package.json").is_file():
        raise DevnetError(
            f"devnet folder {path} has no package.json; set {ENV_DEVNET_DIR} to the "
            "hardhat-free-devnet folder of the zkoracle repository"
        )
    return path


def node_modules() -> Path:
    """``node_modules`` of the devnet folder, or an error telling to run ``npm ci`` there."""
    base = devnet_dir()
    modules = base / "node_modules"
    if not modules.is_dir():
        raise DevnetError(f"{modules} is missing: run `npm ci` in {base}")
    return modules


def node_executable() -> str:
    """The ``node`` on PATH (Node 20 or newer)."""
    node = shutil.which("node")
    if node is None:
        raise DevnetError("`node` is not on PATH: install Node.js 20 or newer")
    return node


def anvil_binary() -> Path:
    """The pinned Anvil binary (``ANVIL_BINARY`` overrides it)."""
    override = os.environ.get("ANVIL_BINARY")
    if override:
        return Path(override)
    base = devnet_dir()
    node_modules()
    found = sorted(base.glob(_ANVIL_GLOB))
    if not found:
        raise DevnetError(f"the Anvil binary is not in {base}/node_modules: run `npm ci` in {base}")
    return found[0]


def solcjs_script() -> Path:
    """``compile.js``: the solc-js standard-JSON file-to-file helper."""
    node_modules()
    base = devnet_dir()
    if not (base / "node_modules" / "solc" / "package.json").is_file():
        raise DevnetError(
            f"solc-js is not installed in {base}/node_modules: run `npm ci` in {base}"
        )
    return base / "compile.js"
