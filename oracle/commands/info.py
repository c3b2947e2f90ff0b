"""`zkoracle info DIR [--json]`: constraints per node, scales, public inputs, error report."""

from __future__ import annotations

import argparse
import json
from typing import Any

from circuits import pipeline


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("info", help="describe a compiled model directory", description=__doc__)
    p.add_argument("dir", metavar="DIR", help="artifact directory written by `zkoracle compile`")
    p.add_argument("--json", action="store_true", help="print the manifest (and setup) as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    doc = pipeline.info(args.dir)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        for line in describe(doc):
            print(line)
    return 0


def describe(doc: dict[str, Any]) -> list[str]:
    """Human-readable lines for `pipeline.info`'s document."""
    q, e, s = doc["quantization"], doc["error_report"], doc.get("setup")
    lines = [
        f"model {doc['source']} (sha256 {doc['model']['sha256'][:16]}...)",
        f"circuit: {doc['constraints']} constraints, {doc['wires']} wires "
        f"(r1cs sha256 {doc['r1cs']['sha256'][:16]}...)",
        f"scales: input 2^-{q['input_scale']}, weights 2^-{q['weight_scale']}, "
        f"activations 2^-{q['act_scale']}",
        f"widths: input {q['input_bits']}, activation {q['act_bits']}, "
        f"output {q['output_bits']}, accumulator {q['acc_bits']} bits",
    ]
    for kind in ("inputs", "outputs"):
        for io in doc[kind]:
            lines.append(
                f"{kind[:-1]} {io['name']!r}: shape {io['shape']}, "
                f"scale 2^-{io['scale']}, {io['bits']} bits"
            )
    parts = []
    for o in doc["public_inputs"]["order"]:
        extra = f" ({o['values']} values, {o['per_word']}/word)" if "values" in o else ""
        parts.append(f"{o['name']} x{o['words']}{extra}")
    lines.append(f"public inputs ({doc['public_inputs']['n_public']}): {', '.join(parts)}")
    lines.append("constraints per node:")
    lines += [f"  {n['constraints']:>9}  {n['op_type']:<18} {n['name']}" for n in doc["nodes"]]
    lines += _unit_costs(e.get("approximations", []))
    lines.append(
        f"error vs onnxruntime: max {e.get('max_abs_err', 0.0):.3g}, "
        f"mean {e.get('mean_abs_err', 0.0):.3g} over {e.get('samples')} samples ({e.get('inputs')})"
    )
    lines.append(
        f"keys: {s['backend']} ({s['kind']})" if s else "keys: none yet (zkoracle setup DIR)"
    )
    return lines


def _unit_costs(records: list[dict[str, Any]]) -> list[str]:
    """Per tree node / per time step costs recorded by the tree and recurrent lowerings."""
    out = []
    for r in records:
        if r.get("function") == "tree_ensemble":
            out.append(
                f"  {r['node']}: {r['trees']} trees, {r['internal_nodes']} interior nodes, "
                f"{r['constraints_per_internal_node']:.2f} constraints per interior node"
            )
        elif r.get("function") == "recurrent":
            out.append(
                f"  {r['node']}: {r['cell']} over {r['steps']} steps, "
                f"{r['constraints_per_step']:.0f} constraints per time step"
            )
    return out
