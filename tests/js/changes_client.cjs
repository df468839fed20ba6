// The official socket.io-client (4.x) edits, deletes, replies and reacts.
// Usage: node changes_client.cjs URL ANN_TOKEN BOB_TOKEN  (NODE_PATH=web/node_modules)
// Prints one JSON line of what it saw; exits non-zero on any failure.
const [url, annToken, bobToken] = process.argv.slice(2);
const { io } = require("socket.io-client");
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), 20000).unref();

function connect(token) {
  return new Promise((resolve, reject) => {
    const s = io(url, { reconnection: false, forceNew: true, transports: ["websocket"], auth: { token } });
    s.on("connect", () => resolve(s));
    s.on("connect_error", reject);
  });
}

/** The next `event` on `s` (as a promise). */
const next = (s, event) => new Promise((resolve) => s.once(event, resolve));
/** The first `event` on `s` whose payload `pred` accepts. */
const until = (s, event, pred) =>
  new Promise((resolve) => {
    const on = (m) => {
      if (!pred(m)) return;
      s.off(event, on);
      resolve(m);
    };
    s.on(event, on);
  });

async function main() {
  const ann = await connect(annToken);
  const bob = await connect(bobToken);
  const room = "js-changes";
  for (const s of [ann, bob]) {
    const j = await s.emitWithAck("join", { room });
    if (!j.ok) fail(`join: ${JSON.stringify(j)}`);
  }
  const out = {};
  const posted = await ann.emitWithAck("chat", { room, message: "first" });
  const replyEvent = until(ann, "chat", (m) => m.message === "second");
  const reply = await bob.emitWithAck("chat", { room, message: "second", reply_to: posted.id });
  out.reply = await replyEvent;
  const editEvent = next(bob, "edit");
  out.editAck = await ann.emitWithAck("edit", { room, id: posted.id, message: "first, edited" });
  out.edit = await editEvent;
  const reactEvent = next(ann, "reaction");
  out.reactAck = await bob.emitWithAck("react", { room, id: posted.id, emoji: "👍🏽" });
  out.reaction = await reactEvent;
  const unreactEvent = next(ann, "reaction");
  await bob.emitWithAck("unreact", { room, id: posted.id, emoji: "👍🏽" });
  out.unreaction = await unreactEvent;
  out.forbidden = await bob.emitWithAck("edit", { room, id: posted.id, message: "mine now" });
  out.notEmoji = await bob.emitWithAck("react", { room, id: posted.id, emoji: "ok" });
  const deleteEvent = next(ann, "delete");
  out.deleteAck = await ann.emitWithAck("delete", { room, id: reply.id });
  out.delete = await deleteEvent;
  out.history = (await bob.emitWithAck("history", { room })).messages;
  console.log(JSON.stringify(out));
  ann.close();
  bob.close();
}

main().catch((e) => fail(e.stack || String(e)));
