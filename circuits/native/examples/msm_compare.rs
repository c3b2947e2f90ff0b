//! arkworks' MSM against the one the prover uses for full-size scalars (halo2curves'), on
//! random points and scalars: `cargo run --release --example msm_compare -- [LOG2] [THREADS]`.

use std::time::{Duration, Instant};

use ark_bn254::{Fr, G1Projective, G2Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::PrimeField;
use ark_std::UniformRand;
use rayon::prelude::*;
use zkoracle_native::large_msm::{LargeMsm, HALO2_FROM};
use zkoracle_native::threads;

fn best<T>(f: impl Fn() -> T) -> (T, Duration) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        out = Some(f());
        fastest = fastest.min(t.elapsed());
    }
    (out.expect("three runs"), fastest)
}

fn compare<G: CurveGroup<ScalarField = Fr> + LargeMsm>(name: &str, n: usize) {
    let mut rng = ark_std::test_rng();
    let g = G::rand(&mut rng);
    let ks: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let bases = G::normalize_batch(&ks.par_iter().map(|k| g * k).collect::<Vec<_>>());
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
    let (ark, t_ark) = best(|| <G as VariableBaseMSM>::msm_bigint(&bases, &bigints));
    let (ours, t_ours) = best(|| G::large_msm(&bases, &scalars));
    assert_eq!(ark, ours, "{name}: the two MSMs disagree");
    println!("{name} 2^{}: arkworks {t_ark:.2?}, large_msm {t_ours:.2?}", n.trailing_zeros());
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let log2: u32 = args.get(1).map_or(Ok(16), |s| s.parse())?;
    let n_threads: Option<usize> = args.get(2).map(|s| s.parse()).transpose()?;
    println!("large_msm uses halo2curves from {HALO2_FROM} points; best of 3 runs");
    threads::run(n_threads, || {
        compare::<G1Projective>("G1", 1 << log2);
        compare::<G2Projective>("G2", 1 << log2);
    })?;
    Ok(())
}
