"""zkoracle, proving side: R1CS circuits over the BN254 scalar field and Groth16 proofs.

The façade the chain side uses lives here; `oracle` imports nothing else from `circuits`.
"""

from circuits.builder import Builder
from circuits.errors import CircuitError
from circuits.field import R
from circuits.lc import LC, LinearCombination
from circuits.program import Circuit, Witness
from circuits.r1cs import ConstraintSystem

__all__ = [
    "LC",
    "Builder",
    "Circuit",
    "CircuitError",
    "ConstraintSystem",
    "LinearCombination",
    "R",
    "Witness",
]
