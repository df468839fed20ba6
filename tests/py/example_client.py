"""The README's Python example, run for real by tests/api/py_client.rs.

Usage: python example_client.py URL TOKEN
"""
import sys

import socketio

url, token = sys.argv[1], sys.argv[2]

# --- README example starts ---
sio = socketio.Client()
received = []


@sio.on("chat")
def on_chat(msg):
    received.append(msg)
    print(f"{msg['user']['name']}: {msg['message']}")


sio.connect(url, auth={"token": token})
joined = sio.call("join", {"room": "general"})
print("history:", len(joined["history"]), "online:", [u["name"] for u in joined["online"]])
ack = sio.call("chat", {"room": "general", "message": "hello from Python"})
print("stored as message", ack["id"])
# --- README example ends ---

assert joined["ok"] and ack["ok"], (joined, ack)
bad = sio.call("chat", None)
assert bad == {"ok": False, "error": "invalid_payload", "message": bad["message"]}, bad
sio.sleep(0.5)
assert [m["id"] for m in received] == [ack["id"]], received
sio.disconnect()
print("OK")
