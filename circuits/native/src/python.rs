//! The `circuits._native` module. Errors become the exception classes of
//! `circuits.errors` (all under `CircuitError`); the GIL is released while arkworks works.

use std::path::PathBuf;
use std::sync::Arc;

use ark_bn254::Fr;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::NativeError;
use crate::prover::{self, Key};
use crate::r1cs::{fr_from_le, witness_from_bytes};
use crate::threads;

fn raise(py: Python<'_>, e: NativeError) -> PyErr {
    let msg = e.to_string();
    let (class, args): (&str, Vec<String>) = match &e {
        NativeError::Io { path, source } => ("FormatError", vec![path.clone(), source.to_string()]),
        NativeError::Format { path, what } => ("FormatError", vec![path.clone(), what.clone()]),
        NativeError::Point { path, what } => ("InvalidPointError", vec![path.clone(), what.clone()]),
        NativeError::Corrupt { path, what } => ("CorruptKeyError", vec![path.clone(), what.clone()]),
        NativeError::Mismatch(m) => ("KeyMismatchError", vec![m.clone()]),
        NativeError::Witness(m) => ("WitnessError", vec![m.clone()]),
        NativeError::Backend(m) => ("BackendError", vec![m.clone()]),
    };
    let made = py
        .import("circuits.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(pyo3::types::PyTuple::new(py, args)?));
    match made {
        Ok(obj) => PyErr::from_value(obj),
        Err(_) => PyRuntimeError::new_err(msg),
    }
}

fn frs(data: &[u8], what: &str) -> PyResult<Vec<Fr>> {
    if data.len() % 32 != 0 {
        return Err(PyRuntimeError::new_err(format!("{what}: length not a multiple of 32")));
    }
    data.chunks_exact(32)
        .map(|c| fr_from_le(c).ok_or_else(|| PyRuntimeError::new_err(format!("{what}: value not below r"))))
        .collect()
}

/// A proving key and its circuit, loaded once and shared between threads.
#[pyclass(name = "ProvingKey", module = "circuits._native", frozen)]
struct PyKey(Arc<Key>);

#[pymethods]
impl PyKey {
    /// Load a key file (checked against its .sha256 file) for the circuit of `r1cs_path`.
    #[staticmethod]
    fn load(py: Python<'_>, pk_path: PathBuf, r1cs_path: PathBuf) -> PyResult<Self> {
        let key = py.allow_threads(|| threads::run(None, || Key::load(&pk_path, &r1cs_path)).and_then(|r| r));
        key.map(|k| PyKey(Arc::new(k))).map_err(|e| raise(py, e))
    }

    #[getter]
    fn n_wires(&self) -> usize {
        self.0.r1cs.n_wires
    }

    #[getter]
    fn n_public(&self) -> usize {
        self.0.r1cs.n_public
    }

    #[getter]
    fn n_constraints(&self) -> usize {
        self.0.r1cs.n_constraints()
    }

    #[getter]
    fn reduction(&self) -> &'static str {
        self.0.reduction.name()
    }

    /// The verifying key in EVM words (alpha, beta, gamma, delta, IC).
    fn vk_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &prover::vk_to_evm(&self.0.pk.vk))
    }

    /// The index of the first constraint the witness violates, or None.
    #[pyo3(signature = (witness, threads=None))]
    fn first_unsatisfied(&self, py: Python<'_>, witness: &[u8], threads: Option<usize>) -> PyResult<Option<usize>> {
        let key = self.0.clone();
        let out = py.allow_threads(|| {
            threads::run(threads, || {
                witness_from_bytes(witness, key.r1cs.n_wires).map(|w| key.r1cs.first_unsatisfied(&w))
            })
            .and_then(|r| r)
        });
        out.map_err(|e| raise(py, e))
    }

    /// A proof (256-byte EVM layout) from 32-byte little-endian wire values.
    #[pyo3(signature = (witness, threads=None))]
    fn prove<'py>(&self, py: Python<'py>, witness: &[u8], threads: Option<usize>) -> PyResult<Bound<'py, PyBytes>> {
        let key = self.0.clone();
        let out = py.allow_threads(|| {
            threads::run(threads, || {
                let w = witness_from_bytes(witness, key.r1cs.n_wires)?;
                key.prove(&w).map(|p| prover::proof_to_evm(&p))
            })
            .and_then(|r| r)
        });
        out.map(|b| PyBytes::new(py, &b)).map_err(|e| raise(py, e))
    }

    /// Whether the proof verifies for the public inputs (32-byte little-endian values).
    fn verify(&self, py: Python<'_>, public: &[u8], proof: &[u8]) -> PyResult<bool> {
        let public = frs(public, "public inputs")?;
        let key = self.0.clone();
        Ok(py.allow_threads(|| prover::proof_from_evm(proof).is_some_and(|p| key.verify(&public, &p))))
    }
}

/// Development setup: write the key file for the circuit and return the loaded key.
#[pyfunction]
#[pyo3(signature = (r1cs_path, pk_path, threads=None))]
fn setup(py: Python<'_>, r1cs_path: PathBuf, pk_path: PathBuf, threads: Option<usize>) -> PyResult<PyKey> {
    let key = py.allow_threads(|| threads::run(threads, || Key::setup(&r1cs_path, &pk_path)).and_then(|r| r));
    key.map(|k| PyKey(Arc::new(k))).map_err(|e| raise(py, e))
}

/// Import a snarkjs `.zkey` (every point checked) for the circuit; write our key file.
#[pyfunction]
fn import_zkey(py: Python<'_>, zkey_path: PathBuf, r1cs_path: PathBuf, pk_path: PathBuf) -> PyResult<PyKey> {
    let key = py.allow_threads(|| threads::run(None, || Key::import_zkey(&zkey_path, &r1cs_path, &pk_path)).and_then(|r| r));
    key.map(|k| PyKey(Arc::new(k))).map_err(|e| raise(py, e))
}

/// A verifier for a verifying key in EVM words; every point is checked.
#[pyclass(name = "Verifier", module = "circuits._native", frozen)]
struct PyVerifier(ark_groth16::PreparedVerifyingKey<ark_bn254::Bn254>);

#[pymethods]
impl PyVerifier {
    #[new]
    fn new(py: Python<'_>, vk: &[u8]) -> PyResult<Self> {
        match prover::vk_from_evm(vk) {
            Ok(vk) => Ok(PyVerifier(ark_groth16::prepare_verifying_key(&vk))),
            Err(m) => {
                let made = py
                    .import("circuits.errors")
                    .and_then(|e| e.getattr("VerificationInputError"))
                    .and_then(|c| c.call1((format!("malformed verifying key: {m}"),)));
                Err(made.map_or_else(|e| e, PyErr::from_value))
            }
        }
    }

    #[getter]
    fn n_public(&self) -> usize {
        self.0.vk.gamma_abc_g1.len() - 1
    }

    fn verify(&self, py: Python<'_>, public: &[u8], proof: &[u8]) -> PyResult<bool> {
        let public = frs(public, "public inputs")?;
        Ok(py.allow_threads(|| prover::proof_from_evm(proof).is_some_and(|p| prover::verify_prepared(&self.0, &public, &p))))
    }
}

#[pyfunction]
fn default_threads() -> usize {
    threads::default_threads()
}

#[pymodule]
#[pyo3(name = "_native")]
fn native_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKey>()?;
    m.add_class::<PyVerifier>()?;
    m.add_function(wrap_pyfunction!(setup, m)?)?;
    m.add_function(wrap_pyfunction!(import_zkey, m)?)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
