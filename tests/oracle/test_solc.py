"""Solidity compilation: real solc-js (and the native-solc code path through a stand-in
binary that runs the same solc-js), error locations, the on-disk cache."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from oracle import devnet
from oracle import solc as solc_mod
from oracle.errors import DevnetError, SolidityCompileError
from oracle.solc import compile_sources, compile_standard_json, find_compiler, standard_input

GOOD = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Counter {
    error TooBig(uint256 value, uint256 limit);
    uint256 public count;

    function add(uint256 n) external {
        if (count + n > 10) revert TooBig(count + n, 10);
        count += n;
    }
}
"""

# Two errors on known lines; the accented comment checks that columns count characters
# although solc reports byte offsets.
BAD = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
// é è
contract Broken {
    function f() external pure returns (uint256) { return undefinedThing; }
    function g() external pure returns (uint256) { return alsoMissing + 1; }
}
"""


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZKORACLE_CACHE_DIR", str(cache))
    monkeypatch.delenv("SOLC_BINARY", raising=False)
    return cache / "solc"


def test_compiles_abi_and_bytecode() -> None:
    counter = compile_sources({"Counter.sol": GOOD})["Counter"]
    assert counter.source == "Counter.sol"
    assert {e["name"] for e in counter.abi} >= {"TooBig", "count", "add"}
    assert counter.bytecode and 0 < counter.deployed_size < len(counter.bytecode)


def test_evm_version_is_always_shanghai() -> None:
    job = standard_input({"Counter.sol": GOOD})
    job["settings"]["evmVersion"] = "paris"
    job["settings"]["outputSelection"] = {"*": {"*": ["metadata"]}}
    out = compile_standard_json(job)
    metadata = json.loads(out["contracts"]["Counter.sol"]["Counter"]["metadata"])
    assert metadata["settings"]["evmVersion"] == "shanghai"
    assert job["settings"]["evmVersion"] == "paris", "the caller's input is not modified"


def test_errors_name_file_line_and_column() -> None:
    with pytest.raises(SolidityCompileError) as info:
        compile_sources({"Counter.sol": GOOD, "Broken.sol": BAD})
    errors = info.value.errors
    assert len(errors) == 2
    assert errors[0].startswith("Broken.sol:5:59: DeclarationError:")
    assert errors[1].startswith("Broken.sol:6:59: DeclarationError:")
    first = info.value.excerpts[0].splitlines()
    assert "return undefinedThing;" in first[0]
    assert first[1].index("^") == first[0].index("undefinedThing")
    assert "Broken.sol:5:59" in str(info.value) and "alsoMissing" in str(info.value)


def test_parser_error_location() -> None:
    with pytest.raises(SolidityCompileError) as info:
        compile_sources({"P.sol": "pragma solidity ^0.8.20;\ncontract P {\n  uint x = ;\n}\n"})
    assert info.value.errors[0].startswith("P.sol:3:12: ParserError:")


def test_duplicate_contract_names_are_refused() -> None:
    with pytest.raises(SolidityCompileError, match="also defined"):
        compile_sources({"A.sol": GOOD, "B.sol": GOOD})


def test_second_compilation_is_a_cache_hit(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = compile_sources({"Counter.sol": GOOD})
    files = list(private_cache.glob("*.json"))
    assert len(files) == 1

    def no_compiler(self: object, input_json: object) -> object:
        raise AssertionError("the compiler ran although the output was cached")

    monkeypatch.setattr(solc_mod.SolcCompiler, "run", no_compiler)
    assert compile_sources({"Counter.sol": GOOD}) == first
    with pytest.raises(AssertionError, match="compiler ran"):
        compile_sources({"Counter.sol": GOOD}, optimize_runs=1000)


def test_a_corrupt_cache_entry_is_recompiled(private_cache: Path) -> None:
    compile_sources({"Counter.sol": GOOD})
    (entry,) = private_cache.glob("*.json")
    entry.write_text("{ truncated")
    assert compile_sources({"Counter.sol": GOOD})["Counter"].bytecode
    assert json.loads(entry.read_text())["contracts"]


def test_cache_key_depends_on_compiler_and_input() -> None:
    compiler = find_compiler()
    job = standard_input({"Counter.sol": GOOD})
    other = solc_mod.SolcCompiler(compiler.kind, compiler.version + "-other", compiler.executable)
    assert solc_mod.cache_key(compiler, job) == solc_mod.cache_key(
        compiler, json.loads(json.dumps(job))
    )
    assert solc_mod.cache_key(compiler, job) != solc_mod.cache_key(other, job)


def test_missing_node_modules_says_to_run_npm_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "devnet"
    fake.mkdir()
    (fake / "package.json").write_text("{}")
    monkeypatch.setenv("ZKORACLE_DEVNET_DIR", str(fake))
    monkeypatch.setattr(solc_mod, "_installed_native", lambda: None)
    with pytest.raises(DevnetError, match=f"run `npm ci` in {fake}"):
        compile_sources({"Counter.sol": GOOD})


def test_devnet_dir_without_package_json_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZKORACLE_DEVNET_DIR", str(tmp_path))
    with pytest.raises(DevnetError, match=r"no package\.json"):
        devnet.devnet_dir()


def _stand_in_solc(path: Path) -> Path:
    """A `solc` executable answering --version and --standard-json via the pinned solc-js,
    so that the native code path (py-solc-x) runs a real compiler."""
    script = devnet.solcjs_script()
    path.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = "--version" ]; then\n'
        '  echo "solc, the solidity compiler commandline interface"\n'
        '  echo "Version: 0.8.28+commit.7893614a.stand-in"; exit 0\n'
        "fi\n"
        'dir="$(mktemp -d)"; cat >"$dir/in.json"\n'
        f'node "{script}" "$dir/in.json" "$dir/out.json" >/dev/null 2>&1\n'
        'cat "$dir/out.json"; rm -rf "$dir"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_native_solc_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLC_BINARY", str(_stand_in_solc(tmp_path / "solc")))
    compiler = find_compiler()
    assert (compiler.kind, compiler.version) == ("native", "0.8.28+commit.7893614a.stand-in")
    assert compile_sources({"Counter.sol": GOOD})["Counter"].bytecode
    with pytest.raises(SolidityCompileError) as info:
        compile_sources({"Broken.sol": BAD})
    assert info.value.errors[0].startswith("Broken.sol:5:59:")
    assert os.environ["SOLC_BINARY"].endswith("solc")
