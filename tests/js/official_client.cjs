// Drives roomcast with the official socket.io-client (the one browsers use).
// Usage: node official_client.cjs URL GOOD_TOKEN  (NODE_PATH=web/node_modules)
// Prints one JSON line of results; exits non-zero on any failure.
const { io } = require("socket.io-client");
const [url, token] = process.argv.slice(2);
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), 20000).unref();

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
    const joinA = await a.emitWithAck("join", { room });
    const joinB = await b.emitWithAck("join", { room });
    if (!joinA.ok || !joinB.ok) fail(`join failed: ${JSON.stringify(joinA)} ${JSON.stringify(joinB)}`);
    const got = new Promise((resolve) => b.on("chat", resolve));
    if (name === "upgrade") {
      await new Promise((r) => (a.io.engine.transport.name === "websocket" ? r() : a.io.engine.once("upgrade", r)));
    }
    const ack = await a.emitWithAck("chat", { room, message: "hello from " + name });
    const msg = await got;
    if (!ack.ok || msg.id !== ack.id || msg.message !== "hello from " + name) {
      fail(`chat mismatch: ${JSON.stringify(ack)} ${JSON.stringify(msg)}`);
    }
    const bad = await a.emitWithAck("chat", null);
    if (bad.error !== "invalid_payload") fail(`null payload: ${JSON.stringify(bad)}`);
    results[name] = { transport: a.io.engine.transport.name, id: ack.id };
    a.close();
    b.close();
  }
  console.log(JSON.stringify(results));
  process.exit(0);
}
main().catch((e) => fail(e.stack || String(e)));
