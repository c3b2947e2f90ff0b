//! The R1CS-to-QAP reduction of circom / snarkjs: for proving with snarkjs keys, and the
//! one our development setup uses (six FFTs per proof where arkworks' default needs seven).
//!
//! arkworks' default (`LibsnarkReduction`) evaluates A, B, C on a coset g*D of the domain D
//! and divides by the vanishing polynomial there. snarkjs evaluates them on the "odd" points
//! w^(2i+1) of the domain of twice the size (w a 2n-th root of unity) and its key's H points
//! are Lagrange-basis points for that set, already divided by Z. A proof made with one
//! reduction and a key made with the other does not verify, so a key remembers its
//! reduction. Setup uses arkworks' instance map, which is the same for both: the reductions
//! differ only in how the quotient h is computed and committed to.

use ark_ff::{Field, One, PrimeField, Zero};
use ark_groth16::r1cs_to_qap::{evaluate_constraint, LibsnarkReduction, R1CSToQAP};
use ark_poly::EvaluationDomain;
use ark_relations::r1cs::{ConstraintMatrices, ConstraintSystemRef, SynthesisError};
use rayon::prelude::*;

pub struct CircomReduction;

/// A, B and C evaluated on the domain (rows past the constraints: the input-consistency
/// rows A = x_i, then zeros).
fn evaluations<F: PrimeField>(
    m: &ConstraintMatrices<F>,
    num_inputs: usize,
    num_constraints: usize,
    size: usize,
    w: &[F],
) -> (Vec<F>, Vec<F>, Vec<F>) {
    let mut a = vec![F::zero(); size];
    let mut b = vec![F::zero(); size];
    a[..num_constraints]
        .par_iter_mut()
        .zip(b[..num_constraints].par_iter_mut())
        .enumerate()
        .for_each(|(i, (ai, bi))| {
            *ai = evaluate_constraint(&m.a[i], w);
            *bi = evaluate_constraint(&m.b[i], w);
        });
    a[num_constraints..num_constraints + num_inputs].copy_from_slice(&w[..num_inputs]);
    let mut c = vec![F::zero(); size];
    c[..num_constraints]
        .par_iter_mut()
        .enumerate()
        .for_each(|(i, ci)| *ci = a[i] * b[i]);
    (a, b, c)
}

/// Move evaluations on D to evaluations on the odd points w^(2i+1): interpolate, scale the
/// i-th coefficient by w^i, evaluate on D again.
fn to_odd_points<F: PrimeField, D: EvaluationDomain<F>>(dom: &D, shift: F, v: &mut Vec<F>) {
    dom.ifft_in_place(v);
    D::distribute_powers_and_mul_by_const(v, shift, F::one());
    dom.fft_in_place(v);
}

impl R1CSToQAP for CircomReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &ConstraintMatrices<F>,
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let dom = D::new(num_constraints + num_inputs)
            .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let size = dom.size();
        let shift = D::new(2 * size)
            .ok_or(SynthesisError::PolynomialDegreeTooLarge)?
            .element(1);
        let (mut a, mut b, mut c) =
            evaluations(matrices, num_inputs, num_constraints, size, full_assignment);
        to_odd_points(&dom, shift, &mut a);
        to_odd_points(&dom, shift, &mut b);
        to_odd_points(&dom, shift, &mut c);
        // On the odd points Z(x) = x^n - 1 = -2 is constant; snarkjs folds that factor into
        // its H points, so the prover commits to A*B - C as is.
        a.par_iter_mut()
            .zip(b.par_iter())
            .zip(c.par_iter())
            .for_each(|((ai, bi), ci)| *ai = *ai * bi - ci);
        Ok(a)
    }

    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        _zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        // t^j / delta for j < 2n, interpolated over the domain of size 2n: the odd-indexed
        // results are the Lagrange basis of the odd points times Z(t) / delta.
        let len = 2 * max_power + 1;
        let chunk = len.div_ceil(rayon::current_num_threads()).max(1);
        let mut powers = vec![F::zero(); len];
        powers.par_chunks_mut(chunk).enumerate().for_each(|(k, part)| {
            let mut p = delta_inverse * t.pow([(k * chunk) as u64]);
            for x in part {
                *x = p;
                p *= t;
            }
        });
        let dom = D::new(powers.len()).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        dom.ifft_in_place(&mut powers);
        Ok(powers.into_iter().skip(1).step_by(2).collect())
    }
}

#[allow(dead_code)]
fn _assert_field<F: Field + Zero + One>() {}
