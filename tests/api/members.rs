//! `POST` and `DELETE /api/rooms/{room}/members`: the owner manages a private room.

use serde_json::{Value, json};

use crate::helpers::*;

/// A private room `staff` owned by olga, with sam invited; returns olga's token.
async fn staff_room(app: &TestApp) -> String {
    let owner = token("olga", None);
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "staff", "visibility": "private"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    app.seen("sam").await;
    let r = app
        .post(
            "/api/rooms/staff/members",
            json!({"user": "sam"}),
            Some(&owner),
        )
        .await;
    assert_eq!(r.status(), 201);
    owner
}

#[tokio::test]
async fn removed_member_leaves_the_room_at_once_and_others_are_told() {
    let app = spawn_app().await;
    let owner = staff_room(&app).await;
    let mut olga = app
        .connect(Connect::token(owner.clone()))
        .await
        .expect("olga");
    olga.join("staff").await;
    let mut sam = app.client("sam").await;
    sam.join("staff").await;
    olga.next("join").await;

    let r = app
        .delete("/api/rooms/staff/members/sam", Some(&owner))
        .await;
    assert_eq!(r.status(), 204);

    let notice = olga.next("leave").await;
    assert_eq!(notice["user"]["id"], "sam");
    assert_eq!(notice["reason"], "removed");
    assert_eq!(sam.next("leave").await["reason"], "removed");

    // sam's socket is out: chats no longer reach it, and it cannot send or rejoin.
    olga.chat("staff", "after removal").await;
    let ack = sam
        .ack("chat", json!({"room": "staff", "message": "hi"}))
        .await;
    assert_eq!(ack["error"], "not_in_room");
    let ack = sam.ack("join", json!({"room": "staff"})).await;
    assert_eq!(ack["error"], "forbidden");
    // Sam's chat in a room of his own is stored after Olga's (acked), and
    // chats reach a socket in commit order: it comes after hers would have.
    sam.join("lobby").await;
    sam.chat("lobby", "barrier").await;
    sam.none_before("chat", "chat", |m| m["room"] == "lobby")
        .await;
    // The room no longer counts sam online.
    let ack = olga.ack("join", json!({"room": "staff"})).await;
    assert_eq!(ack["online"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn removing_members_is_for_the_owner_and_errors_change_nothing() {
    let app = spawn_app().await;
    let owner = staff_room(&app).await;
    let mut sam = app.client("sam").await;
    sam.join("staff").await;

    let cases = [
        (
            "/api/rooms/staff/members/sam",
            Some(token("sam", None)),
            403,
            "forbidden",
        ),
        ("/api/rooms/staff/members/sam", None, 401, "unauthorized"),
        (
            "/api/rooms/nowhere/members/sam",
            Some(owner.clone()),
            404,
            "not_found",
        ),
        (
            "/api/rooms/staff/members/eve",
            Some(owner.clone()),
            404,
            "not_found",
        ),
        (
            "/api/rooms/bad%20name/members/sam",
            Some(owner.clone()),
            400,
            "invalid_room",
        ),
    ];
    for (path, bearer, status, code) in cases {
        let r = app.delete(path, bearer.as_deref()).await;
        assert_eq!(r.status(), status, "{path}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"], code, "{path}: {body}");
        assert!(body["message"].is_string());
    }
    // sam is still in and still a member. A removal emits its `leave`
    // before the DELETE is answered, and every DELETE was: a notice would
    // precede this ack.
    sam.none_before_ack("leave").await;
    sam.chat("staff", "still here").await;
    let again = app.client("sam").await;
    assert_eq!(
        again.ack("join", json!({"room": "staff"})).await["ok"],
        true
    );
}

#[tokio::test]
async fn a_token_naming_the_room_keeps_access_after_removal() {
    let app = spawn_app().await;
    let owner = staff_room(&app).await;
    let mut claimed = app
        .connect(Connect::token(token("sam", Some(&["staff"]))))
        .await
        .expect("claimed");
    claimed.join("staff").await;
    let mut plain = app.client("sam").await;
    plain.join("staff").await;

    let r = app
        .delete("/api/rooms/staff/members/sam", Some(&owner))
        .await;
    assert_eq!(r.status(), 204);
    // Only the socket without the claim is taken out.
    assert_eq!(plain.next("leave").await["reason"], "removed");
    claimed.chat("staff", "claim still admits").await;
    assert_eq!(claimed.next("chat").await["message"], "claim still admits");
}
