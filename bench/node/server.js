// Reference Socket.IO 4.8 server speaking roomcast's chat subset, with no
// auth and no persistence: `join {room}` then `chat {room, message}`, echoed
// to the room (sender included), acks as in PROTOCOL §4.
//
//   node server.js [HOST:PORT] [DROP_EVERY]
//
// Prints "listening on http://HOST:PORT" once bound. DROP_EVERY=n acks every
// n-th chat but broadcasts it to no one (to check a load tool counts losses).
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const [host, port] = (process.argv[2] || "127.0.0.1:3002").split(":");
const dropEvery = Number(process.argv[3] || 0);

const httpServer = http.createServer();
// socket.io's defaults: what a Node app would run.
const io = new Server(httpServer);

let lastId = 0;

function refuse(ack, error) {
  if (typeof ack === "function") ack({ ok: false, error, message: error });
}

io.on("connection", (socket) => {
  socket.on("join", (payload, ack) => {
    const room = payload && typeof payload.room === "string" ? payload.room : null;
    if (!room) return refuse(ack, "invalid_payload");
    socket.join(room);
    if (typeof ack === "function") {
      ack({
        ok: true,
        room: { name: room, visibility: "public", owner: "", online: 0 },
        history: [],
        more: false,
        online: [],
      });
    }
  });

  socket.on("chat", (payload, ack) => {
    const room = payload && typeof payload.room === "string" ? payload.room : null;
    const message = payload && typeof payload.message === "string" ? payload.message : null;
    if (!room || message === null) return refuse(ack, "invalid_payload");
    if (!socket.rooms.has(room)) return refuse(ack, "not_in_room");
    const id = ++lastId;
    const ts = Date.now();
    if (!(dropEvery > 0 && id % dropEvery === 0)) {
      io.to(room).emit("chat", {
        id,
        room,
        user: { id: socket.id, name: socket.id },
        message,
        ts,
      });
    }
    if (typeof ack === "function") ack({ ok: true, id, ts });
  });
});

httpServer.listen(Number(port), host, () => {
  const a = httpServer.address();
  console.log(`listening on http://${a.address}:${a.port}`);
});
