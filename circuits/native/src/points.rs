//! Curve points and field elements to and from bytes.
//!
//! Three encodings: the EVM words of proofs and verifying keys (big-endian, standard form,
//! G2 imaginary part first, as EIP-197 wants), snarkjs' `.zkey` (little-endian Montgomery
//! form, G2 real part first), and our own proving-key file (the in-memory Montgomery limbs,
//! copied as they are so a key loads without arithmetic). Points from the first two come
//! from outside and are fully checked; the third is protected by a hash.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ff::{BigInt, PrimeField};

/// 32 bytes as four little-endian u64 limbs.
pub fn limbs_le(b: &[u8]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[8 * i..8 * i + 8]);
        *limb = u64::from_le_bytes(w);
    }
    out
}

fn limbs_be(b: &[u8]) -> [u64; 4] {
    let mut le = [0u8; 32];
    le.copy_from_slice(b);
    le.reverse();
    limbs_le(&le)
}

fn below_q(l: [u64; 4]) -> bool {
    BigInt::new(l) < Fq::MODULUS
}

pub fn fq_be(f: &Fq) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in f.into_bigint().0.iter().enumerate() {
        out[24 - 8 * i..32 - 8 * i].copy_from_slice(&limb.to_be_bytes());
    }
    out
}

pub fn fr_le(f: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, limb) in f.into_bigint().0.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// Why a point is not acceptable, for the error message.
pub type PointResult<T> = std::result::Result<T, &'static str>;

fn checked_g1(x: Fq, y: Fq, allow_infinity: bool) -> PointResult<G1Affine> {
    if x == Fq::from(0u8) && y == Fq::from(0u8) {
        return if allow_infinity { Ok(G1Affine::identity()) } else { Err("is the point at infinity") };
    }
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err("is not on the curve");
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err("is not in the prime-order subgroup");
    }
    Ok(p)
}

fn checked_g2(x: Fq2, y: Fq2, allow_infinity: bool) -> PointResult<G2Affine> {
    if x == Fq2::from(0u8) && y == Fq2::from(0u8) {
        return if allow_infinity { Ok(G2Affine::identity()) } else { Err("is the point at infinity") };
    }
    let p = G2Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err("is not on the curve");
    }
    if !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err("is not in the prime-order subgroup");
    }
    Ok(p)
}

fn fq_from_be(b: &[u8]) -> PointResult<Fq> {
    Fq::from_bigint(BigInt::new(limbs_be(b))).ok_or("has a coordinate not below q")
}

/// A G1 point from two big-endian words; the point at infinity is refused.
pub fn g1_from_evm(b: &[u8]) -> PointResult<G1Affine> {
    checked_g1(fq_from_be(&b[..32])?, fq_from_be(&b[32..64])?, false)
}

/// A G2 point from four big-endian words x.c1, x.c0, y.c1, y.c0; infinity refused.
pub fn g2_from_evm(b: &[u8]) -> PointResult<G2Affine> {
    let f = |i: usize| fq_from_be(&b[32 * i..32 * i + 32]);
    checked_g2(Fq2::new(f(1)?, f(0)?), Fq2::new(f(3)?, f(2)?), false)
}

pub fn g1_to_evm(p: &G1Affine, out: &mut Vec<u8>) {
    out.extend(fq_be(&p.x));
    out.extend(fq_be(&p.y));
}

pub fn g2_to_evm(p: &G2Affine, out: &mut Vec<u8>) {
    for f in [&p.x.c1, &p.x.c0, &p.y.c1, &p.y.c0] {
        out.extend(fq_be(f));
    }
}

fn fq_from_mont(b: &[u8]) -> PointResult<Fq> {
    let l = limbs_le(b);
    if below_q(l) {
        Ok(Fq::new_unchecked(BigInt::new(l)))
    } else {
        Err("has a coordinate not below q")
    }
}

/// A G1 point of a `.zkey` (64 bytes); all-zero bytes are the point at infinity.
pub fn g1_from_zkey(b: &[u8], allow_infinity: bool) -> PointResult<G1Affine> {
    checked_g1(fq_from_mont(&b[..32])?, fq_from_mont(&b[32..64])?, allow_infinity)
}

/// A G2 point of a `.zkey` (128 bytes, x.c0, x.c1, y.c0, y.c1).
pub fn g2_from_zkey(b: &[u8], allow_infinity: bool) -> PointResult<G2Affine> {
    let f = |i: usize| fq_from_mont(&b[32 * i..32 * i + 32]);
    checked_g2(Fq2::new(f(0)?, f(1)?), Fq2::new(f(2)?, f(3)?), allow_infinity)
}

// Raw Montgomery limbs of our key file: a coordinate is 4 limbs, a point ends with one
// limb that is 1 for the point at infinity.
pub const G1_RAW: usize = 9 * 8;
pub const G2_RAW: usize = 17 * 8;

fn put_fq(f: &Fq, out: &mut Vec<u8>) {
    for limb in f.0 .0 {
        out.extend(limb.to_le_bytes());
    }
}

fn raw_fq(b: &[u8]) -> Fq {
    Fq::new_unchecked(BigInt::new(limbs_le(b)))
}

pub fn put_g1_raw(p: &G1Affine, out: &mut Vec<u8>) {
    put_fq(&p.x, out);
    put_fq(&p.y, out);
    out.extend(u64::from(p.infinity).to_le_bytes());
}

pub fn put_g2_raw(p: &G2Affine, out: &mut Vec<u8>) {
    for f in [&p.x.c0, &p.x.c1, &p.y.c0, &p.y.c1] {
        put_fq(f, out);
    }
    out.extend(u64::from(p.infinity).to_le_bytes());
}

pub fn g1_raw(b: &[u8]) -> G1Affine {
    if b[64] != 0 {
        return G1Affine::identity();
    }
    G1Affine::new_unchecked(raw_fq(&b[..32]), raw_fq(&b[32..64]))
}

pub fn g2_raw(b: &[u8]) -> G2Affine {
    if b[128] != 0 {
        return G2Affine::identity();
    }
    let f = |i: usize| raw_fq(&b[32 * i..32 * i + 32]);
    G2Affine::new_unchecked(Fq2::new(f(0), f(1)), Fq2::new(f(2), f(3)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, CurveGroup};
    use ark_std::UniformRand;

    #[test]
    fn evm_and_raw_round_trips() {
        let mut rng = ark_std::test_rng();
        let p = (G1Affine::generator() * Fr::rand(&mut rng)).into_affine();
        let q = (G2Affine::generator() * Fr::rand(&mut rng)).into_affine();
        let (mut e1, mut e2) = (Vec::new(), Vec::new());
        g1_to_evm(&p, &mut e1);
        g2_to_evm(&q, &mut e2);
        assert_eq!(g1_from_evm(&e1), Ok(p));
        assert_eq!(g2_from_evm(&e2), Ok(q));
        let (mut r1, mut r2) = (Vec::new(), Vec::new());
        put_g1_raw(&p, &mut r1);
        put_g2_raw(&G2Affine::identity(), &mut r2);
        assert_eq!(g1_raw(&r1), p);
        assert!(g2_raw(&r2).infinity);
    }

    #[test]
    fn rejects_bad_points() {
        let p = G1Affine::generator();
        let mut e = Vec::new();
        g1_to_evm(&p, &mut e);
        e[63] ^= 1; // y + 1: off the curve
        assert_eq!(g1_from_evm(&e), Err("is not on the curve"));
        assert_eq!(g1_from_evm(&[0u8; 64]), Err("is the point at infinity"));
        assert_eq!(g1_from_zkey(&[0u8; 64], true), Ok(G1Affine::identity()));
        assert_eq!(g1_from_evm(&[0xffu8; 64]), Err("has a coordinate not below q"));
        // (x, y) on the twist curve but outside the r-torsion: found by cofactor clearing's
        // inverse is hard, so take a random twist point, which is outside whp.
        let mut rng = ark_std::test_rng();
        let x = Fq2::rand(&mut rng);
        let q = (0..100)
            .filter_map(|i| G2Affine::get_point_from_x_unchecked(x + Fq2::from(i as u64), false))
            .next()
            .unwrap();
        assert!(q.is_on_curve());
        let mut e2 = Vec::new();
        g2_to_evm(&q, &mut e2);
        assert_eq!(g2_from_evm(&e2), Err("is not in the prime-order subgroup"));
    }
}
