"""Groth16 keys and proofs over BN254, as plain frozen data.

Points are affine and carry plain integers:

* a G1 point is ``(x, y)`` with x, y in F_q;
* a G2 point is ``((x_c0, x_c1), (y_c0, y_c1))`` with each coordinate x = x_c0 + x_c1 * u
  in F_q2 = F_q[u] / (u^2 + 1).

The point at infinity is not a valid key or proof element here; it is never represented.

On the EVM (EIP-197) a G2 coordinate is written imaginary part first, ``(c1, c0)``; snarkjs
JSON writes it real part first, ``[c0, c1]``. `g2_to_evm` / `g2_from_evm` are the one place
that order lives: the Solidity renderer and the calldata encoder both call them.
"""

from __future__ import annotations

from dataclasses import dataclass

G1 = tuple[int, int]
Fq2 = tuple[int, int]
G2 = tuple[Fq2, Fq2]

#: Size of a proof in the EVM layout: eight 32-byte words.
PROOF_BYTES = 256


def g2_to_evm(p: G2) -> tuple[int, int, int, int]:
    """The four words of a G2 point in EIP-197 order: x.c1, x.c0, y.c1, y.c0."""
    (x0, x1), (y0, y1) = p
    return (x1, x0, y1, y0)


def g2_from_evm(words: tuple[int, int, int, int] | list[int]) -> G2:
    """Inverse of `g2_to_evm`."""
    x1, x0, y1, y0 = words
    return ((x0, x1), (y0, y1))


@dataclass(frozen=True)
class VerifyingKey:
    """Groth16 verifying key for a circuit with ``n_public`` public inputs.

    A proof (A, B, C) for public inputs x_1..x_l verifies iff
    e(A, B) = e(alpha, beta) * e(IC_0 + sum x_i IC_i, gamma) * e(C, delta).

    * ``alpha1`` = alpha * G1, ``beta2`` = beta * G2;
    * ``gamma2`` = gamma * G2, ``delta2`` = delta * G2;
    * ``ic[i]`` = (beta * u_i(tau) + alpha * v_i(tau) + w_i(tau)) / gamma * G1 for the
      constant wire (i = 0) and every public input: ``len(ic) == n_public + 1``.
    """

    alpha1: G1
    beta2: G2
    gamma2: G2
    delta2: G2
    ic: tuple[G1, ...]

    @property
    def n_public(self) -> int:
        return len(self.ic) - 1


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof: A in G1, B in G2, C in G1."""

    a: G1
    b: G2
    c: G1

    def words(self) -> tuple[int, ...]:
        """The eight EVM words: [a.x, a.y, b.x.c1, b.x.c0, b.y.c1, b.y.c0, c.x, c.y]."""
        return (*self.a, *g2_to_evm(self.b), *self.c)

    def to_bytes(self) -> bytes:
        """The 256-byte EVM layout (big-endian words), as groth16py returns it."""
        return b"".join(w.to_bytes(32, "big") for w in self.words())

    @classmethod
    def from_words(cls, w: tuple[int, ...] | list[int]) -> Proof:
        if len(w) != 8:
            raise ValueError(f"a proof has 8 words, got {len(w)}")
        return cls(a=(w[0], w[1]), b=g2_from_evm((w[2], w[3], w[4], w[5])), c=(w[6], w[7]))

    @classmethod
    def from_bytes(cls, data: bytes) -> Proof:
        """Parse the 256-byte EVM layout. Range and curve checks belong to the verifier."""
        if len(data) != PROOF_BYTES:
            raise ValueError(f"a proof is {PROOF_BYTES} bytes, got {len(data)}")
        return cls.from_words([int.from_bytes(data[i : i + 32], "big") for i in range(0, 256, 32)])


def vk_words(vk: VerifyingKey) -> bytes:
    """The key as big-endian EVM words: alpha (2), beta, gamma, delta (4 each), IC (2 each)."""
    words = [*vk.alpha1]
    for p in (vk.beta2, vk.gamma2, vk.delta2):
        words.extend(g2_to_evm(p))
    for q in vk.ic:
        words.extend(q)
    return b"".join(w.to_bytes(32, "big") for w in words)


def vk_from_words(data: bytes) -> VerifyingKey:
    """Inverse of `vk_words` (no curve checks: the verifiers do those)."""
    if len(data) < 16 * 32 or len(data) % 64:
        raise ValueError(f"a verifying key is 14 + 2k words, got {len(data)} bytes")
    w = [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]
    g2s = [g2_from_evm((w[i], w[i + 1], w[i + 2], w[i + 3])) for i in (2, 6, 10)]
    ic = tuple((w[i], w[i + 1]) for i in range(14, len(w), 2))
    return VerifyingKey(alpha1=(w[0], w[1]), beta2=g2s[0], gamma2=g2s[1], delta2=g2s[2], ic=ic)
