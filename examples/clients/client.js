// Gets a token from the app, joins `general`, chats, and prints the chat when
// its own broadcast comes back: node client.js APP_URL NAME TEXT
// (a plain script: no top-level await; in a page, see ../chat.html)
const { io } = require("socket.io-client");

const [appUrl = "http://127.0.0.1:5000", name = "Bob", text = "hello from Node"] = process.argv.slice(2);

async function main() {
  // The app signs the token; roomcast only checks it.
  const res = await fetch(`${appUrl}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  const { token, url } = await res.json();

  const socket = io(url, { auth: { token } });
  const received = new Map(); // chats that reached us, by id
  const waiting = new Map(); // id -> resolve, for a chat not here yet
  socket.on("chat", (m) => {
    received.set(m.id, m);
    waiting.get(m.id)?.(m);
  });
  socket.on("connect_error", (err) => {
    console.error(`connect_error: ${err.message}`); // e.g. "unauthorized: token expired or not yet valid"
    process.exit(1);
  });

  const joined = await socket.emitWithAck("join", { room: "general" });
  if (!joined.ok) throw new Error(`join refused: ${joined.error}: ${joined.message}`);
  console.log("joined general");
  const ack = await socket.emitWithAck("chat", { room: "general", message: text });
  if (!ack.ok) throw new Error(`chat refused: ${ack.error}: ${ack.message}`);
  // Our own chat comes back to us as a broadcast, like everyone else's (it
  // may even arrive before its ack does).
  const mine = received.get(ack.id) || (await new Promise((resolve) => waiting.set(ack.id, resolve)));
  console.log(`${mine.user.name}: ${mine.message}`);
  socket.disconnect();
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
