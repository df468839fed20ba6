// Room moderation through the official socket.io-client: an owner mutes and
// bans a member of a public room.
// Usage: node moderation.cjs URL OWNER_TOKEN MEMBER_TOKEN  (NODE_PATH=web/node_modules)
// Prints one JSON line of what the member saw; exits non-zero on any failure.
const [url, ownerToken, memberToken] = process.argv.slice(2);
const { io } = require("socket.io-client");
const fail = (why) => { console.error(why); process.exit(1); };
setTimeout(() => fail("timed out"), 20000).unref();

const connect = (token) => new Promise((resolve, reject) => {
  const s = io(url, { reconnection: false, forceNew: true, auth: { token } });
  s.on("connect", () => resolve(s));
  s.on("connect_error", reject);
});
const next = (s, event) => new Promise((resolve) => s.once(event, resolve));

async function main() {
  const owner = await connect(ownerToken);
  const member = await connect(memberToken);
  const room = "js-moderation";
  const ownerJoin = await owner.emitWithAck("join", { room });
  const memberJoin = await member.emitWithAck("join", { room });
  if (ownerJoin.role !== "owner" || memberJoin.role !== "member") {
    fail(`roles: ${JSON.stringify([ownerJoin, memberJoin])}`);
  }
  const results = {};
  let told = next(member, "moderation");
  // The member's id is the `sub` of their token.
  const user = memberJoin.online.find((u) => u.id !== "olga").id;
  results.mute = await owner.emitWithAck("mute", { room, user, seconds: 60 });
  results.muted = await told;
  results.refused = await member.emitWithAck("chat", { room, message: "may I?" });
  told = next(member, "moderation");
  const left = next(member, "leave");
  results.ban = await owner.emitWithAck("ban", { room, user });
  results.banned = await told;
  results.leave = await left;
  results.rejoin = await member.emitWithAck("join", { room });
  console.log(JSON.stringify(results));
  owner.close();
  member.close();
  process.exit(0);
}
main().catch((e) => fail(e.stack || String(e)));
