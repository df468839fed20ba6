#!/usr/bin/env bash
# A CPU flame graph of roomcast during one load scenario (perf + inferno).
#
#   bench/flamegraph.sh connect OUT.svg    # 5,000 clients connect and join 500 rooms
#   bench/flamegraph.sh latency OUT.svg    # 200 rooms of 10, one sender each at 5 msg/s
#   bench/flamegraph.sh fanout  OUT.svg    # 1 room of 1,000, 4 closed-loop senders
#
# Needs perf (Debian linux-perf) and inferno (`cargo install inferno`).
# Extra `roomcast serve` flags: SERVE_ARGS="--sqlite-sync normal".
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:?scenario: connect, latency or fanout}
svg=${2:?output .svg}
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 2; }
command -v inferno-flamegraph >/dev/null || { echo "inferno is missing (cargo install inferno)" >&2; exit 2; }
cargo build --release --locked --quiet --bin roomcast --bin roomcast-load
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
dir=$(mktemp -d -t roomcast-flame.XXXXXX)
SECRET=flamegraph-secret-of-a-reasonable-length
ROOMCAST_LOG=warn taskset -c 0 target/release/roomcast serve --listen 127.0.0.1:0 \
  --database "sqlite://$dir/f.db" --jwt-secret "$SECRET" \
  --message-rate 1000000000 --message-burst 1000000000 ${SERVE_ARGS:-} >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
url=
for _ in $(seq 300); do
  url=$(grep -o 'http://[0-9.:]*' "$dir/out" 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "roomcast did not start; see $dir/err" >&2; exit 1; }
case $scenario in
  connect) load=(--clients 5000 --rooms 500 --senders 0) ;;
  latency) load=(--clients 2000 --rooms 200 --senders 1 --rate 5 --duration 10) ;;
  fanout) load=(--clients 1000 --rooms 1 --senders 4 --window 16 --duration 10) ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
perf record -F 2999 -g --call-graph dwarf,16384 -p "$pid" -o "$dir/perf.data" 2>"$dir/perf.err" &
perf_pid=$!
sleep 1
taskset -c 1 target/release/roomcast-load --url "$url" --jwt-secret "$SECRET" --warmup 1 "${load[@]}" >&2
kill -INT "$perf_pid"
wait "$perf_pid" || true
perf script -i "$dir/perf.data" 2>/dev/null | inferno-collapse-perf | inferno-flamegraph --minwidth 0.5 \
  --title "roomcast: $scenario ($(git rev-parse --short HEAD))" >"$svg"
echo "flame graph: $svg (perf data in $dir)" >&2
