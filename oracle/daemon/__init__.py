"""The oracle daemon (`zkoracle serve`): watch the hub, prove, submit, never lose a request.

* `config` (+ `models_config`, `feeds_config`): the TOML configuration, validated on start;
* `policy`: which requests can be proven and are worth proving (fee, callback gas, expiry);
* `jobs` and `store`: the job state machine and its on-disk store (SQLite, WAL);
* `rpc`: bounded retries of reads (the hub binding itself lives in `oracle.hub`);
* `watcher`: request logs up to a confirmation depth, reorg detection and rewind;
* `fees` and `submitter`: nonces, EIP-1559 fees, replacement, receipts, reverts;
* `provers`: a pool of proving processes; `feeds`: data sources and the round policy;
* `metrics` and `logs`: Prometheus exposition, /health, JSON logs without secrets;
* `service`: the main loop tying them together.
"""
