"""The package boundaries of ARCHITECTURE.md, read from the source of every module.

* `circuits` never imports `oracle`;
* `oracle` uses only the façade: ``import circuits`` or ``from circuits import X`` with ``X``
  in ``circuits.__all__`` and not a submodule;
* inside `circuits` dependencies flow one way, ``field -> r1cs -> gadgets -> compiler ->
  groth16 -> formats / solidity``, with the pipeline and the façade on top: a module
  imports only modules of its own layer or of a lower one.

Every import counts, at module level or inside a function, under ``TYPE_CHECKING`` or not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import circuits

ROOT = Path(__file__).resolve().parents[1]

#: Layers of `circuits`, lowest first; a module belongs to the longest prefix that names it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Poseidon and the salted commitments are arithmetic on field elements.
    (
        "field",
        (
            "circuits.errors",
            "circuits.field",
            "circuits.poseidon",
            "circuits.commitment",
        ),
    ),
    (
        "r1cs",
        (
            "circuits.lc",
            "circuits.constraint_system",
            "circuits.program",
            "circuits.hints",
            "circuits.builder",
        ),
    ),
    ("gadgets", ("circuits.gadgets", "circuits.approx")),
    ("compiler", ("circuits.onnx",)),
    ("groth16", ("circuits.groth16",)),
    ("formats", ("circuits.formats", "circuits.solidity", "circuits.solidity_batch")),
    # The Groth16 backends (native, snarkjs, groth16py), which read and write key files.
    ("top", ("circuits.provers", "circuits.pipeline", "circuits.testing", "circuits")),
)

#: Edges that break the layer order (none: `groth16` holds the protocol and key-directory
#: I/O, the backends that read and write files live in `circuits.provers`, above it).
KNOWN_BREACHES: frozenset[tuple[str, str]] = frozenset()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def _imports(path: Path) -> Iterator[tuple[str, str | None, int]]:
    """(module, imported name or None, line) of every import in ``path``, absolute."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name, node.lineno


def _edges(package: str) -> Iterator[tuple[str, str, str]]:
    """(importer, imported module, where) for every import of a first-party module."""
    for path in sorted((ROOT / package).rglob("*.py")):
        me = _module_name(path)
        for module, name, line in _imports(path):
            if module.split(".")[0] not in ("circuits", "oracle"):
                continue
            target = f"{module}.{name}" if name and _is_module(f"{module}.{name}") else module
            yield me, target, f"{path.relative_to(ROOT)}:{line}"


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")
    return best[0]


def _layer_breaches() -> set[tuple[str, str, str]]:
    return {
        (me, target, where)
        for me, target, where in _edges("circuits")
        if target.startswith("circuits") and layer_of(target) > layer_of(me)
    }


def test_circuits_never_imports_oracle() -> None:
    bad = [f"{where}: {me} imports {t}" for me, t, where in _edges("circuits") if t[:6] == "oracle"]
    assert not bad, "\n".join(bad)


def test_oracle_uses_only_the_facade() -> None:
    exported = set(circuits.__all__)
    bad = []
    for path in sorted((ROOT / "oracle").rglob("*.py")):
        for module, name, line in _imports(path):
            if module.split(".")[0] != "circuits":
                continue
            ok = module == "circuits" and (name is None or name in exported)
            if ok and name is not None and _is_module(f"circuits.{name}"):
                ok = False
            if not ok:
                what = f"{module}.{name}" if name else module
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {what}")
    assert not bad, "oracle may import only names of circuits.__all__:\n" + "\n".join(bad)


def test_facade_exports_no_module() -> None:
    modules = [n for n in circuits.__all__ if _is_module(f"circuits.{n}")]
    assert not modules, f"the façade re-exports whole modules: {modules}"


def test_circuits_layers_flow_one_way() -> None:
    names = " -> ".join(name for name, _ in LAYERS)
    bad = [
        f"{where}: {me} ({LAYERS[layer_of(me)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
        for me, t, where in sorted(_layer_breaches())
        if (me, t) not in KNOWN_BREACHES
    ]
    assert not bad, f"layers flow {names}; breaches:\n" + "\n".join(bad)


def test_known_breaches_are_still_there() -> None:
    """Keeps `KNOWN_BREACHES` honest: an edge that is gone must leave the list."""
    present = {(me, t) for me, t, _ in _layer_breaches()}
    gone = sorted(KNOWN_BREACHES - present)
    assert not gone, f"fixed, remove from KNOWN_BREACHES: {gone}"


def test_every_module_has_a_layer() -> None:
    for path in sorted((ROOT / "circuits").rglob("*.py")):
        layer_of(_module_name(path))
