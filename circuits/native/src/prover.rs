//! A proving key tied to its constraint system: load once, prove many times.

use std::path::Path;

use ark_bn254::{Bn254, Fr};
use ark_ec::AffineRepr;
use ark_groth16::r1cs_to_qap::LibsnarkReduction;
use ark_groth16::{prepare_verifying_key, Groth16, PreparedVerifyingKey, Proof, ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};

use crate::error::{io_error, NativeError, Result};
use crate::keyfile::{self, Reduction};
use crate::points::{g1_from_evm, g1_to_evm, g2_from_evm, g2_to_evm};
use crate::r1cs::R1cs;
use crate::reduction::CircomReduction;
use crate::{proof, setup, zkey};

pub struct Key {
    pub pk: ProvingKey<Bn254>,
    pub pvk: PreparedVerifyingKey<Bn254>,
    pub r1cs: R1cs,
    pub reduction: Reduction,
}

fn domain_size(r: &R1cs) -> usize {
    GeneralEvaluationDomain::<Fr>::new(r.n_constraints() + r.n_public + 1).map_or(0, |d| d.size())
}

/// Refuse a key whose sizes are not those of the circuit: it was made for another one.
fn check_sizes(pk: &ProvingKey<Bn254>, r: &R1cs, what: &str) -> Result<()> {
    let n_private = r.n_wires - r.n_public - 1;
    let d = domain_size(r);
    let ok = pk.vk.gamma_abc_g1.len() == r.n_public + 1
        && pk.a_query.len() == r.n_wires
        && pk.b_g1_query.len() == r.n_wires
        && pk.b_g2_query.len() == r.n_wires
        && pk.l_query.len() == n_private
        && (pk.h_query.len() == d || pk.h_query.len() + 1 == d);
    if ok {
        return Ok(());
    }
    Err(NativeError::Mismatch(format!(
        "{what} was made for another circuit: it has {} public inputs, {} wires and {} H points; \
         the circuit has {} public inputs, {} wires and a domain of {d}",
        pk.vk.gamma_abc_g1.len().saturating_sub(1),
        pk.a_query.len(),
        pk.h_query.len(),
        r.n_public,
        r.n_wires,
    )))
}

impl Key {
    fn new(pk: ProvingKey<Bn254>, r1cs: R1cs, reduction: Reduction) -> Self {
        let pvk = prepare_verifying_key(&pk.vk);
        Key { pk, pvk, r1cs, reduction }
    }

    /// Development setup for the circuit; writes the key file (and its hash file).
    pub fn setup(r1cs_path: &Path, pk_path: &Path) -> Result<Self> {
        let r1cs = R1cs::read(r1cs_path)?;
        let pk = setup::development_key(&r1cs)?;
        keyfile::write(pk_path, &pk, Reduction::Circom, &r1cs.sha256)?;
        Ok(Key::new(pk, r1cs, Reduction::Circom))
    }

    /// Adopt a snarkjs `.zkey` (every point checked) and write it in our format.
    pub fn import_zkey(zkey_path: &Path, r1cs_path: &Path, pk_path: &Path) -> Result<Self> {
        let r1cs = R1cs::read(r1cs_path)?;
        let data = std::fs::read(zkey_path).map_err(|e| io_error(zkey_path, e))?;
        let name = zkey_path.display().to_string();
        let z = zkey::parse(&data, &name)?;
        if (z.n_vars, z.n_public, z.domain_size) != (r1cs.n_wires, r1cs.n_public, domain_size(&r1cs)) {
            return Err(NativeError::Mismatch(format!(
                "{name} was made for another circuit: {} variables, {} public inputs, domain {}; \
                 {} has {} wires, {} public inputs, domain {}",
                z.n_vars, z.n_public, z.domain_size, r1cs_path.display(), r1cs.n_wires, r1cs.n_public,
                domain_size(&r1cs)
            )));
        }
        keyfile::write(pk_path, &z.pk, Reduction::Circom, &r1cs.sha256)?;
        Ok(Key::new(z.pk, r1cs, Reduction::Circom))
    }

    /// Load a key file written by `setup` or `import_zkey` for this `.r1cs`.
    pub fn load(pk_path: &Path, r1cs_path: &Path) -> Result<Self> {
        let loaded = keyfile::read(pk_path)?;
        let r1cs = R1cs::read(r1cs_path)?;
        if loaded.r1cs_sha != r1cs.sha256 {
            return Err(NativeError::Mismatch(format!(
                "{} was made for another circuit than {} (the circuit digests differ)",
                pk_path.display(),
                r1cs_path.display()
            )));
        }
        check_sizes(&loaded.pk, &r1cs, &pk_path.display().to_string())?;
        Ok(Key::new(loaded.pk, r1cs, loaded.reduction))
    }

    /// A proof from a full assignment (wire 0 first). No check before or after: callers
    /// check the witness with `R1cs::first_unsatisfied` and verify the proof.
    pub fn prove(&self, w: &[Fr]) -> Result<Proof<Bn254>> {
        if w.len() != self.r1cs.n_wires {
            return Err(NativeError::Witness(format!(
                "witness has {} values, the circuit has {} wires",
                w.len(),
                self.r1cs.n_wires
            )));
        }
        let mut rng = rand::thread_rng();
        let m = &self.r1cs.matrices;
        let ni = m.num_instance_variables;
        let out = match self.reduction {
            Reduction::Libsnark => proof::create_random_proof::<LibsnarkReduction>(&self.pk, m, ni, w, &mut rng),
            Reduction::Circom => proof::create_random_proof::<CircomReduction>(&self.pk, m, ni, w, &mut rng),
        };
        out.map_err(|e| NativeError::Backend(format!("proving failed: {e}")))
    }

    pub fn verify(&self, public: &[Fr], proof: &Proof<Bn254>) -> bool {
        verify_prepared(&self.pvk, public, proof)
    }
}

pub fn verify_prepared(pvk: &PreparedVerifyingKey<Bn254>, public: &[Fr], proof: &Proof<Bn254>) -> bool {
    public.len() + 1 == pvk.vk.gamma_abc_g1.len()
        && Groth16::<Bn254>::verify_proof(pvk, proof, public).unwrap_or(false)
}

/// The 256-byte EVM layout of a proof.
pub fn proof_to_evm(p: &Proof<Bn254>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    g1_to_evm(&p.a, &mut out);
    g2_to_evm(&p.b, &mut out);
    g1_to_evm(&p.c, &mut out);
    out
}

/// A proof from its EVM layout, every point checked; None if any is not a group element.
pub fn proof_from_evm(b: &[u8]) -> Option<Proof<Bn254>> {
    if b.len() != 256 {
        return None;
    }
    let a = g1_from_evm(&b[..64]).ok()?;
    let bb = g2_from_evm(&b[64..192]).ok()?;
    let c = g1_from_evm(&b[192..]).ok()?;
    Some(Proof { a, b: bb, c })
}

/// The verifying key in EVM words: alpha (2), beta (4), gamma (4), delta (4), IC (2 each).
pub fn vk_to_evm(vk: &VerifyingKey<Bn254>) -> Vec<u8> {
    let mut out = Vec::new();
    g1_to_evm(&vk.alpha_g1, &mut out);
    for p in [&vk.beta_g2, &vk.gamma_g2, &vk.delta_g2] {
        g2_to_evm(p, &mut out);
    }
    vk.gamma_abc_g1.iter().for_each(|p| g1_to_evm(p, &mut out));
    out
}

/// A verifying key from EVM words, every point checked.
pub fn vk_from_evm(b: &[u8]) -> std::result::Result<VerifyingKey<Bn254>, String> {
    if b.len() < 14 * 32 + 64 || (b.len() - 14 * 32) % 64 != 0 {
        return Err(format!("a verifying key is 14 + 2k words, got {} bytes", b.len()));
    }
    let g2 = |i: usize, name: &str| g2_from_evm(&b[64 + 128 * i..192 + 128 * i]).map_err(|w| format!("{name} {w}"));
    let alpha_g1 = g1_from_evm(&b[..64]).map_err(|w| format!("alpha {w}"))?;
    let (beta_g2, gamma_g2, delta_g2) = (g2(0, "beta")?, g2(1, "gamma")?, g2(2, "delta")?);
    let gamma_abc_g1 = b[14 * 32..]
        .chunks_exact(64)
        .enumerate()
        .map(|(i, c)| g1_from_evm(c).map_err(|w| format!("IC[{i}] {w}")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if gamma_abc_g1.iter().any(|p| p.is_zero()) {
        return Err("an IC point is the point at infinity".into());
    }
    Ok(VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1 })
}
