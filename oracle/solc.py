"""Solidity compilation through solc's standard-JSON interface, with an on-disk cache.

The compiler is, in this order of preference:

1. the native solc named by ``$SOLC_BINARY``;
2. a native solc that py-solc-x has already installed (0.8.28 if present, else the newest
   0.8.20 or later); nothing is ever downloaded from here;
3. the pinned solc-js of ``hardhat-free-devnet`` run by node through ``compile.js``, which
   passes the JSON through files: a pipe can cut large outputs short.

Every compilation targets ``evmVersion: "shanghai"``, the newest fork that Anvil, Ganache 7
and py-evm all run. Outputs are cached by sha256 of (compiler identity, input JSON), so a
verifier that has not changed is never compiled twice.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import solcx
from solcx.exceptions import SolcError

from oracle import devnet
from oracle.errors import CompilerUnavailableError, SolidityCompileError

log = logging.getLogger(__name__)

EVM_VERSION = "shanghai"
ENV_SOLC_BINARY = "SOLC_BINARY"
ENV_CACHE_DIR = "ZKORACLE_CACHE_DIR"
#: The version pinned in hardhat-free-devnet: a native solc of this version is preferred.
PINNED_VERSION = "0.8.28"
_MIN_NATIVE = (0, 8, 20)  # first release that knows "shanghai"
_SOLCJS_TIMEOUT_S = 900

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class CompiledContract:
    """One contract out of a compilation.

    ``bytecode`` is the creation code (empty for interfaces and abstract contracts);
    ``deployed_size`` the length of the runtime code in bytes, which EIP-170 caps at 24576.
    """

    name: str
    source: str
    abi: list[dict[str, Any]] = field(repr=False)
    bytecode: bytes = field(repr=False)
    deployed_size: int


@dataclass(frozen=True)
class SolcCompiler:
    """A compiler this machine can run: a native binary or solc-js through node."""

    kind: Literal["native", "solcjs"]
    version: str
    executable: Path

    @property
    def identity(self) -> str:
        """What the cache key depends on besides the input."""
        return f"{self.kind}:{self.version}"

    def run(self, input_json: JsonDict) -> JsonDict:
        """Compile; the standard-JSON output, errors included (they are not raised here)."""
        if self.kind == "native":
            return _run_native(self.executable, input_json)
        return _run_solcjs(self.executable, input_json)


def _native_version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise CompilerUnavailableError(f"cannot run solc at {binary}: {exc}") from exc
    m = re.search(r"Version:\s*(\S+)", out)
    if m is None:
        raise CompilerUnavailableError(f"{binary} --version printed no version: {out!r}")
    return m.group(1)


def _installed_native() -> Path | None:
    """A solc that py-solc-x has installed already, preferring the pinned version."""
    try:
        versions = solcx.get_installed_solc_versions()
    except Exception:  # a missing or unreadable ~/.solcx means: none installed
        return None
    usable = [v for v in versions if (v.major, v.minor, v.micro) >= _MIN_NATIVE]
    if not usable:
        return None
    pinned = [v for v in usable if str(v) == PINNED_VERSION]
    chosen = pinned[0] if pinned else max(usable)
    return Path(solcx.install.get_executable(chosen))


def find_compiler() -> SolcCompiler:
    """The compiler to use now (see the module docstring for the order)."""
    env = os.environ.get(ENV_SOLC_BINARY)
    if env:
        binary = Path(env)
        return SolcCompiler("native", _native_version(binary), binary)
    native = _installed_native()
    if native is not None:
        return SolcCompiler("native", _native_version(native), native)
    script = devnet.solcjs_script()
    package = json.loads((script.parent / "node_modules/solc/package.json").read_text())
    return SolcCompiler("solcjs", str(package["version"]), script)


def _run_native(binary: Path, input_json: JsonDict) -> JsonDict:
    try:
        out: JsonDict = solcx.compile_standard(input_json, solc_binary=binary, allow_empty=True)
    except SolcError as exc:
        # py-solc-x raises on severity "error"; keep solc's own error list to format it.
        return {"errors": list(exc.error_dict or [])}
    return out


def _parse_json_output(text: str, where: str) -> JsonDict:
    """Parse solc's JSON output, skipping any banner a tool printed before it."""
    start = text.find("{")
    if start < 0:
        raise CompilerUnavailableError(f"{where}: the compiler wrote no JSON: {text[:500]!r}")
    try:
        out = json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise CompilerUnavailableError(f"{where}: unreadable compiler output: {exc}") from exc
    if not isinstance(out, dict):
        raise CompilerUnavailableError(f"{where}: compiler output is not a JSON object")
    return out


def _run_solcjs(script: Path, input_json: JsonDict) -> JsonDict:
    node = devnet.node_executable()
    with tempfile.TemporaryDirectory(prefix="zkoracle-solc-") as tmp:
        src, dst, log_path = Path(tmp, "input.json"), Path(tmp, "output.json"), Path(tmp, "log")
        src.write_text(json.dumps(input_json))
        with log_path.open("wb") as log_file:
            try:
                proc = subprocess.run(
                    [node, str(script), str(src), str(dst)],
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    timeout=_SOLCJS_TIMEOUT_S,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise CompilerUnavailableError(f"solc-js via {script} failed: {exc}") from exc
        if proc.returncode != 0 or not dst.is_file():
            tail = log_path.read_text(errors="replace")[-2000:]
            raise CompilerUnavailableError(
                f"solc-js via {script} exited with {proc.returncode}: {tail}"
            )
        return _parse_json_output(dst.read_text(), str(script))


def cache_dir() -> Path:
    """``$ZKORACLE_CACHE_DIR/solc``, else ``~/.cache/zkoracle/solc``."""
    root = os.environ.get(ENV_CACHE_DIR)
    base = Path(root) if root else Path.home() / ".cache" / "zkoracle"
    return base / "solc"


def cache_key(compiler: SolcCompiler, input_json: JsonDict) -> str:
    canonical = json.dumps(input_json, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{compiler.identity}\n{canonical}".encode()).hexdigest()


def _read_cache(path: Path) -> JsonDict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_cache(path: Path, output: JsonDict) -> None:
    """Write atomically so that concurrent compilations never read half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(output))
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache costs time, not correctness
        log.warning("cannot write the solc cache %s: %s", path, exc)


def _line_col(content: str, byte_offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a UTF-8 byte offset, as solc counts."""
    before = content.encode()[:byte_offset].decode(errors="replace")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _source_of(err: Mapping[str, Any], sources: Mapping[str, Any]) -> tuple[str | None, int]:
    loc = err.get("sourceLocation") or {}
    entry = sources.get(loc.get("file", ""))
    content = entry.get("content") if isinstance(entry, Mapping) else None
    return (content if isinstance(content, str) else None), int(loc.get("start", -1))


def excerpt(err: Mapping[str, Any], sources: Mapping[str, Any]) -> str:
    """The source line an error points at, with a caret under its column ("" if unknown)."""
    content, start = _source_of(err, sources)
    if content is None or start < 0:
        return ""
    line, col = _line_col(content, start)
    lines = content.splitlines()
    text = lines[line - 1] if line <= len(lines) else ""
    return f"    {text}\n    {' ' * (col - 1)}^"


def format_message(err: Mapping[str, Any], sources: Mapping[str, Any]) -> str:
    """``file:line:column: Type: message`` for one entry of solc's ``errors`` list."""
    kind = err.get("type", "Error")
    text = err.get("message", err.get("formattedMessage", "")).strip()
    loc = err.get("sourceLocation") or {}
    file = loc.get("file")
    if not file:
        return f"{kind}: {text}"
    content, start = _source_of(err, sources)
    if content is not None and start >= 0:
        line, col = _line_col(content, start)
        return f"{file}:{line}:{col}: {kind}: {text}"
    return f"{file}: {kind}: {text}"


def _check_errors(output: JsonDict, input_json: JsonDict) -> None:
    sources = input_json.get("sources", {})
    errors: list[str] = []
    excerpts: list[str] = []
    for err in output.get("errors", []):
        if err.get("severity") == "error":
            errors.append(format_message(err, sources))
            excerpts.append(excerpt(err, sources))
        else:
            log.warning("solc: %s", format_message(err, sources))
    if errors:
        raise SolidityCompileError(errors, excerpts)


def compile_standard_json(
    input_json: JsonDict, *, compiler: SolcCompiler | None = None
) -> JsonDict:
    """Compile a standard-JSON input (``evmVersion`` forced to shanghai); cached on disk.

    Raises `SolidityCompileError` listing every error as ``file:line:column``.
    """
    job = copy.deepcopy(input_json)
    job.setdefault("settings", {})["evmVersion"] = EVM_VERSION
    compiler = compiler or find_compiler()
    path = cache_dir() / f"{cache_key(compiler, job)}.json"
    cached = _read_cache(path)
    if cached is not None:
        log.debug("solc cache hit %s", path.name)
        return cached
    output = compiler.run(job)
    _check_errors(output, job)
    _write_cache(path, output)
    return output


def standard_input(sources: Mapping[str, str], *, optimize_runs: int = 200) -> JsonDict:
    """The standard-JSON input for sources given as {file name: text}."""
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": optimize_runs},
            "evmVersion": EVM_VERSION,
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


def _hex_code(code: str, where: str) -> bytes:
    if "__$" in code:
        raise SolidityCompileError([f"{where}: needs library linking, which is not supported"])
    return bytes.fromhex(code.removeprefix("0x"))


def compile_sources(
    sources: Mapping[str, str], *, optimize_runs: int = 200
) -> dict[str, CompiledContract]:
    """Compile {file name: Solidity text}; every contract by name (names must be unique)."""
    output = compile_standard_json(standard_input(sources, optimize_runs=optimize_runs))
    result: dict[str, CompiledContract] = {}
    for file, contracts in output.get("contracts", {}).items():
        for name, data in contracts.items():
            if name in result:
                raise SolidityCompileError(
                    [f"{file}: contract {name} is also defined in {result[name].source}"]
                )
            evm = data.get("evm", {})
            result[name] = CompiledContract(
                name=name,
                source=file,
                abi=data.get("abi", []),
                bytecode=_hex_code(evm.get("bytecode", {}).get("object", ""), f"{file}:{name}"),
                deployed_size=len(evm.get("deployedBytecode", {}).get("object", "")) // 2,
            )
    return result
