"""python-socketio's sync Client: join, chat, a refusal and a barrier; run by tests/api/py_client.rs.

Usage: python sync_client.py URL TOKEN [TRANSPORTS]   (e.g. websocket; default: polling, then upgrade)
(The README's example is examples/clients/client.py, run by tests/api/examples.rs.)
"""
import sys

import socketio

url, token = sys.argv[1], sys.argv[2]
transports = sys.argv[3].split(",") if len(sys.argv) > 3 else None

sio = socketio.Client()
received = []


@sio.on("chat")
def on_chat(msg):
    received.append(msg)
    print(f"{msg['user']['name']}: {msg['message']}")


sio.connect(url, auth={"token": token}, transports=transports)
print("transport:", sio.transport())
joined = sio.call("join", {"room": "general"})
print("history:", len(joined["history"]), "online:", [u["name"] for u in joined["online"]])
ack = sio.call("chat", {"room": "general", "message": "hello from Python"})
print("stored as message", ack["id"])

assert joined["ok"] and ack["ok"], (joined, ack)
bad = sio.call("chat", None)
assert bad == {"ok": False, "error": "invalid_payload", "message": bad["message"]}, bad
# A barrier, not a pause: chats reach a socket in commit (id) order, so once
# this later chat is here, anything the refused one could have become and
# the first chat would already be here too.
barrier = sio.call("chat", {"room": "general", "message": "barrier"})
assert barrier["ok"], barrier
for _ in range(1000):  # at most 10 s
    if any(m["id"] == barrier["id"] for m in received):
        break
    sio.sleep(0.01)
assert [m["id"] for m in received] == [ack["id"], barrier["id"]], received
sio.disconnect()
print("OK")
