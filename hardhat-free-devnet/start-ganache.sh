#!/usr/bin/env bash
# Start Ganache 7 on 127.0.0.1 in the background (hardfork shanghai), with the standard
# test mnemonic's 10 funded accounts; return once its RPC answers.
#
#   ./start-ganache.sh [PORT]    PORT defaults to $GANACHE_PORT, else 8546
#
# Environment: GANACHE_CHAIN_ID (1337), WAIT_SECONDS (30).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_node-common.sh"

port="${1:-${GANACHE_PORT:-8546}}"
cli="$DEVNET_DIR/node_modules/ganache/dist/node/cli.js"
require_node_modules
if [ ! -f "$cli" ]; then
  echo "error: Ganache not found at $cli: run 'npm ci' in $DEVNET_DIR" >&2
  exit 1
fi
start_node ganache "$port" ganache \
  node "$cli" --server.host 127.0.0.1 --server.port "$port" \
  --chain.chainId "${GANACHE_CHAIN_ID:-1337}" --chain.hardfork shanghai \
  --wallet.mnemonic "$TEST_MNEMONIC" --wallet.totalAccounts 10 --logging.quiet
