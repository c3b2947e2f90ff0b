//! Development setup (one machine draws and drops the toxic waste) from an `.r1cs`.
//!
//! arkworks' generator synthesises a circuit; ours replays the file's constraints over
//! variables laid out in wire order (public inputs as instance variables, the rest as
//! witnesses), so the key's columns are the file's wires.

use ark_bn254::{Bn254, Fr};
use ark_ff::Zero;
use ark_groth16::{Groth16, ProvingKey};
use ark_relations::r1cs::{
    ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError, Variable,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::error::{NativeError, Result};
use crate::r1cs::R1cs;
use crate::reduction::CircomReduction;

struct MatrixCircuit<'a>(&'a R1cs);

impl ConstraintSynthesizer<Fr> for MatrixCircuit<'_> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> std::result::Result<(), SynthesisError> {
        let r = self.0;
        let mut vars = Vec::with_capacity(r.n_wires);
        vars.push(Variable::One);
        for _ in 0..r.n_public {
            vars.push(cs.new_input_variable(|| Ok(Fr::zero()))?);
        }
        for _ in r.n_public + 1..r.n_wires {
            vars.push(cs.new_witness_variable(|| Ok(Fr::zero()))?);
        }
        let lc = |row: &[(Fr, usize)]| LinearCombination(row.iter().map(|(k, w)| (*k, vars[*w])).collect());
        let m = &r.matrices;
        for i in 0..m.num_constraints {
            cs.enforce_constraint(lc(&m.a[i]), lc(&m.b[i]), lc(&m.c[i]))?;
        }
        Ok(())
    }
}

/// A fresh key for the circuit, for snarkjs' QAP reduction: its prover needs six FFTs where
/// arkworks' default needs seven (the H points are already divided by Z on the odd points).
pub fn development_key(r1cs: &R1cs) -> Result<ProvingKey<Bn254>> {
    let mut rng = StdRng::from_entropy();
    Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(MatrixCircuit(r1cs), &mut rng)
        .map_err(|e| NativeError::Backend(format!("setup failed: {e}")))
}
