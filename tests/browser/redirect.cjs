// Signing in (and registering) with a hostile `?next=` never leaves this
// origin: each case signs in in a fresh context and must end on this
// server (its lobby, or a path of its own), with no request to any other host. Driven by tests/api/browser.rs.
//
// usage: node redirect.cjs BASE_URL     (prints RESULT {json} on success)
const h = require("./harness.cjs");

const [base] = process.argv.slice(2);
const origin = new URL(base).origin;
// As they appear in the address bar: each was seen to reach http://evil.example/d.
const HOSTILE = [
  "/%09/evil.example/d",
  "/%0a/evil.example/d",
  "/%0d/evil.example/d",
  "/%09%5Cevil.example/d",
  "//evil.example/d",
  "/%5Cevil.example/d",
  "https://evil.example/d",
  "/.//evil.example/d",
  "javascript:alert(1)",
];
const problems = [];

/** Signs in on `page` (login or register form) and waits for where it lands. */
async function signIn(context, kind, next, name) {
  const page = await h.newPage(context, problems);
  const left = [];
  const navigations = [];
  let sawForeign;
  const foreign = new Promise((resolve) => (sawForeign = resolve));
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (route.request().isNavigationRequest()) navigations.push(url.href);
    if (url.origin === origin) return route.continue();
    left.push(url.href);
    sawForeign();
    return route.abort();
  });
  await page.goto(`${base}/${kind}?next=${next}`);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("correct horse battery");
  const button = kind === "register" ? "Create account" : "Sign in";
  await page.getByRole("button", { name: button }).click();
  // Off the sign-in page, on this origin. `/.//evil.example/d` is this
  // server's path `//evil.example/d`, a 404 that fails the wait: where the
  // browser went is read from its navigations instead.
  const off = (u) => u.origin === origin && !["/login", "/register"].includes(u.pathname);
  const arrived = page.waitForURL(off, { waitUntil: "commit" }).catch(() => {});
  await Promise.race([arrived, foreign]);
  return { next, kind, landed: navigations[navigations.length - 1], left };
}

async function main() {
  const browser = await h.launch();
  const results = [];
  try {
    for (const [i, next] of HOSTILE.entries()) {
      const context = await browser.newContext();
      // The first case registers the account the others sign in to.
      const kind = i === 0 ? "register" : "login";
      results.push(await signIn(context, kind, next, "eve"));
      await context.close();
    }
    // A path of this server is still followed, query and fragment included.
    const context = await browser.newContext();
    const page = await h.newPage(context, problems);
    await page.goto(`${base}/login?next=${encodeURIComponent("/r/kept?x=1#end")}`);
    await page.getByLabel("Username").fill("eve");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/r/kept?x=1#end`);
    await context.close();
  } finally {
    await browser.close();
  }
  h.tell(`RESULT ${JSON.stringify({ results, problems })}`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
