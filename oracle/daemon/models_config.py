"""The ``[[models]]`` part of the configuration: which models the daemon proves, under
which hub ids, and on what terms it takes their requests.

The hub derives a model id from its owner and a salt (``modelIdOf``). With a
``[hub].address`` the hub holds the model already: ``id`` names it. Without one (a chain
the daemon starts itself) the daemon deploys a hub and registers every model with its own
account and ``salt`` (a 32-byte hex value, or any other text whose keccak256 is taken;
default: the model's ``name``), so the ids follow once the account is known
(`resolve_ids`); an ``id`` given there must match.

Policy (all optional, per model): a request is refused before proving when its fee is below
``min_fee`` wei, or below the gas its fulfillment is expected to cost times ``fee_margin``
(0: no such check), when its callback gas exceeds ``max_callback_gas``, or when it expires
within ``min_time_left`` seconds (it would not be mined in time).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from eth_utils.crypto import keccak

from oracle.daemon._toml import Table
from oracle.daemon.errors import ConfigError
from oracle.hub import model_id_of

_HEX32 = 66


@dataclass(frozen=True)
class ModelPolicy:
    """Which requests of a model the daemon takes (see the module docstring)."""

    min_fee: int = 0  # wei
    max_callback_gas: int = 5_000_000
    fee_margin: float = 0.0  # fee >= expected gas cost x margin; 0 = not checked
    min_time_left: float = 30.0  # seconds between now and the request's expiry


@dataclass(frozen=True)
class ModelConfig:
    """A model the daemon proves: its hub id and the artifact folder of its circuit.
    `model_id` is empty until `resolve_ids` when only a salt is known."""

    name: str
    model_id: bytes
    artifacts: Path
    salt: bytes | None = None
    policy: ModelPolicy = ModelPolicy()


def _salt(t: Table, name: str) -> bytes:
    raw = t.string("salt", default=name)
    if raw.startswith("0x") and len(raw) == _HEX32:
        return t.bytes32("salt")
    return keccak(text=raw)


def _policy(t: Table) -> ModelPolicy:
    d = ModelPolicy()
    return ModelPolicy(
        min_fee=t.integer("min_fee", default=d.min_fee),
        max_callback_gas=t.integer("max_callback_gas", default=d.max_callback_gas),
        fee_margin=t.number("fee_margin", minimum=0.0, default=d.fee_margin),
        min_time_left=t.number("min_time_left", minimum=0.0, default=d.min_time_left),
    )


def _read_model(t: Table, base: Path, local: bool) -> ModelConfig:
    model_id = t.bytes32("id") if t.has("id") else b""
    if not local and not model_id:
        raise t.error("id", "required with [hub].address: the model's id on that hub")
    if not model_id and not t.has("name"):
        raise t.error("name", "required without an id: it is the default salt")
    name = t.string("name", default="0x" + model_id.hex())
    salt = _salt(t, name) if local else None
    if not local and t.has("salt"):
        raise t.error("salt", "only used when the daemon deploys the hub (no [hub].address)")
    artifacts = t.path("artifacts", base, kind="dir")
    policy = _policy(t)
    t.finish()
    return ModelConfig(name, model_id, artifacts, salt, policy)


def read_models(tables: list[Table], base: Path, *, local: bool) -> tuple[ModelConfig, ...]:
    models: list[ModelConfig] = []
    for t in tables:
        model = _read_model(t, base, local)
        if any(m.name == model.name for m in models):
            raise t.error("name", f"duplicate model name {model.name!r}")
        if model.model_id and any(m.model_id == model.model_id for m in models):
            raise t.error("id", f"model id 0x{model.model_id.hex()} is listed twice")
        if model.salt is not None and any(m.salt == model.salt for m in models):
            raise t.error("salt", f"model {model.name!r}: salt used twice")
        models.append(model)
    return tuple(models)


def resolve_ids(models: tuple[ModelConfig, ...], owner: str, file: Path) -> tuple[ModelConfig, ...]:
    """`models` with the ids `owner` registers them under (models with a salt); an id given
    in the file must be that one."""
    out: list[ModelConfig] = []
    for m in models:
        if m.salt is None:
            out.append(m)
            continue
        derived = model_id_of(owner, m.salt)
        if m.model_id and m.model_id != derived:
            raise ConfigError(
                f"{file}: [[models]] {m.name!r}: id 0x{m.model_id.hex()} is not the id "
                f"{owner} registers with its salt (0x{derived.hex()}): drop the id or fix the salt"
            )
        out.append(replace(m, model_id=derived))
    return tuple(out)
