# Shared by the start/stop scripts (sourced, not run): paths, PID files, waiting, stopping.
# A node's PID file is run/<name>-<port>.pid and its log run/<name>-<port>.log.

DEVNET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="$DEVNET_DIR/run"
# The well-known development mnemonic: its keys are public, never use them for value.
TEST_MNEMONIC="test test test test test test test test test test test junk"

require_node_modules() {
  if [ ! -d "$DEVNET_DIR/node_modules" ]; then
    echo "error: $DEVNET_DIR/node_modules is missing: run 'npm ci' in $DEVNET_DIR" >&2
    exit 1
  fi
}

# is_running PIDFILE PATTERN: the PID in PIDFILE is alive and its command line matches
# PATTERN (so a PID reused by another program is never signalled).
is_running() {
  local pid
  [ -f "$1" ] || return 1
  pid="$(cat "$1")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# start_node NAME PORT PATTERN COMMAND...: run COMMAND in the background, record its PID,
# and return once the RPC on 127.0.0.1:PORT answers.
start_node() {
  local name="$1" port="$2" pattern="$3"
  shift 3
  local pidfile="$RUN_DIR/$name-$port.pid" log="$RUN_DIR/$name-$port.log" pid chain_id
  mkdir -p "$RUN_DIR"
  if is_running "$pidfile" "$pattern"; then
    echo "$name is already running on port $port (pid $(cat "$pidfile"))" >&2
    exit 1
  fi
  nohup "$@" >"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  if ! chain_id="$(node "$DEVNET_DIR/rpc-ready.js" "http://127.0.0.1:$port" "${WAIT_SECONDS:-30}")"; then
    echo "error: $name did not answer on 127.0.0.1:$port; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    exit 1
  fi
  echo "$name running: pid $pid, http://127.0.0.1:$port, chain id $chain_id, log $log"
}

# stop_node NAME PORT PATTERN: SIGTERM the recorded PID, SIGKILL after 5 s.
stop_node() {
  local name="$1" port="$2" pattern="$3" pid i
  local pidfile="$RUN_DIR/$name-$port.pid"
  if ! is_running "$pidfile" "$pattern"; then
    echo "$name is not running on port $port"
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid"
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
  fi
  rm -f "$pidfile"
  echo "$name stopped (pid $pid, port $port)"
}
