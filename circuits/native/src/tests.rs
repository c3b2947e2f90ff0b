//! End-to-end tests of the Rust core: setup, key file, prove with both reductions, verify.

use ark_bn254::{Bn254, Fr};
use ark_groth16::{r1cs_to_qap::LibsnarkReduction, Groth16};
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, LinearCombination, Variable};
use ark_std::UniformRand;

use crate::error::NativeError;
use crate::keyfile::{self, Reduction};
use crate::prover::{proof_from_evm, proof_to_evm, vk_from_evm, vk_to_evm, Key};
use crate::r1cs::tests::{fr_bytes, square_r1cs};
use crate::r1cs::{witness_from_bytes, R1cs};
use crate::reduction::CircomReduction;

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("zkoracle-native-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn square_key(dir: &std::path::Path) -> Key {
    std::fs::write(dir.join("c.r1cs"), square_r1cs()).unwrap();
    Key::setup(&dir.join("c.r1cs"), &dir.join("pk.bin")).unwrap()
}

#[test]
fn setup_prove_verify_and_reload() {
    let dir = tmp("roundtrip");
    let key = square_key(&dir);
    let w = witness_from_bytes(&fr_bytes(&[1, 9, 3]), 3).unwrap();
    let proof = key.prove(&w).unwrap();
    assert!(key.verify(&[Fr::from(9u8)], &proof));
    assert!(!key.verify(&[Fr::from(10u8)], &proof));
    let again = Key::load(&dir.join("pk.bin"), &dir.join("c.r1cs")).unwrap();
    assert_eq!(again.pk, key.pk);
    let bytes = proof_to_evm(&again.prove(&w).unwrap());
    let parsed = proof_from_evm(&bytes).unwrap();
    let vk = vk_from_evm(&vk_to_evm(&key.pk.vk)).unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&vk);
    assert!(crate::prover::verify_prepared(&pvk, &[Fr::from(9u8)], &parsed));
    let mut tampered = bytes.clone();
    tampered[10] ^= 1;
    assert!(proof_from_evm(&tampered).map_or(true, |p| !key.verify(&[Fr::from(9u8)], &p)));
}

#[test]
fn proofs_are_rerandomized_bare_proofs() {
    let dir = tmp("rerandomized");
    let key = square_key(&dir);
    let w = witness_from_bytes(&fr_bytes(&[1, 9, 3]), 3).unwrap();
    let m = &key.r1cs.matrices;
    let zero = Fr::from(0u8);
    assert!(matches!(key.reduction, Reduction::Circom), "development keys use snarkjs' reduction");
    let bare = crate::proof::create_proof::<CircomReduction>(&key.pk, (zero, zero), m, m.num_instance_variables, &w).unwrap();
    assert!(key.verify(&[Fr::from(9u8)], &bare));
    let (p, q) = (key.prove(&w).unwrap(), key.prove(&w).unwrap());
    for proof in [&p, &q] {
        assert!(key.verify(&[Fr::from(9u8)], proof));
        assert!(proof.a != bare.a && proof.b != bare.b && proof.c != bare.c, "a proof must not reveal the bare one");
    }
    assert!(p.a != q.a && p.b != q.b && p.c != q.c, "two proofs of one witness must share no point");
}

#[test]
fn corrupted_or_foreign_key_files_are_refused() {
    let dir = tmp("corrupt");
    square_key(&dir);
    let pk = dir.join("pk.bin");
    let mut data = std::fs::read(&pk).unwrap();
    data[200] ^= 1;
    std::fs::write(dir.join("bad.bin"), &data).unwrap();
    std::fs::copy(keyfile::hash_path(&pk), keyfile::hash_path(&dir.join("bad.bin"))).unwrap();
    let err = Key::load(&dir.join("bad.bin"), &dir.join("c.r1cs")).err().unwrap();
    assert!(matches!(err, NativeError::Corrupt { .. }), "{err}");
    std::fs::write(dir.join("cut.bin"), &data[..100]).unwrap();
    assert!(Key::load(&dir.join("cut.bin"), &dir.join("c.r1cs")).is_err());
    // Another circuit: same shape, another coefficient.
    let mut other = square_r1cs();
    let n = other.len();
    other[n - 32] = 2;
    std::fs::write(dir.join("other.r1cs"), other).unwrap();
    let err = Key::load(&pk, &dir.join("other.r1cs")).err().unwrap();
    assert!(matches!(err, NativeError::Mismatch(_)), "{err}");
}

struct Square(Fr);

impl ConstraintSynthesizer<Fr> for Square {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let y = cs.new_input_variable(|| Ok(self.0 * self.0))?;
        let x = cs.new_witness_variable(|| Ok(self.0))?;
        let lc = |v: Variable| LinearCombination::from(v);
        cs.enforce_constraint(lc(x), lc(x), lc(y))?;
        cs.enforce_constraint(lc(x), lc(Variable::One), lc(x))?;
        Ok(())
    }
}

#[test]
fn circom_reduction_proofs_verify_under_circom_keys_only() {
    let mut rng = ark_std::test_rng();
    let r1cs = R1cs::parse(&square_r1cs(), "sq.r1cs").unwrap();
    let circom_pk = Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(Square(Fr::from(0u8)), &mut rng).unwrap();
    let libsnark_pk = Groth16::<Bn254, LibsnarkReduction>::generate_random_parameters_with_reduction(Square(Fr::from(0u8)), &mut rng).unwrap();
    let x = Fr::rand(&mut rng);
    let w = vec![Fr::from(1u8), x * x, x];
    let make = |pk, reduction| {
        let pvk = ark_groth16::prepare_verifying_key(&ark_groth16::ProvingKey::<Bn254>::clone(&pk).vk);
        Key { pk, pvk, r1cs: R1cs::parse(&square_r1cs(), "sq.r1cs").unwrap(), reduction }
    };
    let good = make(circom_pk.clone(), Reduction::Circom);
    assert!(good.verify(&[x * x], &good.prove(&w).unwrap()));
    let wrong = make(circom_pk, Reduction::Libsnark);
    assert!(!wrong.verify(&[x * x], &wrong.prove(&w).unwrap()));
    let lib = make(libsnark_pk, Reduction::Libsnark);
    assert!(lib.verify(&[x * x], &lib.prove(&w).unwrap()));
    drop(r1cs);
}

/// A witness like a zkML circuit's: the bits of a value, small negatives, large values.
struct Mixed(Vec<Fr>);

impl ConstraintSynthesizer<Fr> for Mixed {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let out = cs.new_input_variable(|| Ok(self.0.iter().map(|v| *v * v).sum()))?;
        let mut sum = LinearCombination::zero();
        for v in self.0 {
            let x = cs.new_witness_variable(|| Ok(v))?;
            let sq = cs.new_witness_variable(|| Ok(v * v))?;
            cs.enforce_constraint(x.into(), x.into(), sq.into())?;
            sum = sum + sq;
        }
        cs.enforce_constraint(sum, Variable::One.into(), out.into())
    }
}

#[test]
fn split_msm_proofs_equal_arkworks_proofs() {
    let mut rng = ark_std::test_rng();
    let values: Vec<Fr> = (0..300u64)
        .map(|i| match i % 5 {
            0 => Fr::from(i % 2),
            1 => -Fr::from(i),
            2 => Fr::from(i << 40),
            3 => Fr::rand(&mut rng),
            _ => Fr::from(0u8),
        })
        .collect();
    let cs = ark_relations::r1cs::ConstraintSystem::<Fr>::new_ref();
    Mixed(values.clone()).generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    assert!(cs.is_satisfied().unwrap());
    let m = cs.to_matrices().unwrap();
    let full = {
        let cs = cs.borrow().unwrap();
        [cs.instance_assignment.clone(), cs.witness_assignment.clone()].concat()
    };
    let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let ni = m.num_instance_variables;
    let nc = m.num_constraints;
    let pk = Groth16::<Bn254, LibsnarkReduction>::generate_random_parameters_with_reduction(Mixed(values.clone()), &mut rng).unwrap();
    for (r, s) in [(r, s), (Fr::from(0u8), Fr::from(0u8))] {
        let ours = crate::proof::create_proof::<LibsnarkReduction>(&pk, (r, s), &m, ni, &full).unwrap();
        let theirs = Groth16::<Bn254, LibsnarkReduction>::create_proof_with_reduction_and_matrices(&pk, r, s, &m, ni, nc, &full).unwrap();
        assert_eq!(ours, theirs);
    }
    let pk = Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(Mixed(values), &mut rng).unwrap();
    let ours = crate::proof::create_proof::<CircomReduction>(&pk, (r, s), &m, ni, &full).unwrap();
    let theirs = Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(&pk, r, s, &m, ni, nc, &full).unwrap();
    assert_eq!(ours, theirs);
    let pvk = ark_groth16::prepare_verifying_key(&pk.vk);
    assert!(crate::prover::verify_prepared(&pvk, &full[1..ni], &ours));
}
