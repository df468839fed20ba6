"""A backend (a cron job, a deploy script) posting to a room over HTTP with a
JWT of its own: python backend_post.py ROOMCAST_URL ROOM TEXT"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

import jwt

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
room = sys.argv[2] if len(sys.argv) > 2 else "general"
text = sys.argv[3] if len(sys.argv) > 3 else "deploy finished"

now = int(time.time())
token = jwt.encode(
    {"sub": "deploy-bot", "name": "Deploy bot", "iat": now, "exp": now + 60},
    os.environ["ROOMCAST_JWT_SECRET"],
    algorithm="HS256",
)
request = urllib.request.Request(
    f"{url}/api/rooms/{room}/messages",
    data=json.dumps({"message": text}).encode(),
    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    method="POST",
)
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        stored = json.load(response)  # 201, once the message is committed
except urllib.error.HTTPError as e:
    error = json.load(e)  # {"error": CODE, "message": ...}, e.g. not_found for a room nobody made
    sys.exit(f"refused: {e.code} {error['error']}: {error['message']}")
print(f"posted message {stored['id']} to {stored['room']}")
