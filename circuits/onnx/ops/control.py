"""Control flow with a static trip count: Loop and Scan, unrolled.

The body graph is walked once per iteration by the compiler's own node walker, with the
body's inputs bound to the iteration's values and every other name read from the
enclosing graph (weights, earlier tensors). So a body costs what its nodes cost, once per
iteration, and constants fold as anywhere else.

Loop needs a constant trip count ``M``; its condition must be absent or constant, and the
body's condition output must fold to a constant (a loop that stops on a computed value
has no fixed circuit and is refused, naming the node). Scan runs over the static length
of its scan inputs, forward or reversed per input and output, along any axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from circuits.onnx.context import LoweringContext
from circuits.onnx.registry import onnx_op
from circuits.onnx.tensor import Const, Operand, QTensor, Result

Item = QTensor | Const


def run_body(ctx: LoweringContext, body: onnx.GraphProto, feeds: Sequence[Item]) -> list[Item]:
    """The body's outputs for one iteration (its inputs bound to `feeds`, in order)."""
    from circuits.onnx.compiler import _node  # the walker imports the registry: no cycle

    if len(feeds) != len(body.input):
        raise ctx.error(f"the body takes {len(body.input)} inputs, got {len(feeds)}")
    env: dict[str, Item] = dict(ctx.state.scope)
    env.update({t.name: numpy_helper.to_array(t) for t in body.initializer})
    env.update({i.name: v for i, v in zip(body.input, feeds, strict=True)})
    graph: Any = SimpleNamespace(path=f"{ctx.node} body", opset=ctx.opset)
    for i, node in enumerate(body.node):
        _node(ctx.state, graph, i, node, env)
    missing = [o.name for o in body.output if o.name not in env]
    if missing:
        raise ctx.error(f"the body does not compute its output(s) {missing}")
    return [env[o.name] for o in body.output]


def stack(ctx: LoweringContext, items: list[Item], axis: int = 0) -> Item:
    """The per-iteration values stacked along a new axis (at one scale)."""
    if not items:
        raise ctx.unsupported("a scan output of zero iterations (its shape is unknown)")
    if not any(isinstance(v, QTensor) for v in items):
        return np.stack([np.asarray(v) for v in items], axis=axis)
    scale = max(v.scale for v in items if isinstance(v, QTensor))
    qs = [ctx.upscale(v, scale) if isinstance(v, QTensor) else ctx.const(v, scale) for v in items]
    values = np.stack([q.values for q in qs], axis=axis)
    return QTensor(values, scale, max(q.bound for q in qs))


def _static(ctx: LoweringContext, v: Operand, what: str) -> Const | None:
    if isinstance(v, QTensor):
        raise ctx.unsupported(
            f"{what} is computed from the model inputs (a data-dependent number of "
            "iterations); re-export with a fixed trip count"
        )
    return v


@onnx_op("Loop")
def Loop(ctx: LoweringContext, M: Operand, cond: Operand, *v_initial: Operand,
         body: onnx.GraphProto) -> Result:  # fmt: skip
    """The loop-carried values after the last iteration, then the scan outputs stacked."""
    trip = _static(ctx, M, "input M (the trip count)")
    if trip is None:
        raise ctx.unsupported("input M is absent (a loop bounded by its condition only)")
    go = _static(ctx, cond, "input cond")
    if any(v is None for v in v_initial):
        raise ctx.error("an omitted loop-carried initial value")
    carried: list[Item] = [v for v in v_initial if v is not None]
    scans: list[list[Item]] = []
    for i in range(int(np.asarray(trip).reshape(()))):
        if go is not None and not bool(np.asarray(go).reshape(())):
            break
        outs = run_body(ctx, body, [np.asarray(i, np.int64), np.asarray(True), *carried])
        go = _static(ctx, outs[0], "the body's condition output")
        carried = outs[1 : 1 + len(carried)]
        scans.append(outs[1 + len(carried) :])
    stacked = [
        stack(ctx, [s[k] for s in scans]) for k in range(len(body.output) - 1 - len(carried))
    ]
    return tuple(carried + stacked)


@onnx_op("Scan")
def Scan(
    ctx: LoweringContext, *initial_state_and_scan_inputs: Operand, body: onnx.GraphProto,
    num_scan_inputs: int, scan_input_axes: Sequence[int] | None = None,
    scan_input_directions: Sequence[int] | None = None,
    scan_output_axes: Sequence[int] | None = None,
    scan_output_directions: Sequence[int] | None = None,
) -> Result:  # fmt: skip
    """The final states, then the scan outputs stacked along their axes."""
    args = list(initial_state_and_scan_inputs)
    n_state = len(args) - num_scan_inputs
    states: list[Item] = [a for a in args[:n_state] if a is not None]
    xs: list[Item] = [a for a in args[n_state:] if a is not None]
    in_axes = list(scan_input_axes or [0] * len(xs))
    in_dirs = list(scan_input_directions or [0] * len(xs))
    lengths = {
        np.shape(x.values if isinstance(x, QTensor) else x)[a]
        for x, a in zip(xs, in_axes, strict=True)
    }
    if len(lengths) != 1:
        raise ctx.error(f"scan inputs of different lengths {sorted(lengths)}")
    n = lengths.pop()
    outs_per_step: list[list[Item]] = []
    for t in range(n):
        slices = [
            _take(x, n - 1 - t if d else t, a) for x, a, d in zip(xs, in_axes, in_dirs, strict=True)
        ]
        outs = run_body(ctx, body, [*states, *slices])
        states = outs[:n_state]
        outs_per_step.append(outs[n_state:])
    k = len(body.output) - n_state
    out_axes = list(scan_output_axes or [0] * k)
    out_dirs = list(scan_output_directions or [0] * k)
    stacked = []
    for j in range(k):
        seq = [s[j] for s in outs_per_step]
        stacked.append(stack(ctx, seq[::-1] if out_dirs[j] else seq, out_axes[j]))
    return tuple(states + stacked)


def _take(x: Item, i: int, axis: int) -> Item:
    if isinstance(x, QTensor):
        return QTensor(np.take(x.values, i, axis=axis), x.scale, x.bound)
    out: Const = np.take(np.asarray(x), i, axis=axis)
    return out
