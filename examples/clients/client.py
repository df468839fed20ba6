"""Gets a token from the app, joins `general`, chats, and prints the chat when
its own broadcast comes back: python client.py APP_URL NAME TEXT"""
import sys
import threading

import requests
import socketio

app_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
name = sys.argv[2] if len(sys.argv) > 2 else "Ann"
text = sys.argv[3] if len(sys.argv) > 3 else "hello from Python"

# The app signs the token; roomcast only checks it.
answer = requests.post(f"{app_url}/token", json={"name": name}, timeout=10)
answer.raise_for_status()
token, roomcast_url = answer.json()["token"], answer.json()["url"]

sio = socketio.Client()
received = {}  # chats that reached us, by id
arrived = threading.Condition()


@sio.on("chat")
def on_chat(msg):
    with arrived:
        received[msg["id"]] = msg
        arrived.notify_all()


try:
    sio.connect(roomcast_url, auth={"token": token})
except socketio.exceptions.ConnectionError as e:
    sys.exit(f"connect refused: {e}")  # e.g. "unauthorized: token expired or not yet valid"
joined = sio.call("join", {"room": "general"})
if not joined["ok"]:
    sys.exit(f"join refused: {joined['error']}: {joined['message']}")
print("joined general")
ack = sio.call("chat", {"room": "general", "message": text})
if not ack["ok"]:
    sys.exit(f"chat refused: {ack['error']}: {ack['message']}")
# Our own chat comes back to us as a broadcast, like everyone else's (it may
# even arrive before its ack does).
with arrived:
    if not arrived.wait_for(lambda: ack["id"] in received, timeout=10):
        sys.exit("our chat never came back")
msg = received[ack["id"]]
print(f"{msg['user']['name']}: {msg['message']}")
sio.disconnect()
