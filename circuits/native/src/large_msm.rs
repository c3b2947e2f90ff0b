//! MSMs of full-size scalars through halo2curves.
//!
//! arkworks 0.5 adds into projective buckets; halo2curves' `msm_best` schedules its bucket
//! additions in affine coordinates with one shared inversion per batch (the CycloneMSM
//! scheduler), about 1.6x faster for G1 and G2 from 2^14 points on (with its assembly field
//! multiplication). Both libraries keep BN254 field elements as four little-endian u64
//! limbs in Montgomery form with R = 2^256, so points and scalars cross between them as
//! their limbs, without arithmetic.
//!
//! `msm_best` takes its window as ceil(ln n) bits and uses batch-affine buckets only for
//! windows of 10 bits or more, that is from `BATCH_AFFINE_FROM` = 8104 points; below that it
//! falls back to plain Pippenger, slower than arkworks'. Between `HALO2_FROM` = 2^11 and
//! 8104 terms the input is padded with zero-scalar terms up to 8104: the bucket loop skips
//! them (a zero digit adds nothing), and the batch-affine path with them is still faster
//! than arkworks' MSM (2^12 points, both threads: G1 15 ms against 21, G2 51 against 67).
//! Below 2^11 terms arkworks' MSM is kept.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, VariableBaseMSM};
use ark_ff::{BigInt, PrimeField, Zero};
use halo2curves::bn256;
use halo2curves::group::Curve;
use halo2curves::serde::SerdeObject;
use rayon::prelude::*;

/// Fewer terms than this (after leaving out zero scalars and points at infinity) go to
/// arkworks' MSM.
pub const HALO2_FROM: usize = 1 << 11;

/// The fewest points for which `msm_best`'s window, ceil(ln n), reaches the 10 bits of its
/// batch-affine path (ln 8103 < 9 < ln 8104).
pub const BATCH_AFFINE_FROM: usize = 8104;

fn put_limbs(l: &[u64; 4], out: &mut [u8]) {
    for (i, w) in l.iter().enumerate() {
        out[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
}

fn fq_from_limbs(b: &[u8]) -> Fq {
    Fq::new_unchecked(BigInt::new(crate::points::limbs_le(b)))
}

fn fq2_from_limbs(b: &[u8]) -> Fq2 {
    Fq2::new(fq_from_limbs(&b[..32]), fq_from_limbs(&b[32..64]))
}

fn scalar(s: &Fr) -> bn256::Fr {
    let mut b = [0u8; 32];
    put_limbs(&s.0 .0, &mut b);
    bn256::Fr::from_raw_bytes_unchecked(&b)
}

/// A halo2curves point's limbs; None for the point at infinity, written (0, 0).
fn finite_limbs<A: SerdeObject>(p: &A) -> Option<Vec<u8>> {
    let b = p.to_raw_bytes();
    b.iter().any(|&x| x != 0).then_some(b)
}

/// A curve whose full-size MSMs halo2curves does.
pub trait LargeMsm: VariableBaseMSM<ScalarField = Fr> {
    /// sum_i scalars[i] * bases[i]; the slices have the same length.
    fn large_msm(bases: &[Self::MulBase], scalars: &[Fr]) -> Self;
}

/// A BN254 group (by its arkworks curve parameters) and its halo2curves twin.
pub trait Twin: SWCurveConfig<ScalarField = Fr> {
    type Halo2: halo2curves::CurveAffine<ScalarExt = bn256::Fr> + Send + Sync;
    fn to_halo2(p: &Affine<Self>) -> Self::Halo2;
    fn from_halo2(p: &Self::Halo2) -> Affine<Self>;
}

impl Twin for ark_bn254::g1::Config {
    type Halo2 = bn256::G1Affine;
    fn to_halo2(p: &G1Affine) -> bn256::G1Affine {
        let mut b = [0u8; 64];
        if !p.is_zero() {
            put_limbs(&p.x.0 .0, &mut b[..32]);
            put_limbs(&p.y.0 .0, &mut b[32..]);
        }
        bn256::G1Affine::from_raw_bytes_unchecked(&b)
    }
    fn from_halo2(p: &bn256::G1Affine) -> G1Affine {
        finite_limbs(p).map_or(G1Affine::identity(), |b| {
            G1Affine::new_unchecked(fq_from_limbs(&b[..32]), fq_from_limbs(&b[32..]))
        })
    }
}

impl Twin for ark_bn254::g2::Config {
    type Halo2 = bn256::G2Affine;
    fn to_halo2(p: &G2Affine) -> bn256::G2Affine {
        let mut b = [0u8; 128];
        if !p.is_zero() {
            for (i, f) in [&p.x.c0, &p.x.c1, &p.y.c0, &p.y.c1].into_iter().enumerate() {
                put_limbs(&f.0 .0, &mut b[32 * i..32 * i + 32]);
            }
        }
        bn256::G2Affine::from_raw_bytes_unchecked(&b)
    }
    fn from_halo2(p: &bn256::G2Affine) -> G2Affine {
        finite_limbs(p).map_or(G2Affine::identity(), |b| {
            G2Affine::new_unchecked(fq2_from_limbs(&b[..64]), fq2_from_limbs(&b[64..]))
        })
    }
}

impl<P: Twin> LargeMsm for Projective<P> {
    fn large_msm(bases: &[Affine<P>], scalars: &[Fr]) -> Self {
        // halo2curves' MSM cannot take the point at infinity (a key has it for every wire
        // missing from a query); those terms, and zero scalars, add nothing and are left out.
        let (mut b, mut s): (Vec<_>, Vec<_>) = bases
            .par_iter()
            .zip(scalars)
            .filter(|(p, x)| !p.is_zero() && !x.is_zero())
            .map(|(p, x)| (P::to_halo2(p), scalar(x)))
            .unzip();
        if b.len() < HALO2_FROM {
            let s: Vec<_> = scalars.par_iter().map(|x| x.into_bigint()).collect();
            return Self::msm_bigint(bases, &s);
        }
        if b.len() < BATCH_AFFINE_FROM {
            b.resize(BATCH_AFFINE_FROM, b[0]);
            s.resize(BATCH_AFFINE_FROM, <bn256::Fr as halo2curves::ff::Field>::ZERO);
        }
        P::from_halo2(&halo2curves::msm::msm_best(&s, &b).to_affine()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{g1, g2, G1Projective, G2Projective};
    use ark_ec::CurveGroup;
    use ark_std::UniformRand;

    #[test]
    fn halo2curves_msm_equals_arkworks_msm() {
        let mut rng = ark_std::test_rng();
        let n = BATCH_AFFINE_FROM + 5;
        let (g1, g2) = (G1Projective::rand(&mut rng), G2Projective::rand(&mut rng));
        let ks: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let mut p1 = G1Projective::normalize_batch(&ks.par_iter().map(|k| g1 * k).collect::<Vec<_>>());
        let p2 = G2Projective::normalize_batch(&ks.par_iter().map(|k| g2 * k).collect::<Vec<_>>());
        p1[3] = G1Affine::identity();
        let mut s: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        s[7] = Fr::from(0u8);
        s[8] = -Fr::from(1u8);
        // Unpadded, padded with zero-scalar terms, and below the threshold (arkworks').
        for m in [n, HALO2_FROM + 5, 10] {
            assert_eq!(G1Projective::large_msm(&p1[..m], &s[..m]), G1Projective::msm(&p1[..m], &s[..m]).unwrap(), "G1, {m}");
            assert_eq!(G2Projective::large_msm(&p2[..m], &s[..m]), G2Projective::msm(&p2[..m], &s[..m]).unwrap(), "G2, {m}");
        }
        // HALO2_FROM + 1 inputs of which two add nothing: arkworks' path.
        let m = HALO2_FROM + 1;
        assert_eq!(G1Projective::large_msm(&p1[..m], &s[..m]), G1Projective::msm(&p1[..m], &s[..m]).unwrap());
        // Mostly points at infinity: few terms left.
        let mut sparse = p1.clone();
        sparse.iter_mut().skip(1).step_by(2).for_each(|p| *p = G1Affine::identity());
        assert_eq!(G1Projective::large_msm(&sparse, &s), G1Projective::msm(&sparse, &s).unwrap());
        // A sum of zero comes back as the point at infinity.
        let zeros = vec![Fr::from(0u8); n];
        assert!(G1Projective::large_msm(&p1, &zeros).into_affine().is_zero());
        assert!(G2Projective::large_msm(&p2, &zeros).into_affine().is_zero());
    }

    #[test]
    fn points_cross_as_their_limbs() {
        let mut rng = ark_std::test_rng();
        let p = G1Projective::rand(&mut rng).into_affine();
        let q = G2Projective::rand(&mut rng).into_affine();
        let hp = g1::Config::to_halo2(&p);
        assert!(bool::from(halo2curves::CurveAffine::is_on_curve(&hp)));
        assert_eq!(g1::Config::from_halo2(&hp), p);
        let hq = g2::Config::to_halo2(&q);
        assert!(bool::from(halo2curves::CurveAffine::is_on_curve(&hq)));
        assert_eq!(g2::Config::from_halo2(&hq), q);
        assert_eq!(g1::Config::from_halo2(&g1::Config::to_halo2(&G1Affine::identity())), G1Affine::identity());
        assert_eq!(g2::Config::from_halo2(&g2::Config::to_halo2(&G2Affine::identity())), G2Affine::identity());
    }
}
