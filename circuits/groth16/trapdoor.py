"""Verifying keys with a known trapdoor, and proofs forged with it, for tests and benchmarks.

Whoever knows (alpha, beta, gamma, delta) and the discrete logs k_i of the IC points can
produce a proof for any public inputs: pick a, b at random and solve the verification
equation for c,

    a*b = alpha*beta + (k_0 + sum x_i k_i) * gamma + c*delta   (mod r)

This is exactly the toxic waste a trusted setup must destroy. Here it gives valid
(vk, proof, inputs) triples of any size without running a prover, so the Python verifier,
the Solidity verifier and its gas can be checked independently of the proving backends.
Never use these keys for anything but tests.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from py_ecc.optimized_bn128.optimized_curve import G1 as _G1
from py_ecc.optimized_bn128.optimized_curve import G2 as _G2
from py_ecc.optimized_bn128.optimized_curve import multiply, normalize

from circuits.field import R, inv
from circuits.groth16.data import G1, G2, Proof, VerifyingKey


def _g1(k: int) -> G1:
    x, y = normalize(multiply(_G1, k))
    return (int(x.n), int(y.n))


def _g2(k: int) -> G2:
    x, y = normalize(multiply(_G2, k))
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


@dataclass(frozen=True)
class Trapdoor:
    """The secrets behind a test verifying key: alpha, beta, gamma, delta and log(IC_i)."""

    alpha: int
    beta: int
    gamma: int
    delta: int
    ic: tuple[int, ...]

    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey(
            alpha1=_g1(self.alpha),
            beta2=_g2(self.beta),
            gamma2=_g2(self.gamma),
            delta2=_g2(self.delta),
            ic=tuple(_g1(k) for k in self.ic),
        )

    def forge(self, public_inputs: Sequence[int], rng: random.Random | None = None) -> Proof:
        """A proof that verifies for these public inputs under `verifying_key()`."""
        if len(public_inputs) != len(self.ic) - 1:
            raise ValueError(f"expected {len(self.ic) - 1} public inputs, got {len(public_inputs)}")
        rng = rng or random.Random()
        a, b = rng.randrange(1, R), rng.randrange(1, R)
        acc = self.ic[0] + sum(x * k for x, k in zip(public_inputs, self.ic[1:], strict=True))
        c = (a * b - self.alpha * self.beta - acc * self.gamma) * inv(self.delta) % R
        return Proof(a=_g1(a), b=_g2(b), c=_g1(c))


def make_trapdoor(n_public: int, seed: int = 0) -> Trapdoor:
    """A deterministic trapdoor for a circuit with `n_public` public inputs."""
    rng = random.Random(seed)
    s = [rng.randrange(1, R) for _ in range(n_public + 5)]
    return Trapdoor(s[0], s[1], s[2], s[3], tuple(s[4:]))
