"""The daemon's TOML configuration, validated completely on start.

A configuration names the chain, the hub, the sending account, the models it proves, the
feeds it pushes and its operating policy (confirmation depth, gas, store, metrics,
provers). Every bad value fails at load time with the file, the key and what was
expected; unknown keys fail too. Relative paths are relative to the file's folder.

Models: see `oracle.daemon.models_config` (ids, salts, the per-model request policy).

The private key is never in the file: ``[account]`` names an environment variable that
holds it, or a keystore file (with the variable holding its password).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from eth_utils.address import to_checksum_address

from oracle.accounts import Signer, load_keystore
from oracle.chain import EMBEDDED_GAS
from oracle.daemon._toml import Table
from oracle.daemon.errors import ConfigError
from oracle.daemon.feeds_config import FeedConfig, read_feeds
from oracle.daemon.models_config import ModelConfig, read_models, resolve_ids
from oracle.errors import AccountError
from oracle.redaction import redact_url, register_secret

GWEI = 10**9
#: Nodes refuse a replacement that raises the fees by less than this (geth: 10 %).
MIN_BUMP_PERCENT = 10.0
_KEYLIKE = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ChainConfig:
    """Which chain to watch. ``url`` and ``chain_id`` are set for kind "rpc" only; the
    chain id is checked against the node's on start. "anvil" and "embedded" are chains
    the daemon starts itself (`oracle.daemon.endpoint`), or that an in-process caller hands
    to the service; the embedded chain mines only on transactions, so its confirmation
    depth defaults to 0."""

    kind: Literal["embedded", "anvil", "rpc"]
    url: str | None
    chain_id: int | None
    confirmations: int  # blocks a log or receipt must be buried under before it counts
    poll_interval: float  # seconds between two polls of the chain head
    max_block_range: int  # largest eth_getLogs range, in blocks
    start_block: int  # first block scanned by a fresh store
    reorg_depth: int  # how many recent block hashes the store keeps to find a fork point


@dataclass(frozen=True)
class AccountConfig:
    """Where the signing key comes from: exactly one of ``key_env`` and ``keystore``."""

    key_env: str | None
    keystore: Path | None
    password_env: str | None

    def load(self) -> Signer:
        """The signer; raises `AccountError` naming the variable or file, never the key."""
        if self.key_env is not None:
            value = os.environ.get(self.key_env)
            if not value:
                raise AccountError(f"environment variable {self.key_env} (the key) is not set")
            register_secret(value)
            return Signer.from_key(value.strip(), source=f"environment variable {self.key_env}")
        assert self.keystore is not None
        password_env = self.password_env

        def password(_prompt: str) -> str:
            value = os.environ.get(password_env) if password_env else None
            if value is None:
                raise AccountError(f"keystore {self.keystore} needs a password: set {password_env}")
            return value

        return load_keystore(self.keystore, prompt=password if password_env else None)


#: Largest batch the daemon sends: the calldata and the pairing input grow with n.
MAX_BATCH = 64


@dataclass(frozen=True)
class GasConfig:
    """EIP-1559 policy. Fees in wei; a transaction not mined after ``replace_after``
    seconds is re-sent at the same nonce with both fees raised by ``bump_percent``."""

    max_fee_wei: int  # cap on maxFeePerGas, whatever the base fee
    priority_fee_wei: int  # maxPriorityFeePerGas of a first attempt
    replace_after: float
    bump_percent: float
    gas_limit: int | None  # fixed gas limit; None: eth_estimateGas plus a margin


@dataclass(frozen=True)
class SubmitterConfig:
    """Batching: proved requests of one model waiting at the same time go out in one
    ``fulfillBatch`` of at most ``max_batch`` (1: never batch); a lone proved request waits
    at most ``max_batch_wait`` seconds for others (0: only what is already waiting)."""

    max_batch: int = 16
    max_batch_wait: float = 0.0


@dataclass(frozen=True)
class EngineConfig:
    """Where proofs are made: ``local`` worker processes (``[provers].workers`` of them) or
    prover actors on a Ray cluster (``engine = "ray"``). With Ray, ``fallback = "local"``
    proves on local workers while the cluster is unreachable; ``"park"`` (the default)
    keeps the jobs queued until it is back."""

    kind: Literal["local", "ray"] = "local"
    ray_address: str = "auto"  # "auto", "ray://host:port" or the head's "host:port"
    ray_actors: int = 0  # prover actors; 0 = one per `ray_cpus` CPUs of the cluster
    ray_cpus: float = 1.0  # CPUs reserved per actor
    ray_memory_mb: int = 0  # memory reserved per actor, MiB (0 = no reservation)
    ray_start_timeout: float = 600.0  # seconds for the actors to load their models
    reconnect_interval: float = 5.0  # seconds between two attempts to reach the cluster
    fallback: Literal["park", "local"] = "park"


@dataclass(frozen=True)
class DaemonConfig:
    file: Path
    chain: ChainConfig
    hub: str | None  # checksummed address of the ZkOracle hub; None: the daemon deploys one
    account: AccountConfig
    gas: GasConfig
    store_path: Path
    metrics_port: int | None  # None: no metrics server; 0: any free port
    prover_workers: int
    proof_timeout: float  # seconds before a proof attempt counts as failed
    models: tuple[ModelConfig, ...]
    feeds: tuple[FeedConfig, ...]
    engine: EngineConfig = field(default_factory=lambda: EngineConfig())
    submitter: SubmitterConfig = SubmitterConfig()
    #: Prover threads per worker; workers x threads defaults to the machine's cores.
    prover_threads: int = 1
    #: The OperatorKeys registry the daemon publishes its encryption key in at start.
    operator_keys: str | None = None

    def model(self, name: str) -> ModelConfig:
        for m in self.models:
            if m.name == name:
                return m
        raise ConfigError(f"{self.file}: no model named {name!r}")

    def model_by_id(self, model_id: bytes) -> ModelConfig | None:
        return next((m for m in self.models if m.model_id == model_id), None)

    def with_owner(self, owner: str) -> DaemonConfig:
        """This configuration with the model ids `owner` registers under (`resolve_ids`)."""
        return replace(self, models=resolve_ids(self.models, owner, self.file))


def _read_chain(t: Table) -> ChainConfig:
    kind = t.choice("kind", ("embedded", "anvil", "rpc"), default="rpc")
    url = chain_id = None
    if kind == "rpc":
        url = t.string("url")
        if not url.startswith(("http://", "https://")):
            raise t.expected("url", "an http:// or https:// URL", redact_url(url))
        chain_id = t.integer("chain_id", minimum=1)
    else:
        for key in ("url", "chain_id"):
            if t.has(key):
                raise t.error(key, f"only allowed with kind = 'rpc' (kind is {kind!r})")
    config = ChainConfig(
        kind=kind,  # type: ignore[arg-type]
        url=url,
        chain_id=chain_id,
        confirmations=t.integer("confirmations", default=0 if kind == "embedded" else 2),
        poll_interval=t.number("poll_interval", minimum=0.0, exclusive=True, default=2.0),
        max_block_range=t.integer("max_block_range", minimum=1, default=2000),
        start_block=t.integer("start_block", default=0),
        reorg_depth=t.integer("reorg_depth", minimum=1, default=128),
    )
    t.finish()
    return config


def _read_address(t: Table, key: str) -> str:
    raw = t.address(key)
    checksummed = to_checksum_address(raw)
    mixed = raw[2:] != raw[2:].lower() and raw[2:] != raw[2:].upper()
    if mixed and raw != checksummed:
        raise t.expected(key, f"a valid EIP-55 checksum ({checksummed})", raw)
    return checksummed


def _env_name(t: Table, key: str) -> str:
    value = t.string(key)
    if _KEYLIKE.fullmatch(value):
        # Never echo it: this is most likely the key itself.
        raise t.error(
            key, "expected the NAME of an environment variable, got what looks like a key "
            "(not shown); put the key in the environment and name the variable here"
        )  # fmt: skip
    if not _ENV_NAME.fullmatch(value):
        raise t.expected(key, "an environment variable name", value)
    return value


def _read_account(t: Table, base: Path) -> AccountConfig:
    for forbidden in ("key", "private_key", "password"):
        if t.has(forbidden):
            raise t.error(
                forbidden,
                "secrets never go in the config file: put it in an environment variable "
                "and name that variable in key_env / password_env",
            )
    key_env = _env_name(t, "key_env") if t.has("key_env") else None
    keystore = t.path("keystore", base, kind="file") if t.has("keystore") else None
    password_env = _env_name(t, "password_env") if t.has("password_env") else None
    t.finish()
    if (key_env is None) == (keystore is None):
        raise t.error("key_env", "set exactly one of key_env and keystore")
    if password_env is not None and keystore is None:
        raise t.error("password_env", "only used with keystore")
    return AccountConfig(key_env, keystore, password_env)


def _read_gas(t: Table, kind: str) -> GasConfig:
    max_fee = t.number("max_fee_gwei", minimum=0.0, exclusive=True, default=200.0)
    priority = t.number("priority_fee_gwei", default=1.0)
    if priority > max_fee:
        raise t.expected("priority_fee_gwei", f"at most max_fee_gwei ({max_fee:g})", priority)
    config = GasConfig(
        max_fee_wei=int(max_fee * GWEI),
        priority_fee_wei=int(priority * GWEI),
        replace_after=t.number("replace_after", minimum=0.0, exclusive=True, default=60.0),
        bump_percent=t.number("bump_percent", minimum=MIN_BUMP_PERCENT, default=12.5),
        gas_limit=_read_gas_limit(t, kind),
    )
    t.finish()
    return config


def _read_gas_limit(t: Table, kind: str) -> int | None:
    """The embedded chain's eth_estimateGas reruns the pairing check in pure Python (about
    1.5 s a run, a dozen runs): there the limit defaults to a fixed one."""
    if t.has("gas_limit"):
        return t.integer("gas_limit", minimum=21000)
    return EMBEDDED_GAS if kind == "embedded" else None


def _read_engine(t: Table) -> EngineConfig:
    kind = t.choice("engine", ("local", "ray"), default="local")
    if kind == "local":
        for key in ("ray_address", "ray_actors", "ray_cpus", "ray_memory_mb", "fallback"):
            if t.has(key):
                raise t.error(key, 'is a Ray setting: set engine = "ray" or remove it')
        return EngineConfig()
    address = t.string("ray_address", default="auto")
    if address != "auto" and not re.fullmatch(r"(ray://)?[A-Za-z0-9.\-]+:\d{1,5}", address):
        raise t.expected("ray_address", '"auto", "ray://host:port" or "host:port"', address)
    return EngineConfig(
        kind="ray",
        ray_address=address,
        ray_actors=t.integer("ray_actors", minimum=0, default=0),
        ray_cpus=t.number("ray_cpus", minimum=0.0, exclusive=True, default=1.0),
        ray_memory_mb=t.integer("ray_memory_mb", minimum=0, default=0),
        ray_start_timeout=t.number("ray_start_timeout", minimum=0.0, exclusive=True, default=600.0),
        reconnect_interval=t.number("reconnect_interval", minimum=0.0, exclusive=True, default=5.0),
        fallback="local"
        if t.choice("fallback", ("park", "local"), default="park") == "local"
        else "park",
    )


def parse_config(data: dict[str, object], file: Path) -> DaemonConfig:
    """Validate a parsed TOML document; `file` locates errors and relative paths."""
    root = Table(data, "", str(file))
    base = file.parent
    chain = _read_chain(root.table("chain"))
    hub_table = root.table("hub")
    hub = None
    if chain.kind == "rpc" or hub_table.has("address"):
        hub = _read_address(hub_table, "address")
    keys = _read_address(hub_table, "operator_keys") if hub_table.has("operator_keys") else None
    hub_table.finish()
    account = _read_account(root.table("account"), base)
    gas = _read_gas(root.table("gas"), chain.kind)
    store = root.table("store")
    store_path = store.path("path", base, default="oracle.db")
    store.finish()
    metrics = root.table("metrics")
    enabled = metrics.has("port")
    port = metrics.integer("port") if enabled else None
    if port is not None and port > 65535:
        raise metrics.expected("port", "a TCP port (0-65535; 0 = any free port)", port)
    metrics.finish()
    provers = root.table("provers")
    workers = provers.integer("workers", minimum=1, default=1)
    proof_timeout = provers.number("timeout", minimum=0.0, exclusive=True, default=3600.0)
    engine = _read_engine(provers)
    # Each worker proves with its own thread pool: by default the cores are shared out so
    # that workers x threads is the machine, and no proof waits on another's threads.
    threads = provers.integer(
        "threads", minimum=1, default=max(1, (os.cpu_count() or 1) // workers)
    )
    provers.finish()
    submitter = _read_submitter(root.table("submitter"))
    # Salts only where the daemon deploys the hub and registers the models itself.
    models = read_models(root.tables("models"), base, local=hub is None)
    feeds = read_feeds(root.tables("feeds"), base, {m.name for m in models})
    root.finish()
    return DaemonConfig(
        file, chain, hub, account, gas, store_path, port, workers, proof_timeout, models, feeds,
        engine, submitter, threads, keys,
    )  # fmt: skip


def _read_submitter(t: Table) -> SubmitterConfig:
    config = SubmitterConfig(
        max_batch=t.integer("max_batch", minimum=1, default=16),
        max_batch_wait=t.number("max_batch_wait", minimum=0.0, default=0.0),
    )
    if config.max_batch > MAX_BATCH:
        raise t.expected("max_batch", f"at most {MAX_BATCH}", config.max_batch)
    t.finish()
    return config


def load_config(path: str | Path) -> DaemonConfig:
    """Read and validate the configuration file at `path`."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the configuration: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_config(data, file)
