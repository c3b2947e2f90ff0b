"""Gas report: what verifying (and, as rows are added, using) a proof costs on-chain.

Every row is measured on a fresh local Anvil node from a real transaction receipt and set
against its EIP-1108 floor where one exists:

    floor(k) = 21000 + 45000 + 4 * 34000 + 6150 * k + calldata gas

(transaction base cost, a four-pair pairing check, one ECMUL + ECADD per public input, and
16 gas per non-zero / 4 per zero calldata byte). The verifiers use trapdoor keys and forged
proofs: they verify exactly like real ones and need no prover.

The ``model`` rows run the whole on-chain life of a real model, the 8 -> 16 -> 1 MLP of
`circuits.onnx.examples` (compiled, development setup, a real proof): deploying the hub and
the model's verifier, registering the model, a request placed (with a fee) by the
RiskGatedLendingPool consumer and its fulfillment with the pool's callback. The fulfillment's
floor is the bare verification's, so its overhead is what the hub adds; its target is
`FULFILL_TARGET`.

Usage::

    python scripts/gas_report.py                 # k = 1..16 and the model rows
    python scripts/gas_report.py --ks 1,2,4,8,16 --json gas-report.json
    python scripts/gas_report.py --only model
    python scripts/gas_report.py --only batch --batch-sizes 1,2,4,8,16,32

The ``batch`` rows verify n real proofs of the model with ``verifyBatch`` and fulfill n of
its requests (no callback) with ``fulfillBatch``; per-proof targets at n = 16 are
`VERIFY_BATCH_TARGET` and `FULFILL_BATCH_TARGET`. Each is set against the EIP-1108 floor of
the batch scheme (`batch_floor`): what its precompile calls alone cost, whatever the code
around them. Two per-proof figures are printed: the whole transaction's gas, and the
execution gas (without the 21,000 intrinsic gas and the calldata), which is what the
verification costs inside another contract's call and what the floor bounds.

A new kind of row is a function ``(chain, args) -> list[GasRow]`` added to `MEASUREMENTS`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from web3.types import RPCEndpoint

from circuits import compile_model, prove, setup
from circuits.field import R
from circuits.groth16.trapdoor import make_trapdoor
from circuits.onnx.examples import mlp, save
from circuits.solidity import render_verifier, verifier_calldata
from oracle import chain as chains
from oracle.chain import Chain
from oracle.hub import (
    Hub,
    ModelArtifacts,
    Sent,
    compile_model_verifier,
    deploy_contract,
    deploy_model,
    hub_contracts,
)
from oracle.solc import compile_sources

TX_BASE = 21000
PAIRING_BASE, PAIRING_PER_PAIR, GROTH16_PAIRS = 45000, 34000, 4
ECMUL, ECADD = 6000, 150
#: Most gas a fulfillment of the test model with the lending-pool callback should use.
FULFILL_TARGET = 300_000
#: The lending pool of the model rows: score limit 1.0 at scale 2^-16, 1 ether of credit.
POOL_REFUSE_AT, POOL_MAX_CREDIT, POOL_CALLBACK_GAS = 1 << 16, 10**18, 200_000
FEATURES = [0.5, -0.25, 0.1, 0.9, -0.7, 0.3, 0.0, 0.2]
#: Targets per proof of a batch of 16 (3 public inputs): verification, and fulfillment
#: without callback.
VERIFY_BATCH_TARGET, FULFILL_BATCH_TARGET = 55_000, 100_000
#: The request pays a fee, so the fulfillment's gas includes paying the submitter.
FEE = 10**15


def calldata_gas(data: bytes) -> int:
    """EIP-2028 calldata cost: 16 per non-zero byte, 4 per zero byte."""
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def verifier_floor(k: int, data: bytes) -> int:
    """The least a Groth16 verification with `k` public inputs can cost in a transaction."""
    pairing = PAIRING_BASE + PAIRING_PER_PAIR * GROTH16_PAIRS
    return TX_BASE + pairing + (ECMUL + ECADD) * k + calldata_gas(data)


def batch_floor(n: int, k: int) -> int:
    """EIP-1108 precompile gas of verifying n proofs with k public inputs in one batch.

    The scheme checks prod_i e(-rho_i A_i, B_i) * e(S alpha, beta) * e(vk_x, gamma) *
    e(sum_i rho_i C_i, delta) = 1 with rho_0 = 1 and S = sum_i rho_i:

    * one pairing check of n + 3 pairs: 45000 + 34000 (n + 3);
    * ECMUL: rho_i A_i and rho_i C_i for i >= 1 (2 (n - 1)), S alpha, and vk_x = S IC_0 +
      sum_j s_j IC_j with the inputs combined per position (k + 1): 2n + k in all;
    * ECADD: the n - 1 additions of the C sum and the k of vk_x.
    """
    pairing = PAIRING_BASE + PAIRING_PER_PAIR * (n + 3)
    return pairing + ECMUL * (2 * n + k) + ECADD * (n - 1 + k)


@dataclass(frozen=True)
class GasRow:
    """One measured transaction; `floor` is None where no protocol floor applies."""

    name: str
    public_inputs: int
    gas_used: int
    floor: int | None
    calldata_gas: int
    code_size: int | None = None

    @property
    def overhead_percent(self) -> float | None:
        if self.floor is None:
            return None
        return 100.0 * (self.gas_used - self.floor) / self.floor


Measurement = Callable[[Chain, argparse.Namespace], list[GasRow]]


def measure_verifier(chain: Chain, args: argparse.Namespace) -> list[GasRow]:
    """verifyProof of the rendered verifier on a valid proof, for every k asked for."""
    rows = []
    rng = random.Random(1)
    for k in args.ks:
        trapdoor = make_trapdoor(k, seed=k)
        compiled = compile_sources({"Verifier.sol": render_verifier(trapdoor.verifying_key())})
        verifier = compiled["Groth16Verifier"]
        contract = chain.contract(chain.deploy(verifier), verifier)
        inputs = [rng.randrange(R) for _ in range(k)]
        proof, public = verifier_calldata(trapdoor.forge(inputs, rng), inputs)
        call = contract.functions.verifyProof(proof, public)
        receipt = chain.transact(call)
        data = bytes.fromhex(call._encode_transaction_data().removeprefix("0x"))
        rows.append(
            GasRow(
                name="verifyProof",
                public_inputs=k,
                gas_used=receipt["gasUsed"],
                floor=verifier_floor(k, data),
                calldata_gas=calldata_gas(data),
                code_size=verifier.deployed_size,
            )
        )
    return rows


def _tx_row(
    chain: Chain, name: str, k: int, tx: Sent, code_size: int | None = None, verifies: bool = False
) -> GasRow:
    """A row for a sent transaction; one that `verifies` a proof is set against the floor."""
    data = bytes(chain.w3.eth.get_transaction(tx.tx_hash)["input"])  # type: ignore[arg-type]
    floor = verifier_floor(k, data) if verifies else None
    return GasRow(name, k, tx.gas_used, floor, calldata_gas(data), code_size)


def _test_model(root: Path) -> Path:
    """The 8 -> 16 -> 1 MLP compiled and set up (the default prover) in `root`."""
    onnx_path = save(mlp((8, 16, 1), seed=0), root / "mlp.onnx")
    compile_model(onnx_path, root / "model")
    setup(root / "model")
    return root / "model"


def measure_model(chain: Chain, args: argparse.Namespace) -> list[GasRow]:
    """The test model's deployment, a consumer's request and its fulfillment."""
    with tempfile.TemporaryDirectory(prefix="zkoracle-gas-") as tmp:
        model_dir = _test_model(Path(tmp))
        art = ModelArtifacts.load(model_dir)
        k = art.layout.n_public
        dep = deploy_model(chain, model_dir)
        hub = Hub(chain, dep.hub)
        pool_code = hub_contracts()["RiskGatedLendingPool"]
        registered = hub.model(dep.model_id)
        assert registered is not None
        pinned = (registered["owner"], dep.model_id, registered["verifier_code_hash"])
        pool_args = (dep.hub, *pinned, 3600, POOL_REFUSE_AT, POOL_MAX_CREDIT)
        pool_address, _ = deploy_contract(
            chain, pool_code, *pool_args, POOL_CALLBACK_GAS, value=POOL_MAX_CREDIT
        )
        pool = chain.contract(pool_address, pool_code)
        borrower, submitter = chain.accounts[1], chain.accounts[2]
        features = hub.quantize_inputs(dep.model_id, FEATURES)
        score = pool.functions.requestScore(features)
        request = chain.transact(score, value=FEE, sender=borrower)
        (event,) = hub.requested_in(request)
        binding = hub.request_binding(event["request_id"], submitter)
        result = prove(model_dir, {"x": [FEATURES]}, binding=binding)
        outputs = art.quantized_outputs(result.public)
        done = hub.fulfill(event["request_id"], outputs, result.proof, sender=submitter)
        if done.callback_failure is not None:
            raise RuntimeError(f"the pool's callback failed: {done.callback_failure}")
        _, verifier = compile_model_verifier(art)
    assert dep.hub_tx is not None
    txs = dep.transactions
    return [
        _tx_row(chain, "hub deploy", k, dep.hub_tx, hub_contracts()["ZkOracle"].deployed_size),
        _tx_row(chain, "verifier deploy", k, txs["verifier"], verifier.deployed_size),
        _tx_row(chain, "registerModel", k, txs["register"]),
        _tx_row(chain, "request (pool)", k, Sent.of(request)),
        _tx_row(chain, "fulfill+callback", k, done.tx, verifies=True),
    ]


def _batch_requests(chain: Chain, hub: Hub, model_id: bytes, n: int) -> list[int]:
    features = hub.quantize_inputs(model_id, FEATURES)
    return [
        hub.request(model_id, features, fee=FEE, sender=chain.accounts[1]).request_id
        for _ in range(n)
    ]


def measure_batch(chain: Chain, args: argparse.Namespace) -> list[GasRow]:
    """verifyBatch of the test model's verifier and fulfillBatch of n of its requests (no
    callback), for every n of ``--batch-sizes``: real proofs, one per request."""
    rows: list[GasRow] = []
    with tempfile.TemporaryDirectory(prefix="zkoracle-gas-") as tmp:
        model_dir = _test_model(Path(tmp))
        art = ModelArtifacts.load(model_dir)
        k = art.layout.n_public
        dep = deploy_model(chain, model_dir)
        hub = Hub(chain, dep.hub)
        verifier = chain.contract(dep.verifier, compile_model_verifier(art)[1])
        submitter = chain.accounts[2]
        for n in args.batch_sizes:
            items, pub = [], []
            for rid in _batch_requests(chain, hub, dep.model_id, n):
                binding = hub.request_binding(rid, submitter)
                result = prove(model_dir, {"x": [FEATURES]}, binding=binding)
                items.append((rid, art.quantized_outputs(result.public), result.proof))
                pub.append([int(x) for x in result.public])
            words = [w for _, _, p in items for w in p.words()]
            call = verifier.functions.verifyBatch(words, [x for xs in pub for x in xs])
            receipt = chain.transact(call)
            rows.append(_tx_row(chain, f"verifyBatch n={n}", k, Sent.of(receipt)))
            sent = hub.fulfill_batch(dep.model_id, items, sender=submitter)
            if len(hub.fulfilled_in(sent.receipt)) != n:
                raise RuntimeError(f"fulfillBatch of {n} requests did not fulfill them all")
            rows.append(_tx_row(chain, f"fulfillBatch n={n}", k, sent))
    return rows


def format_batch_table(rows: Sequence[GasRow]) -> str:
    """Per-proof figures of the batch rows: the whole transaction; its execution (without
    the intrinsic gas and the calldata, i.e. inside the hub's own call); the EIP-1108 floor
    of the scheme (`batch_floor`) and how far the execution is above it."""
    head = (
        f"{'row':<18} {'gas used':>10} {'tx/proof':>9} {'exec/proof':>11} "
        f"{'floor/proof':>12} {'exec-floor':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        n = int(r.name.rsplit("=", 1)[1])
        exec_ = (r.gas_used - TX_BASE - r.calldata_gas) / n
        floor = batch_floor(n, r.public_inputs) / n
        lines.append(
            f"{r.name:<18} {r.gas_used:>10} {r.gas_used / n:>9.0f} {exec_:>11.0f} "
            f"{floor:>12.0f} {exec_ - floor:>11.0f}"
        )
    return "\n".join(lines)


def _batch_verdicts(rows: Sequence[GasRow]) -> list[str]:
    out = []
    for name, target in (
        ("verifyBatch n=16", VERIFY_BATCH_TARGET),
        ("fulfillBatch n=16", FULFILL_BATCH_TARGET),
    ):
        row = next((r for r in rows if r.name == name), None)
        if row is not None:
            per = row.gas_used / 16
            verdict = "met" if per <= target else "MISSED"
            print_name = name.split()[0]
            floor = batch_floor(16, row.public_inputs) / 16
            out.append(
                f"{print_name} per proof at n=16 <= {target}: {verdict} ({per:.0f}; the "
                f"EIP-1108 floor of the verification alone is {floor:.0f})"
            )
    return out


#: Every kind of row the report measures, in the order printed.
MEASUREMENTS: list[tuple[str, Measurement]] = [
    ("verifier", measure_verifier),
    ("model", measure_model),
    ("batch", measure_batch),
]


def format_table(rows: Sequence[GasRow]) -> str:
    head = (
        f"{'row':<18} {'k':>3} {'gas used':>10} {'floor':>10} {'over':>7} "
        f"{'calldata':>9} {'code':>6}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        floor = f"{r.floor:>10}" if r.floor is not None else f"{'-':>10}"
        over = r.overhead_percent
        over_s = f"{over:>6.2f}%" if over is not None else f"{'-':>7}"
        code = f"{r.code_size:>6}" if r.code_size is not None else f"{'-':>6}"
        lines.append(
            f"{r.name:<18} {r.public_inputs:>3} {r.gas_used:>10} {floor} {over_s} "
            f"{r.calldata_gas:>9} {code}"
        )
    return "\n".join(lines)


def _parse_ks(text: str) -> list[int]:
    ks: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        ks.extend(range(int(lo), int(hi or lo) + 1))
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"bad list of k: {text!r} (e.g. 1-16 or 1,2,4)")
    return ks


def _hardfork(chain: Chain) -> str:
    info: dict[str, Any] = dict(chain.w3.provider.make_request(RPCEndpoint("anvil_nodeInfo"), []))
    result = info.get("result")
    return str(result.get("hardFork", "unknown")) if isinstance(result, dict) else "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--ks",
        type=_parse_ks,
        default=list(range(1, 17)),
        help="public-input counts, e.g. 1-16 or 1,2,4,8,16 (default 1-16)",
    )
    parser.add_argument(
        "--batch-sizes",
        type=_parse_ks,
        default=[1, 2, 4, 8, 16, 32],
        help="batch sizes n of the batch rows (default 1,2,4,8,16,32)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--only", choices=[n for n, _ in MEASUREMENTS], action="append",
                        help="measure only these kinds of row")  # fmt: skip
    args = parser.parse_args(argv)
    rows: list[GasRow] = []
    with chains.anvil(signer=None) as chain:
        hardfork = _hardfork(chain)
        for name, measure in MEASUREMENTS:
            if args.only is None or name in args.only:
                rows.extend(measure(chain, args))
    batch = [r for r in rows if "Batch n=" in r.name]
    print(format_table([r for r in rows if r not in batch]))
    if batch:
        print()
        print(format_batch_table(batch))
        print("\n".join(_batch_verdicts(batch)))
    print(f"Anvil, hardfork {hardfork}; floor = 21000 + 45000 + 4*34000 + 6150*k + calldata")
    fulfill = [r for r in rows if r.name == "fulfill+callback"]
    if fulfill:
        verdict = "met" if fulfill[0].gas_used < FULFILL_TARGET else "MISSED"
        print(f"fulfill target < {FULFILL_TARGET}: {verdict} ({fulfill[0].gas_used})")
    if args.json:
        payload = [asdict(r) | {"overhead_percent": r.overhead_percent} for r in rows]
        doc = {
            "chain": "anvil",
            "hardfork": hardfork,
            "fulfill_target": FULFILL_TARGET,
            "rows": payload,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
