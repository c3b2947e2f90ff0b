//! Our proving-key file: raw Montgomery limbs, loaded without arithmetic or point checks,
//! protected by a sha256 stored beside it (`<file>.sha256`) and checked on every load.
//!
//! ```text
//!     "ZKOPK001"  u64 reduction (0 libsnark, 1 circom)  32 bytes sha256 of the .r1cs
//!     u64 counts of a, b_g1, b_g2, h, l, ic
//!     alpha_g1, beta_g1, delta_g1 (G1) beta_g2, gamma_g2, delta_g2 (G2)
//!     ic, a, b_g1 (G1) b_g2 (G2) h, l (G1)
//! ```

use std::path::Path;

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_groth16::{ProvingKey, VerifyingKey};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::container::Reader;
use crate::error::{io_error, NativeError, Result};
use crate::points::{g1_raw, g2_raw, put_g1_raw, put_g2_raw, G1_RAW, G2_RAW};

const MAGIC: &[u8; 8] = b"ZKOPK001";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// arkworks' default: keys made by our own setup.
    Libsnark,
    /// circom / snarkjs: keys imported from a `.zkey`.
    Circom,
}

impl Reduction {
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Libsnark => "libsnark",
            Reduction::Circom => "circom",
        }
    }
}

pub fn hash_path(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    s.into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn encode(pk: &ProvingKey<Bn254>, reduction: Reduction, r1cs_sha: &[u8; 32]) -> Vec<u8> {
    let vk = &pk.vk;
    let g1s = vk.gamma_abc_g1.len() + pk.a_query.len() + pk.b_g1_query.len() + pk.h_query.len()
        + pk.l_query.len();
    let mut out = Vec::with_capacity(128 + (g1s + 3) * G1_RAW + (pk.b_g2_query.len() + 3) * G2_RAW);
    out.extend(MAGIC);
    out.extend((reduction as u64).to_le_bytes());
    out.extend(r1cs_sha);
    for n in [
        pk.a_query.len(),
        pk.b_g1_query.len(),
        pk.b_g2_query.len(),
        pk.h_query.len(),
        pk.l_query.len(),
        vk.gamma_abc_g1.len(),
    ] {
        out.extend((n as u64).to_le_bytes());
    }
    for p in [&vk.alpha_g1, &pk.beta_g1, &pk.delta_g1] {
        put_g1_raw(p, &mut out);
    }
    for p in [&vk.beta_g2, &vk.gamma_g2, &vk.delta_g2] {
        put_g2_raw(p, &mut out);
    }
    for v in [&vk.gamma_abc_g1, &pk.a_query, &pk.b_g1_query] {
        v.iter().for_each(|p| put_g1_raw(p, &mut out));
    }
    pk.b_g2_query.iter().for_each(|p| put_g2_raw(p, &mut out));
    for v in [&pk.h_query, &pk.l_query] {
        v.iter().for_each(|p| put_g1_raw(p, &mut out));
    }
    out
}

/// Write the key and its hash file.
pub fn write(path: &Path, pk: &ProvingKey<Bn254>, reduction: Reduction, r1cs_sha: &[u8; 32]) -> Result<()> {
    let data = encode(pk, reduction, r1cs_sha);
    let digest = hex(&Sha256::digest(&data));
    std::fs::write(path, &data).map_err(|e| io_error(path, e))?;
    let hp = hash_path(path);
    std::fs::write(&hp, digest + "\n").map_err(|e| io_error(&hp, e))
}

fn g1_vec(rd: &mut Reader, n: usize) -> Result<Vec<G1Affine>> {
    let bytes = rd.take(n.checked_mul(G1_RAW).unwrap_or(usize::MAX))?;
    Ok(bytes.par_chunks_exact(G1_RAW).map(g1_raw).collect())
}

fn g2_vec(rd: &mut Reader, n: usize) -> Result<Vec<G2Affine>> {
    let bytes = rd.take(n.checked_mul(G2_RAW).unwrap_or(usize::MAX))?;
    Ok(bytes.par_chunks_exact(G2_RAW).map(g2_raw).collect())
}

/// A key file read back, with the reduction and circuit digest it was written with.
pub struct Loaded {
    pub pk: ProvingKey<Bn254>,
    pub reduction: Reduction,
    pub r1cs_sha: [u8; 32],
}

fn corrupt(path: &Path, what: impl Into<String>) -> NativeError {
    NativeError::Corrupt { path: path.display().to_string(), what: what.into() }
}

/// Read a key file after checking it against its hash file.
pub fn read(path: &Path) -> Result<Loaded> {
    let data = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let hp = hash_path(path);
    let want = std::fs::read_to_string(&hp)
        .map_err(|e| corrupt(path, format!("cannot read its hash file {}: {e}", hp.display())))?;
    if hex(&Sha256::digest(&data)) != want.trim() {
        return Err(corrupt(path, format!("content does not match the hash in {}: the file is corrupted or was changed", hp.display())));
    }
    let name = path.display().to_string();
    decode(&data, &name).map_err(|e| corrupt(path, e.to_string()))
}

fn decode(data: &[u8], name: &str) -> Result<Loaded> {
    let mut rd = Reader::new(data, name);
    if rd.take(8)? != MAGIC {
        return Err(crate::error::format_error(name, "not a zkoracle proving key (bad magic)"));
    }
    let reduction = match rd.u64()? {
        0 => Reduction::Libsnark,
        1 => Reduction::Circom,
        r => return Err(crate::error::format_error(name, format!("unknown reduction {r}"))),
    };
    let mut r1cs_sha = [0u8; 32];
    r1cs_sha.copy_from_slice(rd.take(32)?);
    let mut n = [0usize; 6];
    for slot in n.iter_mut() {
        *slot = usize::try_from(rd.u64()?).unwrap_or(usize::MAX);
    }
    let mut g1 = || -> Result<G1Affine> { Ok(g1_raw(rd.take(G1_RAW)?)) };
    let (alpha_g1, beta_g1, delta_g1) = (g1()?, g1()?, g1()?);
    let mut g2 = || -> Result<G2Affine> { Ok(g2_raw(rd.take(G2_RAW)?)) };
    let (beta_g2, gamma_g2, delta_g2) = (g2()?, g2()?, g2()?);
    let gamma_abc_g1 = g1_vec(&mut rd, n[5])?;
    let a_query = g1_vec(&mut rd, n[0])?;
    let b_g1_query = g1_vec(&mut rd, n[1])?;
    let b_g2_query = g2_vec(&mut rd, n[2])?;
    let h_query = g1_vec(&mut rd, n[3])?;
    let l_query = g1_vec(&mut rd, n[4])?;
    let vk = VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1 };
    let pk = ProvingKey { vk, beta_g1, delta_g1, a_query, b_g1_query, b_g2_query, h_query, l_query };
    Ok(Loaded { pk, reduction, r1cs_sha })
}
