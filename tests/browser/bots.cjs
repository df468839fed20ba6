// A bot's key and a server key post to a room a person has open: the bot's
// message shows a BOT badge, the server key's post (X-Roomcast-As) shows as
// that person's own; the bot's socket in the room shows with the badge in
// the people list; screenshots at desktop and phone width. Driven by
// tests/api/keys.rs.
//
// usage: node bots.cjs BASE_URL SCREENSHOT_DIR BOT_KEY SERVER_KEY   (prints RESULT {json})
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots, botKey, serverKey] = process.argv.slice(2);
const problems = [];

async function postWith(key, message, headers = {}) {
  const res = await fetch(`${base}/api/rooms/ops/messages`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ message }),
  });
  const text = await res.text();
  h.assert(res.status === 201, `post ${message}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function main() {
  const browser = await h.launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await h.newPage(context, problems);
    await page.goto(`${base}/register`);
    await page.getByLabel("Username").fill("ann");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/r/ops`);
    await h.waitOnline(page);
    // The bot's socket is in the room too (the Rust side joined it): the
    // people list shows it with the badge.
    await page.waitForSelector('#people .person[data-user="bot:deploy-bot"] .bot-badge');
    const people = await page.$$eval("#people .person", (nodes) =>
      nodes.map((n) => ({
        user: n.dataset.user,
        badge: n.querySelector(".bot-badge")?.textContent ?? null,
      })),
    );
    const bot = await postWith(botKey, "deploy 42 finished");
    const asAnn = await postWith(serverKey, "posted for ann by the backend", { "X-Roomcast-As": "acct:ann" });
    await h.waitForMessage(page, "deploy 42 finished");
    await h.waitForMessage(page, "posted for ann by the backend");
    const rows = await page.$$eval("#messages li.msg", (nodes) =>
      nodes.map((n) => ({
        user: n.dataset.user,
        author: n.querySelector(".author")?.textContent ?? null,
        badge: n.querySelector(".bot-badge")?.textContent ?? null,
      })),
    );
    await page.screenshot({ path: path.join(shots, "bots-desktop.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(shots, "bots-phone.png") });
    h.tell(`RESULT ${JSON.stringify({ problems, rows, people, bot: bot.user, asAnn: asAnn.user })}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
