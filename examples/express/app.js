// An Express app whose users chat through roomcast: it signs their tokens
// (roomcast never sees its passwords) and serves the chat page ../chat.html.
const path = require("node:path");
const express = require("express");
const jwt = require("jsonwebtoken");

const ROOMCAST_URL = process.env.ROOMCAST_URL || "http://127.0.0.1:3000";
const SECRET = process.env.ROOMCAST_JWT_SECRET; // the same secret roomcast runs with
if (!SECRET) throw new Error("set ROOMCAST_JWT_SECRET to roomcast's --jwt-secret");

const app = express();
app.use(express.json());

app.get("/", (req, res) => res.sendFile(path.join(__dirname, "..", "chat.html")));

app.post("/token", (req, res) => {
  // A real app takes the user from its own login (a session, passport's
  // req.user); this one believes the name it is sent.
  const name = String((req.body && req.body.name) || "");
  if (!/^[A-Za-z0-9 ._-]{1,32}$/.test(name)) {
    return res.status(400).json({ error: "a name of 1 to 32 letters, digits, spaces or ._-" });
  }
  const token = jwt.sign(
    { sub: `express:${name.toLowerCase()}`, name }, // the user's id in this app, and what others see
    SECRET,
    { algorithm: "HS256", expiresIn: 600 }, // short-lived: the page asks again when it reconnects
  );
  res.json({ token, url: ROOMCAST_URL });
});

const server = app.listen(Number(process.env.PORT || 5000), "127.0.0.1", () => {
  const { port } = server.address();
  console.log(`chat page on http://127.0.0.1:${port} (roomcast at ${ROOMCAST_URL})`);
});
