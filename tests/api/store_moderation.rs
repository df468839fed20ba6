//! The `Moderate` side of the store contract (roles, mutes, bans, slow
//! mode, and the one `standing` read), and the writer's screen of posts and
//! changes against them, the same on SQLite and PostgreSQL.

use roomcast::domain::{Ban, Message, Mute, Role, RoomName, RoomRecord, User, Visibility};
use roomcast::store::{self, NewMessage, Restraint, Store, StoreError, Writer};

use crate::helpers::Backend;
use crate::pg::PgSchema;

fn name(room: &str) -> RoomName {
    RoomName::parse(room).expect("a room name")
}

fn post(room: &RoomName, user: &str, text: &str) -> store::Change {
    store::Change::Post(NewMessage {
        room: room.clone(),
        user: User::new(user, user),
        message: text.into(),
        reply_to: None,
        files: Vec::new(),
    })
}

/// Submits the changes one after another and returns each one's result
/// (the stored message's id, or why it was refused), in order.
async fn submit_all(writer: &Writer, changes: Vec<store::Change>) -> Vec<Result<i64, StoreError>> {
    let mut waits = Vec::new();
    for c in changes {
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer
            .apply(
                c,
                Box::new(move |r: Result<&Message, StoreError>| {
                    let _ = tx.send(r.map(|m| m.id));
                }),
            )
            .await;
        waits.push(rx);
    }
    let mut got = Vec::new();
    for w in waits {
        got.push(w.await.expect("answered"));
    }
    got
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
    // What delivery does with each committed batch: on PostgreSQL it holds
    // its rooms' locks until delivered, and the next batch waits for them.
    let mut committed = opened.committed;
    let _delivery = tokio::spawn(async move {
        while let Some(batch) = committed.recv().await {
            batch.deliver(async |_| {}).await;
        }
    });
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
        topic: None,
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
    // `entry`, the one read of a join, says the same.
    let e = s
        .entry(&hall, "max", now)
        .await
        .expect("read")
        .expect("room");
    assert_eq!(
        (
            e.room.owner.as_str(),
            e.standing.role,
            e.member,
            e.moderators
        ),
        ("olga", Role::Moderator, false, vec!["max".to_owned()])
    );
    let e = s
        .entry(&hall, "mia", now)
        .await
        .expect("read")
        .expect("room");
    assert_eq!(
        (e.standing.role, e.standing.banned, e.member),
        (Role::Member, true, false)
    );
    assert_eq!(
        s.entry(&name("nowhere"), "mia", now).await.expect("read"),
        None
    );
    assert_eq!(list.bans, [ban]);
    assert!(list.mutes.is_empty());
    assert!(s.unban(&hall, "mia").await.expect("unban"));
    assert!(!s.unban(&hall, "mia").await.expect("unban again"));

    // The writer screens each post in its batch: slow mode lets one per
    // interval through (the owner is exempt), a mute and a ban none.
    s.set_slow_mode(&hall, 30).await.expect("slow");
    let got = submit_all(
        &opened.writer,
        vec![
            post(&hall, "sam", "one"),
            post(&hall, "sam", "two"),
            post(&hall, "olga", "a"),
            post(&hall, "olga", "b"),
        ],
    )
    .await;
    assert!(got[0].is_ok(), "{got:?}");
    match &got[1] {
        Err(StoreError::Restrained(Restraint::Slowed {
            seconds,
            retry_after_ms,
            ..
        })) => assert!(*seconds == 30 && (1..=30_000).contains(retry_after_ms)),
        other => panic!("the second post within the interval: {other:?}"),
    }
    assert!(
        got[2].is_ok() && got[3].is_ok(),
        "the owner is exempt: {got:?}"
    );
    // A later batch sees the stored time.
    let got = submit_all(&opened.writer, vec![post(&hall, "sam", "three")]).await;
    assert!(
        matches!(
            got[0],
            Err(StoreError::Restrained(Restraint::Slowed { .. }))
        ),
        "{got:?}"
    );
    s.set_slow_mode(&hall, 0).await.expect("off");
    let real_now = roomcast::domain::now_ms();
    s.mute(
        &hall,
        &Mute {
            user: "sam".into(),
            until: real_now + 60_000,
            by: "olga".into(),
        },
    )
    .await
    .expect("mute");
    let edit = store::Change::Edit {
        room: hall.clone(),
        id: 1,
        user: User::new("sam", "Sam"),
        message: "changed".into(),
    };
    let got = submit_all(&opened.writer, vec![post(&hall, "sam", "four"), edit]).await;
    for r in &got {
        match r {
            Err(StoreError::Restrained(Restraint::Muted { until, .. })) => {
                assert_eq!(*until, real_now + 60_000)
            }
            other => panic!("muted: {other:?}"),
        }
    }
    assert!(s.unmute(&hall, "sam", real_now).await.expect("unmute"));
    s.ban(
        &hall,
        &Ban {
            user: "sam".into(),
            by: "olga".into(),
            ts: real_now,
        },
    )
    .await
    .expect("ban");
    let got = submit_all(&opened.writer, vec![post(&hall, "sam", "five")]).await;
    assert!(
        matches!(
            got[0],
            Err(StoreError::Restrained(Restraint::Banned { .. }))
        ),
        "{got:?}"
    );
    assert!(s.unban(&hall, "sam").await.expect("unban"));
    assert!(submit_all(&opened.writer, vec![post(&hall, "sam", "six")]).await[0].is_ok());

    // Deleting the room takes its moderation with it.
    s.set_moderator(&hall, "mia", "olga", true)
        .await
        .expect("appoint");
    let admin = store::open_admin(&url, store::SqliteSync::Full)
        .await
        .expect("admin");
    admin.delete_room("hall").await.expect("delete");
    // Messages hold no foreign key: the writer refuses a post to a room that is gone.
    let got = submit_all(&opened.writer, vec![post(&hall, "sam", "late")]).await;
    assert!(
        matches!(
            got[0],
            Err(StoreError::Restrained(Restraint::NoRoom { .. }))
        ),
        "{got:?}"
    );
    s.create_room(&record).await.expect("create again");
    assert!(s.moderators(&hall).await.expect("list").is_empty());
}

crate::on_both_backends!(moderation_story);
