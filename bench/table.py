"""Turns bench/compare.sh's results.jsonl into one markdown table with the
machine line and issue 17's targets marked met / not met (for roomcast)."""

import json
import os
import sys

SERVERS = ["roomcast", "roomcast-normal", "bare", "node"]
NAMES = {
    "roomcast": "roomcast (auth+SQLite)",
    "roomcast-normal": "roomcast, --sqlite-sync normal",
    "bare": "bare socketioxide 0.18 (stock)",
    "node": "Node socket.io 4.8",
}


def load(path):
    runs = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[(r["server"], r["scenario"])] = r["result"]
    # The disk's fsync probe is no server.
    runs.setdefault(("disk", "fsync"), None)
    return runs


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v < 100:
        return f"{v:,.2f}{unit}"
    return f"{v:,.0f}{unit}"


def main():
    runs = load(sys.argv[1])
    machine = sys.argv[2]
    servers = [s for s in SERVERS if any(k[0] == s and v is not None for k, v in runs.items())]

    def get(server, scenario, *keys):
        v = runs.get((server, scenario))
        for k in keys:
            if not isinstance(v, dict):
                return None
            v = v.get(k)
        return v

    def p99_ms(server):
        v = get(server, "latency", "latency_us", "p99")
        return None if v is None else v / 1000

    def cpu(server, scenario):
        a, b = get(server, scenario, "server_cpu_pct"), get(server, scenario, "load_cpu_pct")
        if a is None or b is None:
            return None
        return f"{a:.0f} / {b:.0f}"

    def clean(server, scenario):
        r = runs.get((server, scenario))
        return r is not None and r["lost"] == 0 and r["errors"] == 0 and r["duplicates"] == 0

    rows = [
        ("5,000 idle sockets in 500 rooms: server RSS per socket (KiB)", lambda s: get(s, "idle", "rss_per_socket_kib"), ""),
        ("connect + join rate (/s)", lambda s: get(s, "idle", "connect_per_sec"), ""),
        ("1 room of 1,000 sockets, 4 closed-loop senders: deliveries/s", lambda s: get(s, "fanout", "deliveries_per_sec"), ""),
        ("  same: CPU % of one core, server / load tool", lambda s: cpu(s, "fanout"), ""),
        ("200 rooms of 10, one sender per room at 5 msg/s: p99 latency (ms)", p99_ms, ""),
        ("  same: p50 latency (ms)", lambda s: (get(s, "latency", "latency_us", "p50") or 0) / 1000 if get(s, "latency", "latency_us", "p50") is not None else None, ""),
        ("  same, with an edit and a reaction after every 4th chat: chat p99 (ms)", lambda s: None if get(s, "changes", "latency_us", "p99") is None else get(s, "changes", "latency_us", "p99") / 1000, ""),
        ("  same: changes acked / their broadcasts received of due", lambda s: None if get(s, "changes") is None else f"{get(s, 'changes', 'changes_ok'):,} / {get(s, 'changes', 'change_deliveries'):,} of {get(s, 'changes', 'change_expected'):,}", ""),
        ("acked chats/s (one sender per room, window 64)", lambda s: get(s, "acked", "acked_per_sec"), ""),
        ("1,000 clients into 1 room: connect + join rate (/s)", lambda s: get(s, "join1", "connect_per_sec"), ""),
        ("1,000 clients into 100 rooms: connect + join rate (/s)", lambda s: get(s, "join100", "connect_per_sec"), ""),
        ("restart storm: every client back and caught up, max (ms after listening)", lambda s: get(s, "storm", "storm", "back_ms", "max"), ""),
        ("  same: p50 / p99 (ms)", lambda s: None if get(s, "storm", "storm", "back_ms", "p50") is None else f"{get(s, 'storm', 'storm', 'back_ms', 'p50'):,.0f} / {get(s, 'storm', 'storm', 'back_ms', 'p99'):,.0f}", ""),
        ("  same: clients, not back, lost deliveries, duplicates", lambda s: None if get(s, "storm") is None else f"{get(s, 'storm', 'joined'):,}, {get(s, 'storm', 'storm', 'not_back')}, {get(s, 'storm', 'lost'):,}, {get(s, 'storm', 'duplicates')}", ""),
        ("  same: restart took (s) / new server's peak RSS (MiB)", lambda s: None if get(s, "storm") is None else f"{get(s, 'storm', 'storm', 'restart_secs'):.2f} / {(get(s, 'storm', 'storm', 'peak_rss_kib') or 0) / 1024:,.0f}", ""),
    ]
    out = [machine, ""]
    if os.environ.get("QUICK") == "1":
        out += ["QUICK=1: reduced sizes and windows; the rows name the full sizes, the verdicts are indicative only.", ""]
    out.append("| scenario | " + " | ".join(NAMES[s] for s in servers) + " |")
    out.append("| --- |" + " --- |" * len(servers))
    for title, f, unit in rows:
        out.append(f"| {title} | " + " | ".join(fmt(f(s), unit) for s in servers) + " |")
    problems = []
    for s in servers:
        for sc in ["idle", "join1", "join100", "fanout", "latency", "acked"] + (["changes"] if s.startswith("roomcast") else []) + (["storm"] if s == "roomcast" else []):
            r = runs.get((s, sc))
            if r is not None and sc == "changes" and r.get("change_deliveries") != r.get("change_expected"):
                problems.append(f"{s}/{sc}: {r.get('change_deliveries')} change broadcasts of {r.get('change_expected')} due")
            if r is None:
                problems.append(f"{s}/{sc}: no result")
            elif r["lost"] or r["errors"] or r["duplicates"]:
                problems.append(f"{s}/{sc}: lost {r['lost']} ({r['lost_messages']} messages), "
                                f"duplicates {r['duplicates']}, errors {r['errors']}")
    out.append("| lost / duplicates / errors, all scenarios | " + " | ".join(
        "none" if all(clean(s, sc) for sc in ["idle", "fanout", "latency", "acked"]) else "see below"
        for s in servers) + " |")

    def verdict(ok, detail):
        return ("met" if ok else "NOT met") + f" ({detail})"

    t = []
    fsync = runs.get(("disk", "fsync"))
    rss = get("roomcast", "idle", "rss_per_socket_kib")
    t.append(("RSS <= 8 KiB per idle joined socket (5,000 in 500 rooms)",
              "not measured" if rss is None else verdict(rss <= 8, f"{rss:.1f} KiB")))
    rate, bare_rate = get("roomcast", "idle", "connect_per_sec"), get("bare", "idle", "connect_per_sec")
    t.append(("connect + join >= 10,000/s and >= bare socketioxide's (5,000 into 500 rooms)",
              "not measured" if rate is None else verdict(
                  rate >= 10000 and (bare_rate is None or rate >= bare_rate),
                  f"{rate:,.0f}/s" + ("" if bare_rate is None else f" vs bare {bare_rate:,.0f}/s"))))
    one, hundred = get("roomcast", "join1", "connect_per_sec"), get("roomcast", "join100", "connect_per_sec")
    t.append(("1,000 clients into one room >= half the rate of 1,000 into 100 rooms",
              "not measured" if one is None or hundred is None else verdict(
                  one >= hundred / 2, f"{one:,.0f}/s vs {hundred:,.0f}/s = {one / hundred:.2f}")))
    rc_fan, bare_fan = get("roomcast", "fanout", "deliveries_per_sec"), get("bare", "fanout", "deliveries_per_sec")
    t.append(("fan-out deliveries/s >= bare socketioxide, auth + storage on",
              "not measured" if rc_fan is None or bare_fan is None else verdict(
                  rc_fan >= bare_fan and clean("roomcast", "fanout"), f"{rc_fan:,.0f} vs {bare_fan:,.0f}")))
    bare_p99 = p99_ms("bare")
    p99 = p99_ms("roomcast-normal")
    t.append(("p99 <= max(1 ms, bare's), 200-rooms scenario, --sqlite-sync normal",
              "not measured" if p99 is None else verdict(
                  p99 <= max(1, bare_p99 or 1) and clean("roomcast-normal", "latency"),
                  f"{p99:.2f} ms" + ("" if bare_p99 is None else f", bare {bare_p99:.2f} ms"))))
    p99 = p99_ms("roomcast")
    if p99 is None or fsync is None:
        t.append(("p99 <= the disk's fsync p99 + 1 ms, 200-rooms scenario, --sqlite-sync full", "not measured"))
    else:
        t.append(("p99 <= the disk's fsync p99 + 1 ms, 200-rooms scenario, --sqlite-sync full",
                  verdict(p99 <= fsync["p99_ms"] + 1 and clean("roomcast", "latency"),
                          f"{p99:.2f} ms, fdatasync p99 {fsync['p99_ms']:.2f} ms")))
    acked = get("roomcast", "acked", "acked_per_sec")
    t.append(("acked chats/s on SQLite >= 150,000 (group commit)",
              "not measured" if acked is None else verdict(acked >= 150000 and clean("roomcast", "acked"), f"{acked:,.0f}/s")))
    st = runs.get(("roomcast", "storm"))
    if st is None or st.get("storm") is None:
        t.append(("restart storm: every client back and caught up within 5 s of listening, nothing lost or repeated", "not measured"))
    else:
        b = st["storm"]
        worst = b["back_ms"]["max"]
        t.append(("restart storm: every client back and caught up within 5 s of listening, nothing lost or repeated",
                  verdict(worst is not None and worst <= 5000 and b["not_back"] == 0 and st["lost"] == 0
                          and st["duplicates"] == 0 and st["errors"] == 0,
                          f"{st['joined']:,} clients, max {worst or 0:,.0f} ms, {b['not_back']} not back, "
                          f"{st['lost']} lost, {st['duplicates']} repeated")))
    t.append(("several nodes (3 on Redis + PostgreSQL; 95,000 sockets over 5)", "not measured by compare.sh"))
    out += ["", "| target (roomcast) | verdict |", "| --- | --- |"]
    out += [f"| {a} | {b} |" for a, b in t]
    if problems:
        out += ["", "problems:"] + [f"- {p}" for p in problems]
    print("\n".join(out))


if __name__ == "__main__":
    main()
