// Drives roomcast with the official socket.io-client (the one browsers use).
// Usage: node official_client.cjs URL GOOD_TOKEN [MODULE]  (NODE_PATH=web/node_modules)
// MODULE is the npm name of the client, `socket.io-client` (4.x) by default or
// `socket.io-client-v3` (3.x, an npm alias in web/package.json).
// Prints one JSON line of results; exits non-zero on any failure.
const [url, token, clientName = "socket.io-client"] = process.argv.slice(2);
const client = require(clientName);
// 4.x exports `io`; 3.x's CommonJS build exports the function itself too.
const io = client.io || client;
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), 20000).unref();

// An event with an ack, as a promise: 3.x has no `emitWithAck`.
const call = (s, event, data) => new Promise((resolve) => s.emit(event, data, resolve));

function connect(opts) {
  return new Promise((resolve, reject) => {
    const s = io(url, { reconnection: false, forceNew: true, ...opts });
    s.on("connect", () => resolve(s));
    s.on("connect_error", (err) => { s.close(); reject(err); });
  });
}

async function main() {
  const results = {};
  // Refused: a bad token gives connect_error "unauthorized: invalid token".
  try {
    await connect({ auth: { token: "bad" } });
    fail("bad token was accepted");
  } catch (err) {
    results.refused = err.message;
  }
  for (const [name, transports] of [["polling", ["polling"]], ["upgrade", ["polling", "websocket"]], ["websocket", ["websocket"]]]) {
    const a = await connect({ auth: { token }, transports });
    const b = await connect({ auth: { token }, transports });
    const room = "js-" + name;
    // Emitted at once, no waiting: the server must still see the join first.
    const joinA = await call(a, "join", { room });
    const joinB = await call(b, "join", { room });
    if (!joinA.ok || !joinB.ok) fail(`join failed: ${JSON.stringify(joinA)} ${JSON.stringify(joinB)}`);
    const got = new Promise((resolve) => b.on("chat", resolve));
    if (name === "upgrade") {
      await new Promise((r) => (a.io.engine.transport.name === "websocket" ? r() : a.io.engine.once("upgrade", r)));
    }
    const ack = await call(a, "chat", { room, message: "hello from " + name });
    const msg = await got;
    if (!ack.ok || msg.id !== ack.id || msg.message !== "hello from " + name) {
      fail(`chat mismatch: ${JSON.stringify(ack)} ${JSON.stringify(msg)}`);
    }
    const bad = await call(a, "chat", null);
    if (bad.error !== "invalid_payload") fail(`null payload: ${JSON.stringify(bad)}`);
    results[name] = { transport: a.io.engine.transport.name, id: ack.id };
    a.close();
    b.close();
  }
  console.log(JSON.stringify(results));
  process.exit(0);
}
main().catch((e) => fail(e.stack || String(e)));
