//! The `Moderate` side of the store contract (roles, mutes, bans, slow
//! mode, and the one `standing` read), the same on SQLite and PostgreSQL.

use roomcast::domain::{Ban, Message, Mute, Role, RoomName, RoomRecord, User, Visibility};
use roomcast::store::{self, Store, StoreError};

use crate::helpers::Backend;
use crate::pg::PgSchema;

fn name(room: &str) -> RoomName {
    RoomName::parse(room).expect("a room name")
}

async fn moderation_story(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgSchema::create().await),
    };
    let url = match &schema {
        Some(s) => s.url.clone(),
        None => format!("sqlite://{}", dir.path().join("t.db").display()),
    };
    let histogram = prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("t", "t"))
        .expect("histogram");
    let opened = store::open(&url, store::SqliteSync::Full, histogram)
        .await
        .expect("open");
    let s: &dyn Store = opened.store.as_ref();
    let hall = name("hall");
    let now = 1_000_000;
    assert_eq!(
        s.standing(&hall, "sam", now).await.expect("read"),
        None,
        "no room"
    );
    let record = RoomRecord {
        name: "hall".into(),
        visibility: Visibility::Public,
        owner: "olga".into(),
    };
    s.create_room(&record).await.expect("create");

    let st = s
        .standing(&hall, "olga", now)
        .await
        .expect("read")
        .expect("room");
    assert_eq!(
        (st.role, st.banned, st.muted_until, st.slow_mode),
        (Role::Owner, false, None, 0)
    );
    // Appointing is idempotent; dismissing says whether anything changed.
    assert!(
        s.set_moderator(&hall, "mia", "olga", true)
            .await
            .expect("appoint")
    );
    assert!(
        !s.set_moderator(&hall, "mia", "olga", true)
            .await
            .expect("again")
    );
    assert!(
        s.set_moderator(&hall, "max", "olga", true)
            .await
            .expect("appoint")
    );
    let st = s
        .standing(&hall, "mia", now)
        .await
        .expect("read")
        .expect("room");
    assert_eq!(st.role, Role::Moderator);
    assert_eq!(s.moderators(&hall).await.expect("list"), ["max", "mia"]);

    // A mute applies until its end, then no longer; muting again replaces it.
    let mute = Mute {
        user: "sam".into(),
        until: now + 5_000,
        by: "mia".into(),
    };
    s.mute(&hall, &mute).await.expect("mute");
    let h = &hall;
    let at = |t: i64| async move { s.standing(h, "sam", t).await.expect("read").expect("room") };
    assert_eq!(at(now).await.muted_until, Some(now + 5_000));
    assert_eq!(
        at(now + 5_000).await.muted_until,
        None,
        "expired at its end"
    );
    s.mute(
        &hall,
        &Mute {
            until: now + 9_000,
            ..mute.clone()
        },
    )
    .await
    .expect("again");
    assert_eq!(at(now).await.muted_until, Some(now + 9_000));
    assert!(
        !s.unmute(&hall, "sam", now + 10_000).await.expect("expired"),
        "nothing in force to lift"
    );
    s.mute(&hall, &mute).await.expect("mute");
    assert!(s.unmute(&hall, "sam", now).await.expect("unmute"));
    assert_eq!(at(now).await.muted_until, None);

    // A ban removes the invitation, the role and the mute.
    s.add_member(&hall, "mia").await.expect("invite");
    s.mute(
        &hall,
        &Mute {
            user: "mia".into(),
            ..mute.clone()
        },
    )
    .await
    .expect("mute");
    let ban = Ban {
        user: "mia".into(),
        by: "olga".into(),
        ts: now,
    };
    s.ban(&hall, &ban).await.expect("ban");
    s.ban(&hall, &ban).await.expect("banning twice is fine");
    let st = s
        .standing(&hall, "mia", now)
        .await
        .expect("read")
        .expect("room");
    assert_eq!(
        (st.role, st.banned, st.muted_until),
        (Role::Member, true, None)
    );
    assert!(!s.is_member(&hall, "mia").await.expect("member"));
    let list = s.moderation(&hall, now).await.expect("list");
    assert_eq!(list.moderators, ["max"]);
    assert_eq!(list.bans, [ban]);
    assert!(list.mutes.is_empty());
    assert!(s.unban(&hall, "mia").await.expect("unban"));
    assert!(!s.unban(&hall, "mia").await.expect("unban again"));

    // Slow mode reads the latest stored message, only while it is on.
    s.set_slow_mode(&hall, 30).await.expect("slow");
    assert_eq!(at(now).await.last_post, None, "sam never posted");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let message = store::NewMessage {
        room: hall.clone(),
        user: User::new("sam", "Sam"),
        message: "hi".into(),
        reply_to: None,
    };
    let done = Box::new(move |r: Result<&Message, StoreError>| {
        let _ = tx.send(r.map(|m| m.ts).ok());
    });
    opened.writer.submit(message, done).await;
    let ts = rx.await.expect("acked").expect("stored");
    let st = at(now).await;
    assert_eq!((st.slow_mode, st.last_post), (30, Some(ts)));
    s.set_slow_mode(&hall, 0).await.expect("off");
    assert_eq!(at(now).await.last_post, None, "not read while off");

    // Deleting the room takes its moderation with it.
    s.set_moderator(&hall, "mia", "olga", true)
        .await
        .expect("appoint");
    let admin = store::open_admin(&url, store::SqliteSync::Full)
        .await
        .expect("admin");
    admin.delete_room("hall").await.expect("delete");
    s.create_room(&record).await.expect("create again");
    assert!(s.moderators(&hall).await.expect("list").is_empty());
}

crate::on_both_backends!(moderation_story);
