//! Groth16 over BN254 for zkoracle: glue between iden3 files and arkworks.
//!
//! * `r1cs`, `zkey`, `container`: the iden3 / snarkjs files;
//! * `keyfile`: our proving-key file (fast to load, hash-protected);
//! * `setup`, `reduction`, `prover`: arkworks' generator and prover, with arkworks' own or
//!   circom's QAP reduction;
//! * `proof`, `msm`, `large_msm`: arkworks' proof computation with the witness MSMs split by
//!   scalar size and the full-size ones done by halo2curves;
//! * `python` (feature `python`): the `circuits._native` extension module.

pub mod container;
pub mod error;
pub mod keyfile;
pub mod large_msm;
pub mod msm;
pub mod points;
pub mod proof;
pub mod prover;
pub mod r1cs;
pub mod reduction;
pub mod setup;
pub mod threads;
pub mod zkey;

#[cfg(feature = "python")]
mod python;

#[cfg(test)]
mod tests;
