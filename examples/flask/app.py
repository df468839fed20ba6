"""A Flask app whose users chat through roomcast: it signs their tokens
(roomcast never sees its passwords) and serves the chat page ../chat.html."""
import os
import re
import time
from pathlib import Path

import jwt
from flask import Flask, jsonify, request, send_file
from werkzeug.serving import make_server

ROOMCAST_URL = os.environ.get("ROOMCAST_URL", "http://127.0.0.1:3000")
SECRET = os.environ["ROOMCAST_JWT_SECRET"]  # the same secret roomcast runs with
PAGE = Path(__file__).resolve().parent.parent / "chat.html"

app = Flask(__name__)


@app.get("/")
def page():
    return send_file(PAGE)


@app.post("/token")
def token():
    # A real app takes the user from its own login (flask-login's
    # current_user, a session); this one believes the name it is sent.
    name = str((request.get_json(silent=True) or {}).get("name", ""))
    if not re.fullmatch(r"[A-Za-z0-9 ._-]{1,32}", name):
        return jsonify(error="a name of 1 to 32 letters, digits, spaces or ._-"), 400
    now = int(time.time())
    claims = {
        "sub": "flask:" + name.lower(),  # the user's id in this app
        "name": name,  # what other people see
        "iat": now,
        "exp": now + 600,  # short-lived: the page asks again when it reconnects
    }
    return jsonify(token=jwt.encode(claims, SECRET, algorithm="HS256"), url=ROOMCAST_URL)


if __name__ == "__main__":
    server = make_server("127.0.0.1", int(os.environ.get("PORT", "5000")), app)
    print(f"chat page on http://127.0.0.1:{server.server_port} (roomcast at {ROOMCAST_URL})", flush=True)
    server.serve_forever()
