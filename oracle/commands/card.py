"""`zkoracle card DIR [-o card.html] [--samples FILE] [--measure-gas]
[--rpc URL --hub ADDRESS --model-id ID]`: the model card, one self-contained HTML page.

The card says what the model is (inputs, outputs, operators, shapes), what a proof makes
public, the hashes that identify it, its quantization, its error against onnxruntime
sample by sample, the constraints per node, the proving time, key sizes and verifier gas;
with --rpc, what the hub has registered under the id and whether it matches.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from oracle.commands import bytes32_arg
from oracle.errors import OracleError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "card",
        help="write a model card (HTML) for auditors and voters",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="model directory (`zkoracle compile`, `setup`)")
    p.add_argument("-o", "--out", type=Path, metavar="FILE", help="default: DIR/card.html")
    p.add_argument(
        "--samples",
        metavar="FILE",
        help="JSON samples to measure the error on (e.g. the calibration file); "
        "default: generated samples uniform in [-1, 1]",
    )
    p.add_argument("--n-samples", type=int, default=64, metavar="N", help="generated samples")
    p.add_argument(
        "--measure-gas",
        action="store_true",
        help="measure the verifier's gas on the embedded chain (default: EIP-1108 estimate)",
    )
    p.add_argument("--rpc", metavar="URL", help="check the hub's registration over this RPC")
    p.add_argument("--hub", metavar="ADDRESS", help="the hub to check (with --rpc)")
    p.add_argument(
        "--model-id", type=bytes32_arg("a model id"), metavar="ID", help="its model id (with --rpc)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from oracle.pages.card import RegistryQuery, gather_card, render_card

    chain_args = (args.rpc, args.hub, args.model_id)
    if any(a is not None for a in chain_args) and not all(a is not None for a in chain_args):
        raise OracleError("--rpc, --hub and --model-id go together: give all three or none")
    if args.n_samples < 1:
        raise OracleError(f"--n-samples must be at least 1, got {args.n_samples}")
    query = RegistryQuery(args.rpc, args.hub, args.model_id) if args.rpc else None
    card = gather_card(
        args.dir,
        samples=args.samples,
        n_samples=args.n_samples,
        measure_gas=args.measure_gas,
        registry=query,
    )
    out = args.out or Path(args.dir) / "card.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_card(card))
    e = card.error
    print(f"model {card.source}: largest error {e.max:.3g} over {e.count} samples ({e.kind})")
    if card.proving is not None:
        p = card.proving
        print(f"one proof {p.prove_s:.3f} s; verifier gas {p.gas.gas:,} ({p.gas.method})")
    if card.registry is not None:
        verdict = "matches" if card.registry.matches else "does NOT match"
        print(f"hub registration of {card.registry.model_id}: {verdict} these artifacts")
    print(f"wrote {out}")
    print(f"next: open {out} in a browser; it needs no network")
    return 0 if card.registry is None or card.registry.matches else 1
