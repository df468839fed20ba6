#!/usr/bin/env python3
"""RSS of a roomcast binary during and after N concurrent registrations.
usage: bench/rss_registrations.py BINARY N [extra serve flags...]"""
import json, os, socket, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error

binary, n, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
d = tempfile.mkdtemp()
proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--database", f"sqlite://{d}/m.db",
                         "--jwt-secret", "x" * 40, *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
proc.stdout.readline()
def rss():
    for l in open(f"/proc/{proc.pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) // 1024
base = rss()
peak = [base]; stop = False
def sample():
    while not stop:
        peak[0] = max(peak[0], rss()); time.sleep(0.05)
t = threading.Thread(target=sample); t.start()
statuses = {}
lock = threading.Lock()
barrier = threading.Barrier(n)
def reg(i):
    body = json.dumps({"username": f"user{i}", "password": "correct horse battery"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/register", body, {"Content-Type": "application/json"})
    barrier.wait()
    try:
        code = urllib.request.urlopen(req, timeout=300).status
    except urllib.error.HTTPError as e:
        code = e.code
    with lock:
        statuses[code] = statuses.get(code, 0) + 1
# ann exists before the flood, for a login during it.
body0 = json.dumps({"username": "ann", "password": "correct horse battery"}).encode()
urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/register", body0, {"Content-Type": "application/json"}))
during = {}
def login_during():
    time.sleep(0.3)
    t0 = time.time()
    try:
        during["status"] = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/login", body0, {"Content-Type": "application/json"}), timeout=300).status
    except urllib.error.HTTPError as e:
        during["status"] = e.code
    during["ms"] = round((time.time() - t0) * 1000)
start = time.time()
ths = [threading.Thread(target=reg, args=(i,)) for i in range(n)]
for x in ths: x.start()
lt = threading.Thread(target=login_during); lt.start()
for x in ths: x.join()
lt.join()
took = time.time() - start
time.sleep(5)
stop = True; t.join()
after = rss()
# A login right after, for latency.
body = json.dumps({"username": "user0", "password": "correct horse battery"}).encode()
t0 = time.time()
try:
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/api/login", body, {"Content-Type": "application/json"}))
except urllib.error.HTTPError as e:
    pass
login_ms = (time.time() - t0) * 1000
proc.kill()
print(json.dumps({"binary": binary, "n": n, "extra": extra, "rss_mb_before": base, "rss_mb_peak": peak[0],
                  "rss_mb_5s_after": after, "statuses": statuses, "seconds": round(took, 2), "login_during": during, "login_after_ms": round(login_ms)}))
