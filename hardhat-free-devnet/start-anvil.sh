#!/usr/bin/env bash
# Start Anvil on 127.0.0.1 in the background, with the standard test mnemonic's 10 funded
# accounts; return once its RPC answers.
#
#   ./start-anvil.sh [PORT]      PORT defaults to $ANVIL_PORT, else 8545
#
# Environment: ANVIL_CHAIN_ID (31337), ANVIL_BINARY (the pinned npm one), WAIT_SECONDS (30).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_node-common.sh"

port="${1:-${ANVIL_PORT:-8545}}"
require_node_modules
# npm installs the binary through the one platform package that matches this machine.
anvil="${ANVIL_BINARY:-$(ls "$DEVNET_DIR"/node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null | head -n 1 || true)}"
if [ ! -x "$anvil" ]; then
  echo "error: no Anvil binary in $DEVNET_DIR/node_modules: run 'npm ci' in $DEVNET_DIR" >&2
  exit 1
fi
start_node anvil "$port" anvil \
  "$anvil" --host 127.0.0.1 --port "$port" --chain-id "${ANVIL_CHAIN_ID:-31337}" \
  --mnemonic "$TEST_MNEMONIC" --accounts 10
