//! Thread pools by size: `ZKORACLE_THREADS` (default: all cores) unless a call asks for a
//! count. Pools are kept, so asking for the same count again costs nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{NativeError, Result};

static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();

/// `ZKORACLE_THREADS` if set to a positive integer, else the number of cores.
pub fn default_threads() -> usize {
    std::env::var("ZKORACLE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn pool(n: usize) -> Result<Arc<ThreadPool>> {
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = pools.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = map.get(&n) {
        return Ok(p.clone());
    }
    let p = ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("zkoracle-prover-{i}"))
        .build()
        .map_err(|e| NativeError::Backend(format!("cannot start {n} prover threads: {e}")))?;
    let p = Arc::new(p);
    map.insert(n, p.clone());
    Ok(p)
}

/// Run `f` on a pool of `threads` threads (None: the default count).
pub fn run<R: Send>(threads: Option<usize>, f: impl FnOnce() -> R + Send) -> Result<R> {
    let n = threads.unwrap_or_else(default_threads).max(1);
    Ok(pool(n)?.install(f))
}
