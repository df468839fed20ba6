// Uploaded files run no script: ann uploads an SVG and an HTML file, each
// with a script whose effects are observable (a synchronous XHR that posts
// a chat with the session cookie, and a cookie set), attaches them, and
// opens each URL: as served (an attachment: a download, nothing runs),
// then rendered (the same response without its Content-Disposition, so the
// sandboxing CSP alone must stop the script), and finally, as the
// control, without the security headers at all, where the script runs.
// After each opening, a marker chat is posted (an allowed request) and the
// room's history read: the script's chat, had it run, was committed before
// the page's load event (the XHR is synchronous), so before the marker.
// Driven by tests/api/browser_files.rs.
//
// usage: node files_security.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const h = require("./harness.cjs");

const [base] = process.argv.slice(2);
const problems = [];

const payload = (label) =>
  `var x = new XMLHttpRequest();` +
  `x.open("POST", "/api/rooms/lobby/messages", false);` +
  `x.setRequestHeader("Content-Type", "application/json");` +
  `x.send(JSON.stringify({message: "EFFECT ${label}"}));` +
  `document.cookie = "ran_${label}=1; path=/";`;

const svg = (label) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>${payload(label)}</script></svg>`;
const html = (label) => `<!doctype html><html><body><p>hi</p><script>${payload(label)}</script></body></html>`;

async function upload(page, kind, name, body) {
  return page.evaluate(
    async ({ kind, name, body }) => {
      const r = await fetch("/api/rooms/lobby/files", {
        method: "POST",
        headers: { "Content-Type": kind, "X-Filename": name },
        body,
      });
      if (r.status !== 201) throw new Error(`upload ${name}: ${r.status} ${await r.text()}`);
      return r.json();
    },
    { kind, name, body },
  );
}

/** The texts of the room's latest messages, read by the page's user. */
async function texts(page) {
  return page.evaluate(async () => {
    const r = await fetch("/api/rooms/lobby/messages?limit=100");
    const j = await r.json();
    return j.messages.map((m) => m.message);
  });
}

/** Opens `url` in a new page of `context`, its response's headers changed
 * by `strip` (names to remove; null: as served); resolves once the page
 * has loaded or the download started. */
async function open(context, url, strip) {
  const page = await context.newPage();
  if (strip) {
    await page.route(url, async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      for (const name of strip) delete headers[name];
      await route.fulfill({ response, headers });
    });
  }
  let downloaded = false;
  page.on("download", () => (downloaded = true));
  try {
    await page.goto(url, { waitUntil: "load" });
  } catch (e) {
    // An attachment: the navigation becomes a download.
    if (!/Download is starting|ERR_ABORTED/.test(String(e))) throw e;
    downloaded = true;
  }
  await page.close();
  return downloaded;
}

async function scenario(browser) {
  const context = await browser.newContext({ acceptDownloads: true });
  const ann = await h.newPage(context, problems);
  await h.register(ann, base, "ann");
  await ann.goto(`${base}/r/lobby`);
  await h.createRoom(ann);
  const stages = [
    ["as served", null],
    ["rendered", ["content-disposition"]],
  ];
  const files = [];
  for (const [kind, name, make] of [
    ["image/svg+xml", "x.svg", svg],
    ["text/html", "x.html", html],
  ]) {
    for (const [stage] of stages.concat([["control"]])) {
      const label = `${name}-${stage.replace(" ", "-")}`;
      const f = await upload(ann, kind, name, make(label));
      files.push({ f, label, stage });
    }
  }
  const ids = files.map(({ f }) => f.id);
  await ann.evaluate(async (ids) => {
    const r = await fetch("/api/rooms/lobby/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: "the files", files: ids }),
    });
    if (r.status !== 201) throw new Error(`attach: ${r.status}`);
  }, ids);
  let marker = 0;
  for (const { f, label, stage } of files) {
    const strip =
      stage === "control"
        ? ["content-security-policy", "content-disposition", "x-content-type-options"]
        : stages.find(([s]) => s === stage)[1];
    const downloaded = await open(context, `${base}${f.url}`, strip);
    if (stage === "as served") h.assert(downloaded, `${label} is downloaded, not shown`);
    marker += 1;
    await h.post(ann, "lobby", [`MARKER ${marker}`]);
    const seen = await texts(ann);
    h.assert(seen.includes(`MARKER ${marker}`), `marker ${marker} posted`);
    const ran = seen.includes(`EFFECT ${label}`);
    const cookies = (await context.cookies()).map((c) => c.name);
    const cookie = cookies.includes(`ran_${label}`);
    if (stage === "control") {
      h.assert(ran && cookie, `the control ${label} ran its script (chat ${ran}, cookie ${cookie})`);
    } else {
      h.assert(!ran && !cookie, `${label} ran no script (chat ${ran}, cookie ${cookie})`);
    }
  }
}

h.run(scenario, problems);
