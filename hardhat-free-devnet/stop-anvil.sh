#!/usr/bin/env bash
# Stop the Anvil that start-anvil.sh started on PORT (default $ANVIL_PORT, else 8545).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_node-common.sh"
stop_node anvil "${1:-${ANVIL_PORT:-8545}}" anvil
