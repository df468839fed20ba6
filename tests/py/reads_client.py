"""Read state through python-socketio's AsyncClient: three people, one of them
on two devices; counts exact after a scripted run of messages, mentions, an
edit and reads; each device sees the other's reads; bad reads change
nothing. Run by tests/api/reads_clients.rs on both stores.

Usage: python reads_client.py URL ANN_TOKEN BOB_TOKEN CID_TOKEN
"""
import asyncio
import sys

import socketio

ROOM = "py-reads"


class Device:
    """One socket, with a queue per server event it may get."""

    def __init__(self):
        self.sio = socketio.AsyncClient()
        self.queues = {}
        for name in ("activity", "read"):
            q = asyncio.Queue()
            self.queues[name] = q
            self.sio.on(name, lambda data, q=q: q.put_nowait(data))

    async def connect(self, url, token):
        await self.sio.connect(url, auth={"token": token}, transports=["websocket"])
        return self

    async def call(self, event, data):
        return await self.sio.call(event, data, timeout=10)

    async def next(self, name):
        return await asyncio.wait_for(self.queues[name].get(), timeout=10)

    def pending(self, name):
        return self.queues[name].qsize()

    async def entry(self):
        ack = await self.call("rooms", {})
        assert ack["ok"], ack
        found = [r for r in ack["rooms"] if r["name"] == ROOM]
        assert len(found) == 1, ack
        return found[0]

    async def counts(self):
        r = await self.entry()
        return r.get("unread"), r.get("mentions")


async def main(url, ann_token, bob_token, cid_token):
    ann = await Device().connect(url, ann_token)
    laptop = await Device().connect(url, bob_token)
    phone = await Device().connect(url, bob_token)
    cid = await Device().connect(url, cid_token)

    # Everyone joins once (the room goes in their lists), then bob's laptop
    # and cid leave the room's socket room: listed, not joined.
    assert (await ann.call("join", {"room": ROOM}))["ok"]
    for d in (laptop, cid):
        assert (await d.call("join", {"room": ROOM}))["ok"]
        assert (await d.call("leave", {"room": ROOM}))["ok"]

    async def post(d, text):
        ack = await d.call("chat", {"room": ROOM, "message": text})
        assert ack["ok"], ack
        return ack["id"]

    assert (await cid.call("join", {"room": ROOM}))["ok"]
    m1 = await post(ann, "hello all")
    m2 = await post(ann, "@bob can you look?")
    m3 = await post(ann, "@cid and @bob: the plan")
    m4 = await post(cid, "on it @ann")
    assert (await cid.call("leave", {"room": ROOM}))["ok"]

    # Both of bob's devices hear of each message, whether joined or not,
    # marked when it mentions him.
    for device in (laptop, phone):
        seen = [await device.next("activity") for _ in range(4)]
        assert [(a["room"], a["id"], a["mention"]) for a in seen] == [
            (ROOM, m1, False), (ROOM, m2, True), (ROOM, m3, True), (ROOM, m4, False),
        ], seen
        assert seen[3]["user"]["id"] == "cid", seen

    assert await laptop.counts() == (4, 2)
    # Posting reads the room up to one's own message: cid's m4 read m1..m3.
    assert await cid.counts() == (0, 0)
    assert await ann.counts() == (1, 1)
    last = (await laptop.entry())["last"]
    assert last["id"] == m4 and last["user"]["id"] == "cid" and last["excerpt"] == "on it @ann", last

    # An edit that drops the mention takes it out of bob's count.
    edited = await ann.call("edit", {"room": ROOM, "id": m3, "message": "@cid: the plan"})
    assert edited["ok"], edited
    assert await phone.counts() == (4, 1)

    # The laptop reads up to m2: the phone is told, and counts the same.
    ack = await laptop.call("read", {"room": ROOM, "id": m2})
    assert ack == {"ok": True, "id": m2}, ack
    assert await phone.next("read") == {"room": ROOM, "id": m2}
    assert await phone.counts() == (2, 0)
    # The phone reads less far: nothing moves, and the answer says where it stands.
    ack = await phone.call("read", {"room": ROOM, "id": m1})
    assert ack == {"ok": True, "id": m2}, ack

    # Bad reads: past the newest, negative, not an integer, a room not in the list.
    for bad, code in (
        ({"room": ROOM, "id": m4 + 1000}, "invalid_payload"),
        ({"room": ROOM, "id": -1}, "invalid_payload"),
        ({"room": ROOM, "id": "3"}, "invalid_payload"),
        ({"room": "py-nowhere", "id": 1}, "not_found"),
    ):
        ack = await phone.call("read", bad)
        assert ack["ok"] is False and ack["error"] == code, (bad, ack)
    assert await laptop.counts() == (2, 0)

    # The phone reads everything: the laptop is told, and that is the first
    # `read` it gets (the barrier: no notice came for the read that did not
    # move, nor for the refused ones).
    ack = await phone.call("read", {"room": ROOM, "id": m4})
    assert ack == {"ok": True, "id": m4}, ack
    assert await laptop.next("read") == {"room": ROOM, "id": m4}
    assert laptop.pending("read") == 0
    assert await laptop.counts() == (0, 0)

    for d in (ann, laptop, phone, cid):
        await d.sio.disconnect()
    print("OK")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
