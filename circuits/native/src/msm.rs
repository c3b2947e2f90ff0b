//! Multi-scalar multiplication split by the size of the scalars.
//!
//! The witnesses of zkML circuits are mostly tiny: the bits of range checks, 0/1 selectors,
//! quantized values of a few bits, small negative numbers (r - k). arkworks 0.5's MSM walks
//! all 254 bits of every scalar (about 20 windows of 2^13 buckets at 2^16 points), so a
//! witness of bits costs it nearly as much as one of random field elements. Here the scalars
//! are sorted once per witness into classes by the bit length of |s| (s or r - s, whichever
//! is shorter, the sign kept): zeros are dropped, each class of at most 64 bits gets a bucket
//! sum over only its own bits, and the rest goes to the full-size MSM (`large_msm`). The
//! result is the same group element; only the order of the additions differs.

use ark_bn254::Fr;
use ark_ec::VariableBaseMSM;
use ark_ff::{BigInteger, PrimeField};
use rayon::prelude::*;

use crate::large_msm::LargeMsm;

/// Bit lengths of the small classes; a scalar goes to the first that holds |s|.
const CLASS_BITS: [u32; 5] = [1, 8, 16, 32, 64];

/// Scalars of one small class: positions in the assignment, magnitudes, signs.
#[derive(Default)]
struct Class {
    idx: Vec<usize>,
    mag: Vec<u64>,
    neg: Vec<bool>,
}

/// An assignment sorted by scalar size, made once and used for every query it multiplies.
pub struct Plan {
    small: [Class; CLASS_BITS.len()],
    large_idx: Vec<usize>,
    large: Vec<Fr>,
}

/// |s| if it fits in 64 bits, with its sign.
fn small_value(s: &Fr) -> Option<(u64, bool)> {
    let b = s.into_bigint();
    if b.num_bits() <= 64 {
        return Some((b.as_ref()[0], false));
    }
    let n = (-*s).into_bigint();
    (n.num_bits() <= 64).then(|| (n.as_ref()[0], true))
}

impl Plan {
    pub fn new(scalars: &[Fr]) -> Self {
        let sizes: Vec<Option<(u64, bool)>> = scalars.par_iter().map(small_value).collect();
        let mut plan = Plan { small: Default::default(), large_idx: Vec::new(), large: Vec::new() };
        for (i, size) in sizes.into_iter().enumerate() {
            match size {
                Some((0, _)) => {}
                Some((m, neg)) => {
                    let bits = 64 - m.leading_zeros();
                    let k = CLASS_BITS.iter().position(|&c| bits <= c).unwrap_or(CLASS_BITS.len() - 1);
                    let class = &mut plan.small[k];
                    class.idx.push(i);
                    class.mag.push(m);
                    class.neg.push(neg);
                }
                None => {
                    plan.large_idx.push(i);
                    plan.large.push(scalars[i]);
                }
            }
        }
        plan
    }

    /// How many scalars each class holds: zero-free small classes by bit bound, then large.
    pub fn class_sizes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.small.iter().map(|c| c.idx.len()).collect();
        v.push(self.large.len());
        v
    }

    /// sum_i scalars[i] * bases[i]; `bases` must be at least as long as the assignment.
    pub fn msm<V: LargeMsm>(&self, bases: &[V::MulBase]) -> V {
        let mut acc = self
            .small
            .iter()
            .zip(CLASS_BITS)
            .map(|(class, bits)| small_msm::<V>(bases, class, bits))
            .fold(V::zero(), |a, b| a + b);
        if !self.large.is_empty() {
            let gathered: Vec<V::MulBase> = self.large_idx.par_iter().map(|&i| bases[i]).collect();
            acc += V::large_msm(&gathered, &self.large);
        }
        acc
    }
}

/// Window width for `n` points (arkworks' choice), spread evenly over `bits`.
fn window(n: usize, bits: u32) -> (u32, u32) {
    let widest = (ark_std::log2(n.max(1)) * 69 / 100 + 2).clamp(1, 16);
    let windows = bits.div_ceil(widest);
    (bits.div_ceil(windows), windows)
}

/// One class, its points split evenly between the pool's threads.
fn small_msm<V: VariableBaseMSM>(bases: &[V::MulBase], class: &Class, bits: u32) -> V {
    if class.idx.is_empty() {
        return V::zero();
    }
    let chunk = class.idx.len().div_ceil(rayon::current_num_threads()).max(1);
    class
        .idx
        .par_chunks(chunk)
        .zip(class.mag.par_chunks(chunk))
        .zip(class.neg.par_chunks(chunk))
        .map(|((idx, mag), neg)| bucket_sum::<V>(bases, idx, mag, neg, bits))
        .reduce(V::zero, |a, b| a + b)
}

/// Pippenger's bucket method over the low `bits` bits of the magnitudes.
fn bucket_sum<V: VariableBaseMSM>(bases: &[V::MulBase], idx: &[usize], mag: &[u64], neg: &[bool], bits: u32) -> V {
    let (w, windows) = window(idx.len(), bits);
    let mask = (1u64 << w) - 1;
    let mut total = V::zero();
    for k in (0..windows).rev() {
        for _ in 0..w {
            total.double_in_place();
        }
        let mut buckets = vec![V::zero(); mask as usize];
        for ((&i, &m), &n) in idx.iter().zip(mag).zip(neg) {
            let digit = (m >> (k * w)) & mask;
            if digit != 0 {
                let b = &mut buckets[digit as usize - 1];
                if n {
                    *b -= &bases[i];
                } else {
                    *b += &bases[i];
                }
            }
        }
        // sum_d d * bucket[d] as a running sum from the top bucket down.
        let mut running = V::zero();
        for b in buckets.into_iter().rev() {
            running += &b;
            total += &running;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::CurveGroup;
    use ark_std::UniformRand;

    fn mixed_scalars(n: usize) -> Vec<Fr> {
        let mut rng = ark_std::test_rng();
        (0..n)
            .map(|i| match i % 9 {
                0 => Fr::from(0u8),
                1 => Fr::from(1u8),
                2 => -Fr::from(1u8),
                3 => Fr::from((i % 200) as u64),
                4 => -Fr::from((i * 7919) as u64),
                5 => Fr::from(u32::MAX as u64 - i as u64),
                6 => -Fr::from(u64::MAX - i as u64),
                7 => Fr::from(1u128 << 64),
                _ => Fr::rand(&mut rng),
            })
            .collect()
    }

    #[test]
    fn plan_msm_equals_arkworks_msm() {
        let mut rng = ark_std::test_rng();
        for n in [1usize, 9, 100, 2000, crate::large_msm::HALO2_FROM * 9 / 8] {
            let s = mixed_scalars(n);
            let g1: Vec<G1Affine> = (0..n).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
            let g2: Vec<G2Affine> = (0..n).map(|_| G2Projective::rand(&mut rng).into_affine()).collect();
            let plan = Plan::new(&s);
            assert_eq!(plan.class_sizes().iter().sum::<usize>(), s.iter().filter(|x| **x != Fr::from(0u8)).count());
            assert_eq!(plan.msm::<G1Projective>(&g1), G1Projective::msm(&g1, &s).unwrap(), "G1, {n} points");
            assert_eq!(plan.msm::<G2Projective>(&g2), G2Projective::msm(&g2, &s).unwrap(), "G2, {n} points");
        }
    }

    #[test]
    fn all_zero_and_all_bits() {
        let mut rng = ark_std::test_rng();
        let g1: Vec<G1Affine> = (0..300).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
        let zeros = vec![Fr::from(0u8); 300];
        assert_eq!(Plan::new(&zeros).msm::<G1Projective>(&g1), G1Projective::from(G1Affine::identity()));
        let bits: Vec<Fr> = (0..300).map(|i| Fr::from((i % 2) as u8)).collect();
        assert_eq!(Plan::new(&bits).msm::<G1Projective>(&g1), G1Projective::msm(&g1, &bits).unwrap());
    }
}
