"""Proving on a Ray cluster: model artifacts shipped through the object store, prover
actors that keep their models loaded, and the pool the daemon and `prove-batch` drive.

* `artifacts`: a model directory packed into one blob with the digest of every file, and
  unpacked once per node into a local cache after every digest and the manifest's own
  hashes are checked;
* `actor`: `ProverActor`, the code a prover actor runs (plain Python, made a Ray actor by
  the bridge);
* `bridge`: the process that is the Ray driver: it connects to the cluster, places the
  actors and forwards proof tasks and results. It is a process of its own so that a
  cluster that goes away can take it down without taking the daemon with it;
* `pool`: `RayProverPool`, the daemon-side pool with the interface of the local
  `oracle.daemon.provers.ProverPool`, which supervises the bridge, parks the jobs of a lost
  actor or a lost cluster and reconnects.

Ray is an optional extra (``pip install 'zkoracle[ray]'``); nothing here imports it at module
level except `bridge` and `actor`'s remote parts, which run only where Ray is installed.
"""
