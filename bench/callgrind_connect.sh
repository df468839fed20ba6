#!/usr/bin/env bash
# Instructions per connect + join, counted by callgrind: steady under the
# noise of a shared machine, where wall-clock rates are not.
#
#   bench/callgrind_connect.sh              # roomcast (JWT auth, SQLite)
#   bench/callgrind_connect.sh bare         # bare socketioxide, same load
#   N=2000 OUT=/tmp/cg bench/callgrind_connect.sh
#
# The server runs under valgrind; 20 warm-up clients connect first, then the
# counters are zeroed, N clients (N/10 rooms of 10) connect and join, and the
# counters are dumped while they are still connected, so disconnects are not
# counted. Prints Ir per client; the profile stays in $OUT for
# `callgrind_annotate --inclusive=yes $OUT/cg.out.*`.
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=${1:-roomcast}
N=${N:-1000}
OUT=${OUT:-$(mktemp -d -t roomcast-callgrind.XXXXXX)}
SECRET=callgrind-connect-secret-of-a-reasonable-length
mkdir -p "$OUT"
cargo build --release --locked --quiet --bin roomcast --bin roomcast-load
# The bare server against stock socketioxide: its own workspace (bench/bare).
CARGO_TARGET_DIR=target/bare-stock cargo build --release --locked --quiet \
  --manifest-path bench/bare/Cargo.toml
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
auth=()
case $KIND in
  roomcast)
    ROOMCAST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" \
      target/release/roomcast serve --listen 127.0.0.1:0 --database "sqlite://$OUT/db.sqlite" \
      --jwt-secret "$SECRET" --message-rate 1000000000 --message-burst 1000000000 \
      >"$OUT/server.out" 2>"$OUT/server.err" &
    auth=(--jwt-secret "$SECRET")
    ;;
  bare)
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" \
      target/bare-stock/release/bare_socketioxide 127.0.0.1:0 >"$OUT/server.out" 2>"$OUT/server.err" &
    ;;
  *) echo "usage: $0 [roomcast|bare]" >&2; exit 2 ;;
esac
PID=$!
LOAD_PID=
trap 'kill $LOAD_PID $PID 2>/dev/null || true' EXIT
URL=
for _ in $(seq 600); do
  URL=$(grep -o 'http://[0-9.:]*' "$OUT/server.out" 2>/dev/null | head -1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "server did not start; see $OUT/server.err" >&2; exit 1; }
PORT=${URL##*:}
LOAD=target/release/roomcast-load
"$LOAD" --url "$URL" "${auth[@]}" --clients 20 --rooms 20 --room-prefix warm- --senders 0 \
  --connect-concurrency 8 --connect-timeout 120 >/dev/null
callgrind_control -z "$PID" >/dev/null 2>&1
"$LOAD" --url "$URL" "${auth[@]}" --clients "$N" --rooms $((N / 10)) --senders 0 \
  --connect-concurrency 16 --connect-timeout 120 --idle-hold 600 >"$OUT/load.out" 2>&1 &
LOAD_PID=$!
# Every client connected; the last joins (at most 16 in flight) finish well within the wait.
while [ "$(ss -Htn state established "( sport = :$PORT )" | wc -l)" -lt "$N" ]; do
  kill -0 "$LOAD_PID" 2>/dev/null || { echo "load tool ended early; see $OUT/load.out" >&2; exit 1; }
  sleep 0.5
done
sleep 8
callgrind_control -d "$PID" >/dev/null 2>&1
IR=$(callgrind_annotate "$OUT"/cg.out.* 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
echo "$KIND: $((IR / N)) instructions per connect + join ($N clients; profile in $OUT)"
