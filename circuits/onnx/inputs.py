"""Model inputs from JSON: ezkl's ``{"input_data": [[...], ...]}`` or ``{"<name>": [...]}``.

* ezkl layout: ``input_data`` is a list with one entry per model input (graph order), each
  the input's values flattened (nested lists are flattened too);
* by name: one key per model input, the values flattened or nested;
* for calibration, several samples: every entry holds k times the input's size (k samples
  back to back, as ezkl batches them), or the file is a list of such objects.

Errors say which input and what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from circuits.errors import InputRangeError

Sample = dict[str, npt.NDArray[np.float64]]


def _flat(v: Any, where: str) -> npt.NDArray[np.float64]:
    try:
        arr = np.asarray(v, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise InputRangeError(f"{where}: expected a list of numbers ({e})") from None
    return arr


def parse_samples(
    obj: Any, names: Sequence[str], shapes: Sequence[Sequence[int]], where: str = "input"
) -> list[Sample]:
    """Samples (dicts name -> array of the input's shape) from a decoded JSON object."""
    if isinstance(obj, list) and obj and all(isinstance(o, dict) for o in obj):
        return [s for o in obj for s in parse_samples(o, names, shapes, where)]
    if not isinstance(obj, dict):
        raise InputRangeError(
            f"{where}: expected a JSON object with 'input_data' or the input names {list(names)}"
        )
    if "input_data" in obj:
        data = obj["input_data"]
        if not isinstance(data, list) or len(data) != len(names):
            got = len(data) if isinstance(data, list) else type(data).__name__
            raise InputRangeError(
                f"{where}: 'input_data' must list {len(names)} input(s) {list(names)}, got {got}"
            )
        flats = [_flat(d, f"{where}: input_data[{i}] ({names[i]!r})") for i, d in enumerate(data)]
    else:
        missing = [n for n in names if n not in obj]
        extra = sorted(set(obj) - set(names))
        if missing or extra:
            raise InputRangeError(
                f"{where}: the model takes input(s) {list(names)}; "
                f"missing {missing}, unknown {extra}"
            )
        flats = [_flat(obj[n], f"{where}: {n!r}") for n in names]
    return _split(flats, names, shapes, where)


def _split(
    flats: list[npt.NDArray[np.float64]],
    names: Sequence[str],
    shapes: Sequence[Sequence[int]],
    where: str,
) -> list[Sample]:
    counts = []
    for arr, name, shape in zip(flats, names, shapes, strict=True):
        size = int(np.prod(shape, dtype=np.int64))
        if arr.size == 0 or arr.size % size:
            raise InputRangeError(
                f"{where}: input {name!r} has {arr.size} values; "
                f"expected {size} (shape {list(shape)}) or a multiple"
            )
        counts.append(arr.size // size)
    if len(set(counts)) != 1:
        raise InputRangeError(
            f"{where}: inputs hold different numbers of samples "
            f"{dict(zip(names, counts, strict=True))}"
        )
    out = []
    for k in range(counts[0]):
        sample = {}
        for arr, name, shape in zip(flats, names, shapes, strict=True):
            size = int(np.prod(shape, dtype=np.int64))
            sample[name] = arr[k * size : (k + 1) * size].reshape(tuple(shape))
        out.append(sample)
    return out


def load_samples(
    path: str | Path, names: Sequence[str], shapes: Sequence[Sequence[int]]
) -> list[Sample]:
    """Samples from a JSON file (see `parse_samples`)."""
    p = Path(path)
    try:
        obj = json.loads(p.read_text())
    except OSError as e:
        raise InputRangeError(f"{p}: cannot read: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise InputRangeError(f"{p}: not valid JSON: {e}") from e
    return parse_samples(obj, names, shapes, str(p))


def single_sample(samples: list[Sample], where: str) -> Sample:
    if len(samples) != 1:
        raise InputRangeError(f"{where}: holds {len(samples)} samples; a proof takes exactly one")
    return samples[0]
