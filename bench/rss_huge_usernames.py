#!/usr/bin/env python3
"""RSS of a roomcast binary after N login attempts with 60 KB usernames (8 at a time).
usage: bench/rss_huge_usernames.py BINARY N"""
import json, socket, subprocess, sys, tempfile, time, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor
binary, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
d = tempfile.mkdtemp()
proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--database", f"sqlite://{d}/m.db",
                         "--jwt-secret", "x" * 40], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
proc.stdout.readline()
def rss():
    for l in open(f"/proc/{proc.pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) // 1024
base = rss()
def attempt(i):
    body = json.dumps({"username": f"{i}" + "x" * 60000, "password": "a guess"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/login", body, {"Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(req, timeout=60).status
    except urllib.error.HTTPError as e:
        return e.code
start = time.time()
with ThreadPoolExecutor(8) as ex:
    codes = list(ex.map(attempt, range(n)))
took = time.time() - start
time.sleep(2)
after = rss()
proc.kill()
print(json.dumps({"binary": binary, "n": n, "rss_mb_before": base, "rss_mb_after": after,
                  "statuses": {c: codes.count(c) for c in set(codes)}, "seconds": round(took, 1)}))
