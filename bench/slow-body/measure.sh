#!/bin/sh
# usage: measure.sh BINARY NOFILE ATTACKERS PER_ATTACKER
# Starts BINARY under `ulimit -n NOFILE`, runs ATTACKERS processes of
# PER_ATTACKER slow-body connections each, and times /healthz on a new
# connection every 0.5 s during the attack (curl --max-time 5), then
# prints the shedding counters. Attackers hold their connections 300 s at
# most and are killed by pid at the end. Needs curl and python3.
#
#   bench/slow-body/measure.sh target/debug/roomcast 400 1 450
#   bench/slow-body/measure.sh target/debug/roomcast 20000 8 2600
bin=$1; nofile=$2; procs=$3; per=$4
dir=$(mktemp -d)
( ulimit -n "$nofile" && exec "$bin" serve --listen 127.0.0.1:0 --database "sqlite://$dir/m.db" --jwt-secret measure-secret-of-a-reasonable-length ) >"$dir/out" 2>"$dir/err" &
pid=$!
sleep 2
addr=$(sed -n 's|roomcast listening on http://||p' "$dir/out")
port=${addr##*:}
echo "server $bin nofile=$nofile at $addr"
printf 'before attack: '; curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}s\n' "http://$addr/healthz"
i=0
pids=""
: >"$dir/attack"
while [ $i -lt "$procs" ]; do python3 "$(dirname "$0")/attack.py" 127.0.0.1 "$port" "$per" 300 >>"$dir/attack" & pids="$pids $!"; i=$((i+1)); done
# Wait (at most 240 s) until every attacker has opened its connections.
t=0
while [ "$(grep -c '^attack' "$dir/attack" 2>/dev/null)" -lt "$procs" ] && [ $t -lt 240 ]; do sleep 1; t=$((t+1)); done
cat "$dir/attack"


for k in 1 2 3 4 5 6; do
  printf 'during attack: '; curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}s\n' "http://$addr/healthz"
  sleep 0.5
done
grep -c "Too many open files" "$dir/err" | sed 's/^/accept EMFILE log lines: /'
curl -s --max-time 5 "http://$addr/metrics" | grep -E "^roomcast_connections_(shed|refused)_total" 
kill $pid; wait $pid 2>/dev/null
for p in $pids; do kill "$p" 2>/dev/null; done; wait
rm -rf "$dir"
