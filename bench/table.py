"""Turns bench/compare.sh's results.jsonl into one markdown table with the
machine line and issue 6's targets marked met / not met (for roomcast)."""

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
    servers = [s for s in SERVERS if any(k[0] == s for k in runs)]

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
        for sc in ["idle", "fanout", "latency", "acked"] + (["changes"] if s.startswith("roomcast") else []):
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
    rc_fan, bare_fan = get("roomcast", "fanout", "deliveries_per_sec"), get("bare", "fanout", "deliveries_per_sec")
    if rc_fan is None or bare_fan is None:
        t.append(("fan-out deliveries/s >= bare socketioxide, auth + storage on", "not measured"))
    else:
        t.append(("fan-out deliveries/s >= bare socketioxide, auth + storage on",
                  verdict(rc_fan >= bare_fan and clean("roomcast", "fanout"), f"{rc_fan:,.0f} vs {bare_fan:,.0f}")))
    rss = get("roomcast", "idle", "rss_per_socket_kib")
    t.append(("RSS <= 8 KiB per idle joined socket",
              "not measured" if rss is None else verdict(rss <= 8, f"{rss:.1f} KiB")))
    for s, how in [("roomcast", "--sqlite-sync full (default)"), ("roomcast-normal", "--sqlite-sync normal")]:
        p99 = p99_ms(s)
        if p99 is not None or s == "roomcast":
            t.append((f"p99 <= 1 ms, 200-rooms scenario, storage on, {how}",
                      "not measured" if p99 is None else verdict(p99 <= 1 and clean(s, "latency"), f"{p99:.2f} ms")))
    big = runs.get(("roomcast", "big"))
    if big is None:
        rate = get("roomcast", "idle", "connect_per_sec")
        why = "run with BIG=1"
        t.append(("100,000 joined sockets, connect rate > 10,000/s",
                  f"not measured ({why})" + ("" if rate is None else f"; connect rate at the idle size: {rate:,.0f}/s")))
    else:
        limited = os.environ.get("BIG_LIMITED")
        t.append(("100,000 joined sockets, connect rate > 10,000/s",
                  verdict(big["joined"] >= 100000 and big["connect_per_sec"] > 10000,
                          (f"{limited}; " if limited else "")
                          + f"{big['joined']:,} joined at {big['connect_per_sec']:,.0f}/s, "
                          f"{big['rss_per_socket_kib'] or 0:.1f} KiB/socket")))
    acked = get("roomcast", "acked", "acked_per_sec")
    t.append(("acked chats/s on SQLite >= 50,000 (group commit)",
              "not measured" if acked is None else verdict(acked >= 50000 and clean("roomcast", "acked"), f"{acked:,.0f}/s")))
    out += ["", "| target (roomcast) | verdict |", "| --- | --- |"]
    out += [f"| {a} | {b} |" for a, b in t]
    if problems:
        out += ["", "problems:"] + [f"- {p}" for p in problems]
    print("\n".join(out))


if __name__ == "__main__":
    main()
