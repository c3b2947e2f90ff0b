#!/usr/bin/env bash
# Stop the Ganache that start-ganache.sh started on PORT (default $GANACHE_PORT, else 8546).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_node-common.sh"
stop_node ganache "${1:-${GANACHE_PORT:-8546}}" ganache
