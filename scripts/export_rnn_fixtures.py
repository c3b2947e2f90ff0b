"""Export the small recurrent test models with torch.onnx.export.

    python scripts/export_rnn_fixtures.py [--out tests/circuits/onnx/fixtures]

torch is not a dependency of the tests (its PyPI wheel pulls gigabytes of CUDA
libraries): it is in the optional ``torch`` extra, and the exported ``.onnx`` files are
committed, so the default tests compile real torch exports without torch installed.
Each model has fixed seeds; re-running the script reproduces the same files for the same
torch version. The benchmark's LSTM and GRU (8 steps x 4 features, hidden 8) are here too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: name -> (cell, input features, hidden size, steps, bidirectional, batch_first)
FIXTURES = {
    "torch_lstm_s8_f4_h8": ("LSTM", 4, 8, 8, False, False),
    "torch_gru_s8_f4_h8": ("GRU", 4, 8, 8, False, False),
    "torch_lstm_bi_s3_f3_h4": ("LSTM", 3, 4, 3, True, True),
    "torch_gru_s3_f3_h4": ("GRU", 3, 4, 3, False, False),
    "torch_rnn_s3_f3_h4": ("RNN", 3, 4, 3, False, False),
}


def export(name: str, out: Path) -> Path:
    import torch

    cell, features, hidden, steps, bi, batch_first = FIXTURES[name]
    torch.manual_seed(sum(map(ord, name)))
    layer = getattr(torch.nn, cell)(features, hidden, batch_first=batch_first, bidirectional=bi)

    class Head(torch.nn.Module):
        """The recurrent layer and a linear read-out of its last output."""

        def __init__(self) -> None:
            super().__init__()
            self.rnn = layer
            self.out = torch.nn.Linear(hidden * (2 if bi else 1), 1)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            y, _ = self.rnn(x)
            last = y[:, -1] if batch_first else y[-1]
            return y, self.out(last)

    shape = (1, steps, features) if batch_first else (steps, 1, features)
    path = out / f"{name}.onnx"
    torch.onnx.export(
        Head().eval(), (torch.zeros(shape),), str(path), input_names=["x"],
        output_names=["y", "signal"], opset_version=17, dynamo=False,
    )  # fmt: skip
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parent.parent / "tests/circuits/onnx/fixtures"
    ap.add_argument("--out", type=Path, default=default)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in FIXTURES:
        print(export(name, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
