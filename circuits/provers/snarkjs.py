"""The snarkjs Groth16 backend: the pinned snarkjs CLI under node, one process per step.

* setup: a prepared powers of tau (given, or from the cache in
  `circuits.provers.snarkjs_cli.PtauCache`), ``groth16 setup``, one phase-2 contribution
  with fresh entropy (``zkey contribute``), and the verifying key exported from the zkey.
  snarkjs adds the input-consistency rows, so every public input is bound;
* prove: ``groth16 prove circuit.zkey witness.wtns proof.json public.json``;
* verify: ``groth16 verify``, which rejects public inputs >= r;
* import_zkey: a ceremony zkey is checked against the circuit and used as is.

This backend is the reference: slower than the native prover, but it is the tool the circom
ecosystem audits keys and proofs with.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from circuits.errors import BackendError
from circuits.formats import wtns as wtns_format
from circuits.formats.snarkjs_json import (
    read_proof,
    read_public,
    read_vk,
    write_proof,
    write_public,
    write_vk,
)
from circuits.groth16.backend import (
    CircuitSource,
    Progress,
    stderr_progress,
)
from circuits.groth16.data import Proof
from circuits.groth16.keydir import (
    KIND_CEREMONY,
    KIND_DEVELOPMENT,
    VK_FILE,
    KeyInfo,
    R1csSummary,
)
from circuits.provers.base import KeyDirBackend, materialize_r1cs
from circuits.provers.ceremony import domain_power
from circuits.provers.snarkjs_cli import PtauCache, SnarkjsCli

ZKEY_FILE = "circuit.zkey"
#: The G1 generator: alpha1 equal to it means alpha = 1, a ptau nobody contributed to.
_G1_GENERATOR = (1, 2)


class SnarkjsBackend(KeyDirBackend):
    """Groth16 with the pinned snarkjs (node)."""

    name = "snarkjs"

    def __init__(
        self,
        *,
        progress: Progress | None = None,
        devnet_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.progress = progress or stderr_progress
        self.cli = SnarkjsCli(Path(devnet_dir) if devnet_dir else None, self.progress)
        self.ptau_cache = PtauCache(self.cli, Path(cache_dir) if cache_dir else None)

    def ptau_for(self, n_constraints: int, n_public: int) -> Path:
        """A cached prepared ptau large enough for the circuit (made if missing)."""
        return self.ptau_cache.ensure(domain_power(n_constraints, n_public))

    def setup(
        self, circuit: CircuitSource, out_dir: str | Path, *, ptau: str | Path | None = None
    ) -> KeyInfo:
        """Development phase 2 on a prepared ptau: one contribution, made on this machine.

        `ptau` may name a prepared ptau from a public phase-1 ceremony; the phase-2
        contribution is still single-party, so the key stays a development key."""
        out = Path(out_dir)
        r1cs = materialize_r1cs(circuit, out)
        if ptau is not None and not Path(ptau).is_file():
            raise BackendError(f"no ptau file at {ptau}")
        ptau_path = (
            Path(ptau) if ptau is not None else self.ptau_for(r1cs.n_constraints, r1cs.n_public)
        )
        t0 = time.perf_counter()
        self.progress(f"snarkjs setup for {r1cs.n_constraints} constraints with {ptau_path}")
        with tempfile.TemporaryDirectory(prefix="zkoracle-zkey-") as tmp:
            z0 = Path(tmp) / "circuit_0000.zkey"
            self.cli.run(["groth16", "setup", r1cs.path, ptau_path, z0], outputs=[z0])
            self.progress("snarkjs setup: phase-2 contribution")
            self.cli.run(
                ["zkey", "contribute", z0, out / ZKEY_FILE, "--name=zkoracle development"],
                outputs=[out / ZKEY_FILE],
                entropy=True,
            )
        self._export_vk(out, r1cs)
        self.progress(f"snarkjs setup done in {time.perf_counter() - t0:.1f} s: {out}")
        details = {"ptau": str(ptau_path), "phase2_contributions": 1}
        return self._record(out, KIND_DEVELOPMENT, r1cs, ZKEY_FILE, details)

    def import_zkey(
        self, zkey_path: str | Path, r1cs: CircuitSource, out_dir: str | Path
    ) -> KeyInfo:
        """Adopt a snarkjs ceremony key for our circuit (see `circuits.groth16.ceremony`)."""
        out, summary, details = self._adopt_zkey(zkey_path, r1cs, out_dir)
        if Path(zkey_path).resolve() != (out / ZKEY_FILE).resolve():
            shutil.copyfile(zkey_path, out / ZKEY_FILE)
        self._export_vk(out, summary)
        return self._record(out, KIND_CEREMONY, summary, ZKEY_FILE, details)

    def _export_vk(self, out: Path, r1cs: R1csSummary) -> None:
        """Export the zkey's verifying key, check it, and write it with our JSON writer."""
        with tempfile.TemporaryDirectory(prefix="zkoracle-vk-") as tmp:
            raw = Path(tmp) / "vk.json"
            self.cli.run(["zkey", "export", "verificationkey", out / ZKEY_FILE, raw], outputs=[raw])
            vk = read_vk(raw)
        if vk.n_public != r1cs.n_public:
            raise BackendError(
                f"{out / ZKEY_FILE}: the verifying key has {vk.n_public} public inputs, "
                f"the circuit {r1cs.n_public}"
            )
        if vk.alpha1 == _G1_GENERATOR:
            raise BackendError(
                f"{out / ZKEY_FILE}: alpha = 1, the ptau received no contribution and the "
                "key is forgeable; use a ptau with at least one contribution"
            )
        write_vk(out / VK_FILE, vk)

    def prove_values(self, info: KeyInfo, values: list[int]) -> tuple[Proof, list[int] | None]:
        with tempfile.TemporaryDirectory(prefix="zkoracle-wtns-") as tmp:
            path = Path(tmp) / "witness.wtns"
            wtns_format.write(path, values)
            return self._prove(info, path, Path(tmp))

    def prove_wtns(self, key_dir: str | Path, wtns_path: str | Path) -> Proof:
        info = self._info(key_dir)
        with tempfile.TemporaryDirectory(prefix="zkoracle-proof-") as tmp:
            return self._prove(info, Path(wtns_path), Path(tmp))[0]

    def _prove(self, info: KeyInfo, wtns_path: Path, tmp: Path) -> tuple[Proof, list[int]]:
        proof_path, public_path = tmp / "proof.json", tmp / "public.json"
        self.cli.run(
            ["groth16", "prove", info.proving_key, wtns_path, proof_path, public_path],
            outputs=[proof_path, public_path],
        )
        return read_proof(proof_path), read_public(public_path)

    def verify_values(self, info: KeyInfo, public_inputs: Sequence[int], proof: Proof) -> bool:
        """``snarkjs groth16 verify`` on the proof and inputs written as JSON."""
        with tempfile.TemporaryDirectory(prefix="zkoracle-verify-") as tmp:
            proof_path, public_path = Path(tmp) / "proof.json", Path(tmp) / "public.json"
            write_proof(proof_path, proof)
            write_public(public_path, list(public_inputs))
            try:
                lines = self.cli.run(
                    ["groth16", "verify", info.verification_key, public_path, proof_path]
                )
            except BackendError as e:
                if "Invalid proof" in str(e) or "not valid" in str(e):
                    return False
                raise
        return any(line.endswith("OK!") for line in lines)
