//! snarkjs Groth16 `.zkey` files (ceremony keys) as arkworks proving keys.
//!
//! Every point is checked: coordinates below q, on the curve, in the prime-order subgroup
//! (G1 of BN254 has cofactor 1; G2 does not). Sections, all little-endian Montgomery form:
//! 2 header (q, r, n_vars, n_public, domain size, alpha1, beta1, beta2, gamma2, delta1,
//! delta2), 3 IC, 5 A, 6 B1, 7 B2, 8 C (private wires: arkworks' l query), 9 H. The
//! coefficients (4) are compared with the `.r1cs` by the Python side before import.

use ark_bn254::{Bn254, Fq, Fr, G1Affine, G2Affine};
use ark_ff::PrimeField;
use ark_groth16::{ProvingKey, VerifyingKey};
use rayon::prelude::*;

use crate::container::{Reader, Sections};
use crate::error::{format_error, point_error, Result};
use crate::points::{g1_from_zkey, g2_from_zkey, limbs_le};

/// What a zkey holds beyond the points: the sizes of its circuit.
pub struct Zkey {
    pub pk: ProvingKey<Bn254>,
    pub n_vars: usize,
    pub n_public: usize,
    pub domain_size: usize,
}

fn g1s(data: &[u8], n: usize, name: &str, path: &str) -> Result<Vec<G1Affine>> {
    if data.len() != n * 64 {
        return Err(format_error(path, format!("section {name} holds {} bytes, expected {}", data.len(), n * 64)));
    }
    let pts: Vec<_> = data.par_chunks_exact(64).map(|b| g1_from_zkey(b, true)).collect();
    pts.into_iter()
        .enumerate()
        .map(|(i, p)| p.map_err(|why| point_error(path, format!("{name}[{i}] {why}"))))
        .collect()
}

fn g2s(data: &[u8], n: usize, name: &str, path: &str) -> Result<Vec<G2Affine>> {
    if data.len() != n * 128 {
        return Err(format_error(path, format!("section {name} holds {} bytes, expected {}", data.len(), n * 128)));
    }
    let pts: Vec<_> = data.par_chunks_exact(128).map(|b| g2_from_zkey(b, true)).collect();
    pts.into_iter()
        .enumerate()
        .map(|(i, p)| p.map_err(|why| point_error(path, format!("{name}[{i}] {why}"))))
        .collect()
}

fn field_is(rd: &mut Reader, modulus: &[u64; 4]) -> Result<bool> {
    Ok(rd.u32()? == 32 && limbs_le(rd.take(32)?) == *modulus)
}

pub fn parse(data: &[u8], path: &str) -> Result<Zkey> {
    let secs = Sections::parse(data, b"zkey", path)?;
    let mut h1 = Reader::new(secs.get(1, "header")?, path);
    if h1.u32()? != 1 {
        return Err(format_error(path, "not a Groth16 key"));
    }
    let mut hd = Reader::new(secs.get(2, "Groth16 header")?, path);
    if !field_is(&mut hd, &Fq::MODULUS.0)? || !field_is(&mut hd, &Fr::MODULUS.0)? {
        return Err(format_error(path, "not a key over BN254"));
    }
    let (n_vars, n_public, domain_size) = (hd.u32()? as usize, hd.u32()? as usize, hd.u32()? as usize);
    if n_vars < n_public + 1 {
        return Err(format_error(path, "fewer variables than public inputs"));
    }
    let mut one_g1 = |name: &str| -> Result<G1Affine> {
        g1_from_zkey(hd.take(64)?, false).map_err(|why| point_error(path, format!("{name} {why}")))
    };
    let alpha_g1 = one_g1("alpha1")?;
    let beta_g1 = one_g1("beta1")?;
    let mut g2 = |name: &str| -> Result<G2Affine> {
        g2_from_zkey(hd.take(128)?, false).map_err(|why| point_error(path, format!("{name} {why}")))
    };
    let (beta_g2, gamma_g2) = (g2("beta2")?, g2("gamma2")?);
    let delta_g1 = g1_from_zkey(hd.take(64)?, false).map_err(|w| point_error(path, format!("delta1 {w}")))?;
    let delta_g2 = g2_from_zkey(hd.take(128)?, false).map_err(|w| point_error(path, format!("delta2 {w}")))?;
    let gamma_abc_g1 = g1s(secs.get(3, "IC")?, n_public + 1, "IC", path)?;
    let a_query = g1s(secs.get(5, "A")?, n_vars, "A", path)?;
    let b_g1_query = g1s(secs.get(6, "B1")?, n_vars, "B1", path)?;
    let b_g2_query = g2s(secs.get(7, "B2")?, n_vars, "B2", path)?;
    let l_query = g1s(secs.get(8, "C")?, n_vars - n_public - 1, "C", path)?;
    let h_query = g1s(secs.get(9, "H")?, domain_size, "H", path)?;
    let vk = VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1 };
    let pk = ProvingKey { vk, beta_g1, delta_g1, a_query, b_g1_query, b_g2_query, h_query, l_query };
    Ok(Zkey { pk, n_vars, n_public, domain_size })
}
