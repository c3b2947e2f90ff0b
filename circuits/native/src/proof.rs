//! arkworks' Groth16 prover (`create_proof_with_reduction_and_matrices`) with the witness
//! MSMs done by `msm::Plan`: the same proof for the same r and s, faster when the witness
//! is mostly small numbers.
//!
//! The assignment is sorted by scalar size once and that plan serves A, B in G1, B in G2
//! (and a second plan serves L, the private part); H, whose scalars are the quotient's
//! coefficients (random-looking), goes to the full-size MSM (`large_msm`).
//!
//! B in G1 only enters C as r * B, so the proof for r = s = 0 needs four MSMs instead of
//! five. `create_random_proof` makes that proof and rerandomizes it with arkworks'
//! `Groth16::rerandomize_proof` (A' = A / r1, B' = r1 B + r1 r2 delta, C' = C + r2 A): for a
//! valid proof the result is distributed as a fresh proof with random r and s (theorem 3 of
//! Baghery, Kohlweiss, Siim and Volkhov, eprint 2020/811), so zero knowledge is kept and one
//! full-size MSM, a fifth of the G1 work, is saved.

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::CurveGroup;
use ark_ff::Zero;
use ark_groth16::r1cs_to_qap::R1CSToQAP;
use ark_groth16::{Groth16, Proof, ProvingKey};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::r1cs::{ConstraintMatrices, SynthesisError};

use crate::large_msm::LargeMsm;
use crate::msm::Plan;

/// Stage times on standard error with the crate feature `timing` (the `prove_timing`
/// example); nothing otherwise.
#[cfg(feature = "timing")]
fn stage(name: &str, t: &mut std::time::Instant) {
    eprintln!("{name:>24}: {:?}", t.elapsed());
    *t = std::time::Instant::now();
}
#[cfg(not(feature = "timing"))]
fn stage<T>(_name: &str, _t: &mut T) {}

/// A zero-knowledge proof from the full assignment (wire 0 = 1 first): the proof for
/// r = s = 0, rerandomized with fresh randomness from `rng`.
pub fn create_random_proof<QAP: R1CSToQAP>(
    pk: &ProvingKey<Bn254>,
    matrices: &ConstraintMatrices<Fr>,
    num_inputs: usize,
    full: &[Fr],
    rng: &mut impl rand::Rng,
) -> Result<Proof<Bn254>, SynthesisError> {
    let bare = create_proof::<QAP>(pk, (Fr::zero(), Fr::zero()), matrices, num_inputs, full)?;
    Ok(Groth16::<Bn254>::rerandomize_proof(&pk.vk, &bare, rng))
}

/// A proof from the full assignment (wire 0 = 1 first) with randomness r, s; r = 0 skips
/// the MSM of B in G1.
pub fn create_proof<QAP: R1CSToQAP>(
    pk: &ProvingKey<Bn254>,
    (r, s): (Fr, Fr),
    matrices: &ConstraintMatrices<Fr>,
    num_inputs: usize,
    full: &[Fr],
) -> Result<Proof<Bn254>, SynthesisError> {
    let num_constraints = matrices.num_constraints;
    #[cfg(feature = "timing")]
    let mut t = std::time::Instant::now();
    #[cfg(not(feature = "timing"))]
    let mut t = ();
    let (h_acc, (plan, l_acc)) = rayon::join(
        || quotient_msm::<QAP>(pk, matrices, num_inputs, num_constraints, full),
        || {
            let plan = Plan::new(&full[1..]);
            let l_acc: G1Projective = Plan::new(&full[num_inputs..]).msm(&pk.l_query);
            (plan, l_acc)
        },
    );
    let h_acc = h_acc?;
    stage("H and L (with plans)", &mut t);
    let g_a = pk.delta_g1 * r + pk.a_query[0] + plan.msm::<G1Projective>(&pk.a_query[1..]) + pk.vk.alpha_g1;
    let g1_b = if r.is_zero() {
        G1Projective::zero()
    } else {
        pk.delta_g1 * s + pk.b_g1_query[0] + plan.msm::<G1Projective>(&pk.b_g1_query[1..]) + pk.beta_g1
    };
    stage("A (and B) in G1", &mut t);
    let g2_b = pk.vk.delta_g2 * s + pk.b_g2_query[0] + plan.msm::<G2Projective>(&pk.b_g2_query[1..]) + pk.vk.beta_g2;
    stage("B in G2", &mut t);
    let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l_acc + h_acc;
    Ok(Proof { a: g_a.into_affine(), b: g2_b.into_affine(), c: g_c.into_affine() })
}

/// The quotient's coefficients (the reduction's witness map) committed with the H points.
fn quotient_msm<QAP: R1CSToQAP>(
    pk: &ProvingKey<Bn254>,
    matrices: &ConstraintMatrices<Fr>,
    num_inputs: usize,
    num_constraints: usize,
    full: &[Fr],
) -> Result<G1Projective, SynthesisError> {
    #[cfg(feature = "timing")]
    let mut t = std::time::Instant::now();
    #[cfg(not(feature = "timing"))]
    let mut t = ();
    let h = QAP::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        matrices,
        num_inputs,
        num_constraints,
        full,
    )?;
    stage("witness map (FFTs)", &mut t);
    let acc = G1Projective::large_msm(&pk.h_query, &h[..pk.h_query.len()]);
    stage("H MSM", &mut t);
    Ok(acc)
}
