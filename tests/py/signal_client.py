"""Two python-socketio clients in one room: one sends a `signal`, the other
receives it; run by tests/api/signals.rs.

Usage: python signal_client.py URL TOKEN
"""
import asyncio
import sys

import socketio


async def main(url, token):
    sender, receiver = socketio.AsyncClient(), socketio.AsyncClient()
    got = asyncio.Queue()

    @receiver.on("signal")
    async def on_signal(sig):
        await got.put(sig)

    for sio in (sender, receiver):
        await sio.connect(url, auth={"token": token})
        joined = await sio.call("join", {"room": "board"})
        assert joined["ok"], joined
    ack = await sender.call("signal", {"room": "board", "type": "cursor", "data": {"x": 1}})
    assert ack == {"ok": True}, ack
    sig = await asyncio.wait_for(got.get(), timeout=10)
    assert sig["room"] == "board" and sig["data"] == {"x": 1}, sig
    print(f"signal {sig['type']} from {sig['user']['id']}")
    bad = await sender.call("signal", {"room": "board", "type": "no spaces"})
    assert bad["ok"] is False and bad["error"] == "invalid_payload", bad
    for sio in (sender, receiver):
        await sio.disconnect()
    print("OK")


asyncio.run(main(sys.argv[1], sys.argv[2]))
