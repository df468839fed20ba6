"""python-socketio's AsyncClient edits, reacts to and deletes a message; run by tests/api/changes_clients.rs.

Usage: python changes_client.py URL TOKEN
"""
import asyncio
import sys

import socketio


async def main(url, token):
    sio = socketio.AsyncClient()
    events = asyncio.Queue()
    for name in ("chat", "edit", "delete", "reaction"):
        sio.on(name, lambda msg, name=name: events.put_nowait((name, msg)))

    async def expect(name):
        got, msg = await asyncio.wait_for(events.get(), timeout=10)
        assert got == name, (got, msg)
        return msg

    await sio.connect(url, auth={"token": token}, transports=["websocket"])
    assert (await sio.call("join", {"room": "py-changes"}))["ok"]
    room = "py-changes"
    ack = await sio.call("chat", {"room": room, "message": "from python"})
    msg = await expect("chat")
    assert msg["seq"] == ack["id"], msg
    edited = await sio.call("edit", {"room": room, "id": ack["id"], "message": "edited from python"})
    assert edited["ok"] and edited["seq"] > ack["id"], edited
    msg = await expect("edit")
    assert msg["message"] == "edited from python" and msg["edited"] >= msg["ts"], msg
    reacted = await sio.call("react", {"room": room, "id": ack["id"], "emoji": "🇫🇷"})
    assert reacted["ok"], reacted
    msg = await expect("reaction")
    assert msg["reaction"] == {"emoji": "🇫🇷", "user": "py-user", "added": True}, msg
    assert msg["reactions"] == [{"emoji": "🇫🇷", "count": 1, "users": ["py-user"]}], msg
    bad = await sio.call("react", {"room": room, "id": ack["id"], "emoji": "🇫🇷🇫🇷"})
    assert bad["ok"] is False and bad["error"] == "invalid_payload", bad
    gone = await sio.call("delete", {"room": room, "id": ack["id"]})
    assert gone["ok"], gone
    msg = await expect("delete")
    assert msg["message"] == "" and msg["deleted"]["by"] == "py-user" and "reactions" not in msg, msg
    again = await sio.call("delete", {"room": room, "id": ack["id"]})
    assert again["error"] == "not_found", again
    back = await sio.call("join", {"room": room, "since": ack["id"]})
    assert [m["id"] for m in back["history"]] == [ack["id"]], back
    await sio.disconnect()
    print("OK")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
