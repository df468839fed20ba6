#!/usr/bin/env bash
# The restart of a restart storm, for `roomcast-load --restart-cmd`:
#
#   bench/restart.sh PIDFILE HOST:PORT LOG -- COMMAND...
#
# Sends SIGTERM to the server whose pid PIDFILE holds and waits for it to
# exit (a graceful shutdown: queued events finish, every submitted message
# is committed and acked, then the sockets close), starts COMMAND (the same
# server on the same database and address) with its output in LOG.out and
# LOG.err, writes its pid to PIDFILE, and returns once the new process
# listens on PORT (`ss`: a probe connection would queue behind the clients'
# own, and a full backlog drops SYNs), printing the new pid as its last line.
set -euo pipefail
pidfile=$1 addr=$2 log=$3
shift 3
[ "${1:-}" = -- ] && shift
# Running, and not a zombie its parent has yet to reap.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d')' -f2 "/proc/$1/stat" | cut -d' ' -f2)" != Z ]; }
old=$(cat "$pidfile")
kill -TERM "$old"
for _ in $(seq 6000); do
  alive "$old" || break
  sleep 0.01
done
if alive "$old"; then
  echo "restart.sh: pid $old still running 60 s after SIGTERM" >&2
  exit 1
fi
"$@" </dev/null >"$log.out" 2>"$log.err" &
new=$!
echo "$new" >"$pidfile"
port=${addr##*:}
for _ in $(seq 30000); do
  if [ -n "$(ss -Hltn "sport = :$port")" ]; then
    echo "$new"
    exit 0
  fi
  alive "$new" || { echo "restart.sh: the new server exited; see $log.err" >&2; exit 1; }
  sleep 0.001
done
echo "restart.sh: $addr not listening 30 s after the start" >&2
exit 1
