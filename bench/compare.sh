#!/usr/bin/env bash
# Side-by-side benchmark: roomcast (auth + SQLite on), a bare socketioxide
# server and a Node socket.io 4.8 server, driven by the same roomcast-load
# in one run. Each server runs pinned to one core, the load tool to another.
# Prints one table (markdown) with the machine line and each target of
# issue 17 marked met / not met; the raw JSON lines are kept in $OUT.
#
#   bench/compare.sh                 # the issue's sizes (a few minutes)
#   QUICK=1 bench/compare.sh         # small sizes, short windows (~1 min)
#   SERVERS="roomcast bare" IDLE_CLIENTS=2000 bench/compare.sh
#   BIG=1 bench/compare.sh           # adds 100,000 sockets on roomcast
#
# Environment (full / QUICK defaults):
#   SERVERS          roomcast roomcast-normal bare node
#                    (roomcast-normal: roomcast with --sqlite-sync normal)
#   SERVER_CPU       0        LOAD_CPU   1
#   DURATION, WARMUP 10, 2 / 3, 1        measured and warm-up seconds
#   IDLE_CLIENTS     5000 / 500          IDLE_ROOMS   500 / 50
#   FANOUT_CLIENTS   1000 / 200          FANOUT_SENDERS 4   FANOUT_WINDOW 16
#   LAT_ROOMS        200 / 40            LAT_ROOM_SIZE 10   LAT_RATE 5
#   ACK_CLIENTS      64 / 16             ACK_WINDOW   64   (one room each)
#   JOIN_CLIENTS     1000  into 1 room and into 100 rooms (join1, join100)
#   STORM_CLIENTS    19000 / 2000  the restart storm (roomcast and node; 10 a
#                    room, one sender each at STORM_RATE 1 msg/s), at most
#                    the open-file limit less 1,000
#   CHANGES_EVERY    4    the changes scenario (roomcast only): the latency
#                    scenario plus an edit and a reaction after every 4th chat
#   BIG_CLIENTS      100000 (10 a room)  BIG_SOURCES 127.0.0.1,...,127.0.0.4
#   OUT              a new temp dir (results.jsonl, server logs)
#   ROOMCAST_BIN     target/release/roomcast   (another build, for before/after)
#   LOAD             target/release/roomcast-load
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then q=1; else q=0; fi
pick() { if [ $q = 1 ]; then echo "$2"; else echo "$1"; fi; }
SERVERS=${SERVERS:-roomcast roomcast-normal bare node}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
DURATION=${DURATION:-$(pick 10 3)}
WARMUP=${WARMUP:-$(pick 2 1)}
IDLE_CLIENTS=${IDLE_CLIENTS:-$(pick 5000 500)}
IDLE_ROOMS=${IDLE_ROOMS:-$(pick 500 50)}
FANOUT_CLIENTS=${FANOUT_CLIENTS:-$(pick 1000 200)}
FANOUT_SENDERS=${FANOUT_SENDERS:-4}
FANOUT_WINDOW=${FANOUT_WINDOW:-16}
LAT_ROOMS=${LAT_ROOMS:-$(pick 200 40)}
LAT_ROOM_SIZE=${LAT_ROOM_SIZE:-10}
LAT_RATE=${LAT_RATE:-5}
ACK_CLIENTS=${ACK_CLIENTS:-$(pick 64 16)}
ACK_WINDOW=${ACK_WINDOW:-64}
JOIN_CLIENTS=${JOIN_CLIENTS:-1000}
STORM_CLIENTS=${STORM_CLIENTS:-$(pick 19000 2000)}
STORM_RATE=${STORM_RATE:-1}
CHANGES_EVERY=${CHANGES_EVERY:-4}
BIG=${BIG:-0}
BIG_CLIENTS=${BIG_CLIENTS:-100000}
BIG_SOURCES=${BIG_SOURCES:-127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4}
OUT=${OUT:-$(mktemp -d -t roomcast-bench.XXXXXX)}
SECRET=compare-sh-secret-of-a-reasonable-length
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"

echo "== build (release)" >&2
cargo build --release --locked --quiet --bin roomcast --bin roomcast-load
# The bare server against stock socketioxide: its own workspace (bench/bare).
CARGO_TARGET_DIR=target/bare-stock cargo build --release --locked --quiet \
  --manifest-path bench/bare/Cargo.toml
if [[ " $SERVERS " == *" node "* ]] && [ ! -d bench/node/node_modules/socket.io ]; then
  npm ci --prefix bench/node --no-audit --no-fund --silent
fi
LOAD=${LOAD:-target/release/roomcast-load}
ROOMCAST_BIN=${ROOMCAST_BIN:-target/release/roomcast}

# Thousands of sockets need as many descriptors, in the servers too.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SERVER_PID=
SERVER_URL=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    # A restarted server is no child of this shell: wait it out.
    for _ in $(seq 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    SERVER_PID=
  fi
}
trap stop_server EXIT

# server_cmd NAME TAG ADDR: sets SERVER_CMD, the pinned command of server
# NAME on ADDR (roomcast's database is $OUT/NAME-TAG.db).
server_cmd() {
  case $1 in
    roomcast | roomcast-normal)
      local sync=full
      [ "$1" = roomcast-normal ] && sync=normal
      SERVER_CMD=(env ROOMCAST_LOG=warn taskset -c "$SERVER_CPU" "$ROOMCAST_BIN" serve
        --listen "$3" --database "sqlite://$OUT/$1-$2.db" --jwt-secret "$SECRET"
        --message-rate 1000000000 --message-burst 1000000000 --sqlite-sync "$sync")
      ;;
    bare) SERVER_CMD=(taskset -c "$SERVER_CPU" target/bare-stock/release/bare_socketioxide "$3") ;;
    node) SERVER_CMD=(taskset -c "$SERVER_CPU" node bench/node/server.js "$3") ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
}

# start_server NAME TAG: a fresh server on a free port, pinned; sets
# SERVER_PID and SERVER_URL once it printed its "listening on" line.
start_server() {
  local name=$1 log="$OUT/$1-$2"
  server_cmd "$name" "$2" 127.0.0.1:0
  # exec: the pid is the server's, not a subshell's.
  (exec "${SERVER_CMD[@]}") >"$log.out" 2>"$log.err" &
  SERVER_PID=$!
  for _ in $(seq 300); do
    SERVER_URL=$(grep -o 'http://[0-9.:]*' "$log.out" 2>/dev/null | head -1 || true)
    [ -n "$SERVER_URL" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start; see $log.err" >&2
  exit 1
}

# scenario SERVER NAME LOAD-ARGS...: one fresh server, one load run, one JSON line.
# A load argument @RESTART@ becomes `--restart-cmd` with the command that
# restarts this server on its database and address (bench/restart.sh).
scenario() {
  local server=$1 name=$2; shift 2
  local auth=()
  [[ "$server" == roomcast* ]] && auth=(--jwt-secret "$SECRET")
  start_server "$server" "$name"
  echo "== $server: $name" >&2
  local pidfile="$OUT/$server-$name.pid" args=() a
  echo "$SERVER_PID" >"$pidfile"
  for a in "$@"; do
    if [ "$a" = @RESTART@ ]; then
      server_cmd "$server" "$name" "${SERVER_URL#http://}"
      args+=(--restart-cmd "$(printf '%q ' bench/restart.sh "$pidfile" "${SERVER_URL#http://}" \
        "$OUT/$server-$name-restarted" -- "${SERVER_CMD[@]}")")
    else
      args+=("$a")
    fi
  done
  local line
  line=$(taskset -c "$LOAD_CPU" "$LOAD" --url "$SERVER_URL" --json --label "$server/$name" \
    --pid "$SERVER_PID" --duration "$DURATION" --warmup "$WARMUP" "${auth[@]}" "${args[@]}" \
    | tee /dev/stderr | tail -1) || true
  SERVER_PID=$(cat "$pidfile")
  stop_server
  if [[ "$line" == "{"* ]]; then
    echo "{\"server\":\"$server\",\"scenario\":\"$name\",\"result\":$line}" >>"$RESULTS"
  else
    echo "{\"server\":\"$server\",\"scenario\":\"$name\",\"result\":null}" >>"$RESULTS"
  fi
}

LOAD_AVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
# Scenario by scenario, each server in turn: noise from whatever else runs on
# the machine then lands on all servers alike rather than on one.
for s in $SERVERS; do
  scenario "$s" idle --clients "$IDLE_CLIENTS" --rooms "$IDLE_ROOMS" --senders 0 --idle-hold 1
done
# Joining a big room against joining small ones (issue 17: 1,000 into
# one room at least half the rate of 1,000 into 100 rooms).
for s in $SERVERS; do
  for r in 1 100; do
    scenario "$s" "join$r" --clients "$JOIN_CLIENTS" --rooms "$r" --senders 0 --idle-hold 1
  done
done
for s in $SERVERS; do
  scenario "$s" fanout --clients "$FANOUT_CLIENTS" --rooms 1 --senders "$FANOUT_SENDERS" \
    --window "$FANOUT_WINDOW"
done
for s in $SERVERS; do
  scenario "$s" latency --clients $((LAT_ROOMS * LAT_ROOM_SIZE)) --rooms "$LAT_ROOMS" \
    --senders 1 --rate "$LAT_RATE"
done
# The same rooms with changes mixed in (roomcast only: issue 14's `edit` and
# `react`): after every CHANGES_EVERY-th acked chat its sender edits that
# message and reacts to it, so a third of the writes are changes.
for s in $SERVERS; do
  [[ "$s" == roomcast* ]] || continue
  scenario "$s" changes --clients $((LAT_ROOMS * LAT_ROOM_SIZE)) --rooms "$LAT_ROOMS" \
    --senders 1 --rate "$LAT_RATE" --changes "$CHANGES_EVERY"
done
for s in $SERVERS; do
  scenario "$s" acked --clients "$ACK_CLIENTS" --rooms "$ACK_CLIENTS" --senders 1 \
    --window "$ACK_WINDOW"
done
# The restart storm: every client joined and receiving, the server
# restarted (SIGTERM, started again on its database and address), every
# client reconnecting with socket.io-client's back-off and rejoining with
# `since`. Node (ids and rooms in memory) for the reconnect part only.
# Server and load tool each hold one descriptor per socket.
STORM_CLIENTS=$(( STORM_CLIENTS < $(ulimit -n) - 1000 ? STORM_CLIENTS : $(ulimit -n) - 1000 ))
for s in $SERVERS; do
  case $s in
    roomcast) extra=() ;;
    node) extra=(--no-since) ;;
    *) continue ;;
  esac
  scenario "$s" storm --clients "$STORM_CLIENTS" --rooms $((STORM_CLIENTS / 10)) --senders 1 \
    --rate "$STORM_RATE" --source "$BIG_SOURCES" --connect-concurrency 256 \
    --connect-timeout 60 @RESTART@ "${extra[@]}"
done
# The disk's own fsync latency, beside the runs: what `--sqlite-sync full`
# waits for at each commit (issue 17's p99 target is this plus 1 ms).
python3 - "$OUT" >>"$RESULTS" <<'PY'
import json, os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
lat = []
for i in range(1000):
    os.pwrite(fd, b"x" * 4096, (i % 64) * 4096)
    t = time.perf_counter()
    os.fdatasync(fd)
    lat.append((time.perf_counter() - t) * 1e3)
os.close(fd)
os.unlink(path)
lat.sort()
print(json.dumps({"server": "disk", "scenario": "fsync", "result": {
    "p50_ms": lat[499], "p99_ms": lat[989], "max_ms": lat[-1]}}))
PY
if [ "$BIG" = 1 ] && [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((BIG_CLIENTS + 1000)) ]; then
  # Server and load tool each hold one descriptor per socket: run the most
  # sockets the limit allows, and say so in the table.
  BIG_LIMITED="open-file limit $(ulimit -n) < $BIG_CLIENTS sockets (raise the hard limit: ulimit -Hn)"
  BIG_CLIENTS=$(( $(ulimit -n) - 1000 ))
  echo "== $BIG_LIMITED: running $BIG_CLIENTS sockets instead" >&2
  export BIG_LIMITED
fi
if [ "$BIG" = 1 ]; then
  scenario roomcast big --clients "$BIG_CLIENTS" --rooms $((BIG_CLIENTS / 10)) --senders 0 \
    --source "$BIG_SOURCES" --connect-concurrency 256 --connect-timeout 120
fi
LOAD_AVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MACHINE="machine: $CPU, $(nproc --all) cores, Linux $(uname -r); servers on core $SERVER_CPU, load tool on core $LOAD_CPU; load average $LOAD_AVG_START at start, $LOAD_AVG_END at end"
QUICK="$QUICK" python3 bench/table.py "$RESULTS" "$MACHINE"
echo "raw results: $RESULTS" >&2
