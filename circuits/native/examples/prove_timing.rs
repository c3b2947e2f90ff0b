//! Where proving time goes: `cargo run --release --example prove_timing --features timing
//! -- proving_key.bin circuit.r1cs witness.bin [threads]`, where
//! witness.bin holds 32 little-endian bytes per wire.

use std::path::Path;
use std::time::Instant;

use zkoracle_native::prover::Key;
use zkoracle_native::r1cs::witness_from_bytes;
use zkoracle_native::threads;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err("usage: prove_timing PK R1CS WITNESS [THREADS]".into());
    }
    let n: Option<usize> = args.get(4).and_then(|t| t.parse().ok());
    let t0 = Instant::now();
    let key = threads::run(n, || Key::load(Path::new(&args[1]), Path::new(&args[2])))??;
    println!("load {:?}", t0.elapsed());
    let data = std::fs::read(&args[3])?;
    let w = witness_from_bytes(&data, key.r1cs.n_wires)?;
    for _ in 0..2 {
        let t0 = Instant::now();
        threads::run(n, || key.prove(&w))??;
        println!("prove {:?}", t0.elapsed());
    }
    Ok(())
}
