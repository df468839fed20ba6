const express = require("express");
const { Webhook } = require("standardwebhooks");

const hook = new Webhook(process.env.ROOMCAST_WEBHOOK_SECRET);
const app = express();

// The raw body: the signature covers the bytes as sent.
app.post("/roomcast", express.raw({ type: "application/json" }), (req, res) => {
  let event;
  try {
    event = hook.verify(req.body, req.headers);
  } catch {
    return res.sendStatus(401);
  }
  // The same id on every retry: skip what you have already handled.
  console.log(event.type, event.id, event.data.id ?? "");
  res.sendStatus(204);
});

app.listen(process.env.PORT || 4001);
