import os

from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

app = Flask(__name__)
hook = Webhook(os.environ["ROOMCAST_WEBHOOK_SECRET"])


@app.post("/roomcast")
def roomcast_event():
    try:
        event = hook.verify(request.get_data(), request.headers)
    except WebhookVerificationError:
        return "", 401
    # The same id on every retry: skip what you have already handled.
    print(event["type"], event["id"], event["data"].get("id", ""), flush=True)
    return "", 204


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", 5001)))
