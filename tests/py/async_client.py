"""python-socketio's AsyncClient doing what the README's sync example does; run by tests/api/py_client.rs.

Usage: python async_client.py URL TOKEN
"""
import asyncio
import sys

import socketio


async def main(url, token):
    sio = socketio.AsyncClient()
    received = asyncio.Queue()

    @sio.on("chat")
    async def on_chat(msg):
        await received.put(msg)
        print(f"{msg['user']['name']}: {msg['message']}")

    await sio.connect(url, auth={"token": token})
    joined = await sio.call("join", {"room": "general"})
    assert joined["ok"], joined
    ack = await sio.call("chat", {"room": "general", "message": "hello from asyncio"})
    assert ack["ok"] and isinstance(ack["id"], int), ack
    # The broadcast of our own chat reaches us too: the one we were acked for.
    msg = await asyncio.wait_for(received.get(), timeout=10)
    assert msg["id"] == ack["id"] and msg["message"] == "hello from asyncio", msg
    bad = await sio.call("chat", None)
    assert bad == {"ok": False, "error": "invalid_payload", "message": bad["message"]}, bad
    await sio.disconnect()
    print("OK")


asyncio.run(main(sys.argv[1], sys.argv[2]))
