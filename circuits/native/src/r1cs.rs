//! iden3 `.r1cs` files (version 1) as arkworks constraint matrices.
//!
//! Wire order is the iden3 one, which is also arkworks' column order for a circuit whose
//! instance variables come first: wire 0 is the constant 1, wires 1..=n_public the public
//! inputs, the rest private. A column index is therefore the wire index.

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField, Zero};
use ark_relations::r1cs::ConstraintMatrices;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::container::{Reader, Sections};
use crate::error::{format_error, NativeError, Result};

const MAGIC: &[u8; 4] = b"r1cs";

/// A constraint system read from an `.r1cs` file.
pub struct R1cs {
    pub n_wires: usize,
    pub n_public: usize,
    pub matrices: ConstraintMatrices<Fr>,
    /// sha256 of the file, to tie proving keys to the circuit they were made for.
    pub sha256: [u8; 32],
}

/// A field element from 32 little-endian bytes in standard form; None if not below r.
pub fn fr_from_le(bytes: &[u8]) -> Option<Fr> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        *limb = u64::from_le_bytes(w);
    }
    Fr::from_bigint(BigInt::new(limbs))
}

fn read_lc(rd: &mut Reader, n_wires: usize, row: usize, path: &str) -> Result<Vec<(Fr, usize)>> {
    let n = rd.u32()? as usize;
    if n > rd.remaining() / 36 {
        return Err(format_error(path, format!("constraint {row} claims {n} terms: truncated")));
    }
    let mut terms = Vec::with_capacity(n);
    for _ in 0..n {
        let wire = rd.u32()? as usize;
        if wire >= n_wires {
            let what = format!("constraint {row} uses wire {wire} >= n_wires {n_wires}");
            return Err(format_error(path, what));
        }
        let k = fr_from_le(rd.take(32)?).ok_or_else(|| {
            format_error(path, format!("constraint {row}: coefficient not reduced modulo r"))
        })?;
        if !k.is_zero() {
            terms.push((k, wire));
        }
    }
    Ok(terms)
}

impl R1cs {
    pub fn parse(data: &[u8], path: &str) -> Result<Self> {
        let secs = Sections::parse(data, MAGIC, path)?;
        let mut hd = Reader::new(secs.get(1, "header")?, path);
        if hd.u32()? != 32 || fr_modulus_bytes() != hd.take(32)? {
            return Err(format_error(path, "the field is not the BN254 scalar field"));
        }
        let n_wires = hd.u32()? as usize;
        let n_public = hd.u32()? as usize + hd.u32()? as usize;
        let _n_prv_in = hd.u32()?;
        let _n_labels = hd.u64()?;
        let m = hd.u32()? as usize;
        if n_wires < n_public + 1 {
            return Err(format_error(path, "fewer wires than public inputs"));
        }
        let mut rd = Reader::new(secs.get(2, "constraints")?, path);
        if m > rd.remaining() / 12 {
            return Err(format_error(path, format!("header claims {m} constraints: truncated")));
        }
        let (mut a, mut b, mut c) = (Vec::with_capacity(m), Vec::with_capacity(m), Vec::with_capacity(m));
        for row in 0..m {
            a.push(read_lc(&mut rd, n_wires, row, path)?);
            b.push(read_lc(&mut rd, n_wires, row, path)?);
            c.push(read_lc(&mut rd, n_wires, row, path)?);
        }
        let count = |mat: &Vec<Vec<(Fr, usize)>>| mat.iter().map(Vec::len).sum();
        let matrices = ConstraintMatrices {
            num_instance_variables: n_public + 1,
            num_witness_variables: n_wires - n_public - 1,
            num_constraints: m,
            a_num_non_zero: count(&a),
            b_num_non_zero: count(&b),
            c_num_non_zero: count(&c),
            a,
            b,
            c,
        };
        let sha256 = Sha256::digest(data).into();
        Ok(R1cs { n_wires, n_public, matrices, sha256 })
    }

    pub fn read(path: &std::path::Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(|e| crate::error::io_error(path, e))?;
        Self::parse(&data, &path.display().to_string())
    }

    pub fn n_constraints(&self) -> usize {
        self.matrices.num_constraints
    }

    /// The index of the first constraint the assignment violates, if any.
    pub fn first_unsatisfied(&self, w: &[Fr]) -> Option<usize> {
        let dot = |lc: &[(Fr, usize)]| lc.iter().map(|(k, i)| *k * w[*i]).sum::<Fr>();
        let m = &self.matrices;
        (0..m.num_constraints)
            .into_par_iter()
            .find_first(|&i| dot(&m.a[i]) * dot(&m.b[i]) != dot(&m.c[i]))
    }
}

fn fr_modulus_bytes() -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    for limb in Fr::MODULUS.0 {
        out.extend(limb.to_le_bytes());
    }
    out
}

/// Field elements from a buffer of 32-byte little-endian values, checked to be below r.
pub fn witness_from_bytes(data: &[u8], n_wires: usize) -> Result<Vec<Fr>> {
    if data.len() != n_wires * 32 {
        return Err(NativeError::Witness(format!(
            "witness has {} bytes ({} values), the circuit has {n_wires} wires ({} bytes)",
            data.len(),
            data.len() as f64 / 32.0,
            n_wires * 32
        )));
    }
    let values: Vec<Option<Fr>> = data.par_chunks(32).map(fr_from_le).collect();
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.ok_or_else(|| NativeError::Witness(format!("witness value #{i} is not below r")))
        })
        .collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// An .r1cs file for x * x = y with y public (wires: 1, y, x) and a spare constraint
    /// x * 1 = x, as our writer lays it out.
    pub fn square_r1cs() -> Vec<u8> {
        let one = {
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        };
        let lc = |w: u32| {
            let mut v = 1u32.to_le_bytes().to_vec();
            v.extend(w.to_le_bytes());
            v.extend(one);
            v
        };
        let mut header = 32u32.to_le_bytes().to_vec();
        header.extend(fr_modulus_bytes());
        for x in [3u32, 0, 1, 1] {
            header.extend(x.to_le_bytes());
        }
        header.extend(3u64.to_le_bytes());
        header.extend(2u32.to_le_bytes());
        let mut cons = [lc(2), lc(2), lc(1)].concat();
        cons.extend([lc(2), lc(0), lc(2)].concat());
        let mut out = b"r1cs".to_vec();
        out.extend(1u32.to_le_bytes());
        out.extend(2u32.to_le_bytes());
        for (kind, payload) in [(1u32, header), (2, cons)] {
            out.extend(kind.to_le_bytes());
            out.extend((payload.len() as u64).to_le_bytes());
            out.extend(payload);
        }
        out
    }

    pub fn fr_bytes(values: &[u64]) -> Vec<u8> {
        values.iter().flat_map(|v| {
            let mut b = v.to_le_bytes().to_vec();
            b.resize(32, 0);
            b
        }).collect()
    }

    #[test]
    fn parses_and_checks_assignments() {
        let r = R1cs::parse(&square_r1cs(), "sq.r1cs").unwrap();
        assert_eq!((r.n_wires, r.n_public, r.n_constraints()), (3, 1, 2));
        let good = witness_from_bytes(&fr_bytes(&[1, 9, 3]), 3).unwrap();
        assert_eq!(r.first_unsatisfied(&good), None);
        let bad = witness_from_bytes(&fr_bytes(&[1, 10, 3]), 3).unwrap();
        assert_eq!(r.first_unsatisfied(&bad), Some(0));
    }

    #[test]
    fn rejects_bad_witnesses() {
        assert!(witness_from_bytes(&fr_bytes(&[1, 9]), 3).is_err());
        let mut big = fr_bytes(&[1, 9, 3]);
        big[64..96].copy_from_slice(&[0xff; 32]);
        let err = witness_from_bytes(&big, 3).unwrap_err().to_string();
        assert!(err.contains("#2"), "{err}");
    }

    #[test]
    fn rejects_bad_files() {
        let data = square_r1cs();
        for cut in [10, 50, data.len() - 3] {
            assert!(R1cs::parse(&data[..cut], "sq.r1cs").is_err());
        }
        let mut wrong_wire = data.clone();
        let at = data.len() - 36; // the last term's wire index
        wrong_wire[at..at + 4].copy_from_slice(&7u32.to_le_bytes());
        let err = R1cs::parse(&wrong_wire, "sq.r1cs").err().unwrap().to_string();
        assert!(err.contains("wire 7"), "{err}");
    }
}
