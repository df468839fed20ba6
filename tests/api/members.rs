//! `DELETE /api/rooms/{room}/members/{user}`: the owner removes a member and
//! their sockets leave the room at once.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_removed_member_is_put_out_of_the_room_at_once() {
    let app = spawn_app().await;
    let (ann, bob) = (token("ann", None), token("bob", None));
    let r = app
        .post(
            "/api/rooms",
            json!({"name": "team", "visibility": "private"}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post(
            "/api/rooms/team/members",
            json!({"user": "bob"}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mut ann_c = app.client("ann").await;
    let mut bob_c = app.client("bob").await;
    ann_c.join("team").await;
    bob_c.join("team").await;
    ann_c.next("join").await;

    let delete = |bearer: &str| {
        app.http
            .delete(app.url("/api/rooms/team/members/bob"))
            .bearer_auth(bearer)
            .send()
    };
    assert_eq!(
        delete(&bob).await.expect("delete").status(),
        403,
        "owner only"
    );
    assert_eq!(delete(&ann).await.expect("delete").status(), 204);

    let gone = bob_c.next("leave").await;
    assert_eq!(gone["reason"], "removed");
    assert_eq!(gone["user"]["id"], "bob");
    assert_eq!(ann_c.next("leave").await["user"]["id"], "bob");
    ann_c.chat("team", "bob cannot read this").await;
    bob_c.none("chat", Duration::from_millis(300)).await;
    let again = bob_c.ack("join", json!({"room": "team"})).await;
    assert_eq!(again["error"], "forbidden");
    let chat = bob_c
        .ack("chat", json!({"room": "team", "message": "hello?"}))
        .await;
    assert_eq!(chat["error"], "not_in_room");
    assert_eq!(
        delete(&ann).await.expect("delete").status(),
        404,
        "no longer a member"
    );
}
