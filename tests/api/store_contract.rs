//! One story of the `Store` contract, run against SQLite and PostgreSQL:
//! both backends must behave the same to every caller.

use std::sync::{Arc, Mutex};

use roomcast::domain::{RoomRecord, User, Visibility};
use roomcast::store::{self, NewMessage, Page, Store, StoreError};

use crate::pg::PgSchema;
use crate::pg_server::PgServer;

fn user(id: &str) -> User {
    User {
        id: id.into(),
        name: format!("{id} name"),
    }
}

fn room(name: &str, visibility: Visibility, owner: &str) -> RoomRecord {
    RoomRecord {
        name: name.into(),
        visibility,
        owner: owner.into(),
    }
}

fn msg(room: &str, who: &str, text: &str) -> NewMessage {
    NewMessage {
        room: room.into(),
        user: user(who),
        message: text.into(),
    }
}

async fn accounts_and_sessions(s: &dyn Store) {
    assert_eq!(
        s.setting_or_insert("k", "first").await.expect("store call"),
        "first"
    );
    assert_eq!(
        s.setting_or_insert("k", "second")
            .await
            .expect("store call"),
        "first"
    );

    s.create_user(&user("ann"), "hash")
        .await
        .expect("store call");
    assert!(matches!(
        s.create_user(&user("ann"), "other").await,
        Err(StoreError::Conflict)
    ));
    let c = s
        .credentials("ann")
        .await
        .expect("store call")
        .expect("ann exists");
    assert_eq!(
        (c.user, c.password_hash.as_str(), c.disabled),
        (user("ann"), "hash", false)
    );
    assert!(s.credentials("nobody").await.expect("store call").is_none());

    s.create_session("tok", "ann", 2_000)
        .await
        .expect("store call");
    assert!(matches!(
        s.create_session("tok", "ann", 3_000).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        s.session_user("tok", 1_999).await.expect("store call"),
        Some(user("ann"))
    );
    assert_eq!(
        s.session_user("tok", 2_000).await.expect("store call"),
        None,
        "expired"
    );
    s.delete_session("tok").await.expect("store call");
    assert_eq!(
        s.session_user("tok", 0).await.expect("store call"),
        None,
        "deleted"
    );
    s.ping().await.expect("store call");
}

async fn rooms_and_members(s: &dyn Store) {
    s.create_room(&room("pub", Visibility::Public, "ann"))
        .await
        .expect("store call");
    s.create_room(&room("secret", Visibility::Private, "ann"))
        .await
        .expect("store call");
    s.create_room(&room("bobs", Visibility::Private, "bob"))
        .await
        .expect("store call");
    assert!(matches!(
        s.create_room(&room("pub", Visibility::Private, "bob"))
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        s.room("secret").await.expect("store call"),
        Some(room("secret", Visibility::Private, "ann"))
    );
    assert_eq!(s.room("none").await.expect("store call"), None);

    assert!(!s.is_member("secret", "cat").await.expect("store call"));
    s.add_member("secret", "cat").await.expect("store call");
    s.add_member("secret", "cat").await.expect("store call");
    assert!(s.is_member("secret", "cat").await.expect("store call"));

    let names = |rs: Vec<RoomRecord>| rs.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(s.rooms_for("ann").await.expect("store call")),
        ["pub", "secret"]
    );
    assert_eq!(
        names(s.rooms_for("bob").await.expect("store call")),
        ["bobs", "pub"]
    );
    assert_eq!(
        names(s.rooms_for("cat").await.expect("store call")),
        ["pub", "secret"]
    );
}

async fn messages_and_pages(s: &dyn Store) {
    // Taking the messages drops the order guard ("delivered"), as the
    // writer does; a kept guard would hold the next append of these rooms.
    let first = s
        .append(vec![
            msg("a", "ann", "a1"),
            msg("b", "bob", "b1"),
            msg("a", "ann", "a2"),
        ])
        .await
        .expect("store call")
        .messages;
    let second = s
        .append((3..=6).map(|i| msg("a", "ann", &format!("a{i}"))).collect())
        .await
        .expect("store call")
        .messages;
    let ids: Vec<i64> = first.iter().chain(&second).map(|m| m.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    assert_eq!(first[1].user, user("bob"));

    let texts = |p: &store::HistoryPage| {
        p.messages
            .iter()
            .map(|m| m.message.clone())
            .collect::<Vec<_>>()
    };
    let latest = s
        .history("a", Page::Latest { limit: 4 })
        .await
        .expect("store call");
    assert_eq!(
        (texts(&latest), latest.more),
        (
            vec!["a3".into(), "a4".into(), "a5".into(), "a6".into()],
            true
        )
    );
    let before = s
        .history(
            "a",
            Page::Before {
                id: latest.messages[0].id,
                limit: 10,
            },
        )
        .await
        .expect("store call");
    assert_eq!(
        (texts(&before), before.more),
        (vec!["a1".into(), "a2".into()], false)
    );
    let after = s
        .history(
            "a",
            Page::After {
                id: before.messages[1].id,
                limit: 3,
            },
        )
        .await
        .expect("store call");
    assert_eq!(
        (texts(&after), after.more),
        (vec!["a3".into(), "a4".into(), "a5".into()], true)
    );
    let b = s
        .history("b", Page::Latest { limit: 50 })
        .await
        .expect("store call");
    assert_eq!(b.messages, vec![first[1].clone()]);
    assert!(
        s.history("none", Page::Latest { limit: 50 })
            .await
            .expect("store call")
            .messages
            .is_empty()
    );
}

/// Issue 4's methods: member removal and what `roomcast user|room` uses.
async fn administration(s: &dyn Store) {
    assert!(s.remove_member("secret", "cat").await.expect("store call"));
    assert!(!s.is_member("secret", "cat").await.expect("store call"));
    assert!(
        !s.remove_member("secret", "cat").await.expect("store call"),
        "not a member any more"
    );
    assert!(!s.remove_member("none", "cat").await.expect("store call"));

    // Byte order on both backends, whatever the database's collation.
    s.create_user(&user("Zed"), "z").await.expect("store call");
    s.create_user(&user("bob"), "b").await.expect("store call");
    let listed = |v: Vec<(User, bool)>| {
        v.into_iter()
            .map(|(u, off)| (u.id, off))
            .collect::<Vec<_>>()
    };
    let all = |ids: [(&str, bool); 3]| ids.map(|(id, off)| (id.to_owned(), off)).to_vec();
    assert_eq!(
        listed(s.users().await.expect("store call")),
        all([("Zed", false), ("ann", false), ("bob", false)])
    );

    s.set_password("bob", "new hash").await.expect("store call");
    let bob = s.credentials("bob").await.expect("store call");
    assert_eq!(bob.map(|c| c.password_hash), Some("new hash".into()));
    assert!(matches!(
        s.set_password("nobody", "h").await,
        Err(StoreError::NotFound)
    ));

    // Disabling ends sessions; enabling again does not bring them back.
    s.create_session("bob-tok", "bob", i64::MAX)
        .await
        .expect("store call");
    s.set_disabled("bob", true).await.expect("store call");
    assert_eq!(
        listed(s.users().await.expect("store call")),
        all([("Zed", false), ("ann", false), ("bob", true)])
    );
    assert!(
        s.credentials("bob")
            .await
            .expect("store call")
            .is_some_and(|c| c.disabled)
    );
    s.set_disabled("bob", false).await.expect("store call");
    assert_eq!(
        s.session_user("bob-tok", 0).await.expect("store call"),
        None
    );
    assert!(matches!(
        s.set_disabled("nobody", true).await,
        Err(StoreError::NotFound)
    ));

    s.create_room(&room("Zoo", Visibility::Public, "bob"))
        .await
        .expect("store call");
    let names = |rs: Vec<RoomRecord>| rs.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(s.all_rooms().await.expect("store call")),
        ["Zoo", "bobs", "pub", "secret"]
    );
    assert_eq!(
        names(s.rooms_for("bob").await.expect("store call")),
        ["Zoo", "bobs", "pub"]
    );
}

/// Deleting a room takes its members and history with it, and nothing else.
async fn room_deletion(s: &dyn Store) {
    s.add_member("bobs", "cat").await.expect("store call");
    assert!(
        matches!(s.delete_room("a").await, Err(StoreError::NotFound)),
        "\"a\" has messages but was never created"
    );
    s.append(vec![msg("bobs", "bob", "hello")])
        .await
        .expect("store call");
    s.delete_room("bobs").await.expect("store call");
    assert_eq!(s.room("bobs").await.expect("store call"), None);
    assert!(!s.is_member("bobs", "cat").await.expect("store call"));
    let gone = s.history("bobs", Page::Latest { limit: 50 }).await;
    assert!(gone.expect("store call").messages.is_empty());
    assert!(matches!(
        s.delete_room("bobs").await,
        Err(StoreError::NotFound)
    ));
    // A room created again under the name starts empty, with no members.
    s.create_room(&room("bobs", Visibility::Private, "bob"))
        .await
        .expect("store call");
    assert!(!s.is_member("bobs", "cat").await.expect("store call"));
    let a = s.history("a", Page::Latest { limit: 50 }).await;
    assert_eq!(
        a.expect("store call").messages.len(),
        6,
        "other rooms keep theirs"
    );
}

async fn story(s: &dyn Store) {
    accounts_and_sessions(s).await;
    rooms_and_members(s).await;
    messages_and_pages(s).await;
    administration(s).await;
    room_deletion(s).await;
}

#[tokio::test]
async fn sqlite_store_keeps_the_store_contract() {
    let dir = tempfile::tempdir().expect("store call");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let s = store::open(&url, store::SqliteSync::Full)
        .await
        .expect("store call");
    story(s.as_ref()).await;
}

#[tokio::test]
async fn postgres_store_keeps_the_store_contract() {
    let schema = PgSchema::create().await;
    let s = store::open(&schema.url, store::SqliteSync::Full)
        .await
        .expect("store call");
    story(s.as_ref()).await;
    // Opening again (a restart, or a second node) migrates nothing twice.
    let again = store::open(&schema.url, store::SqliteSync::Full)
        .await
        .expect("store call");
    assert_eq!(
        again
            .history("a", Page::Latest { limit: 50 })
            .await
            .expect("store call")
            .messages
            .len(),
        6
    );
}

/// A database created with a natural-language collation (as Debian's
/// default cluster is, from the system locale) sorts "ann" before "Zed";
/// the store must still list in byte order, as SQLite does.
#[tokio::test]
async fn postgres_store_keeps_the_store_contract_under_a_language_collation() {
    let pg = PgServer::start_with(&["--locale-provider=icu", "--icu-locale=en"]).await;
    let s = store::open(&pg.url(), store::SqliteSync::Full)
        .await
        .expect("store call");
    story(s.as_ref()).await;
}

/// Two nodes append to one room at once. Each "delivers" (records its ids)
/// while holding the batch's order guard: the recorded ids must be in
/// increasing order, or a client on a third node would see them out of order.
#[tokio::test]
async fn postgres_writers_on_two_nodes_deliver_a_room_in_id_order() {
    let schema = PgSchema::create().await;
    let nodes = [
        store::open(&schema.url, store::SqliteSync::Full)
            .await
            .expect("store call"),
        store::open(&schema.url, store::SqliteSync::Full)
            .await
            .expect("store call"),
    ];
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (n, node) in nodes.into_iter().enumerate() {
        let delivered = delivered.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let batch = vec![msg("shared", "ann", &format!("{n}-{i}")); 1 + i % 3];
                let appended = node.append(batch).await.expect("append");
                tokio::task::yield_now().await;
                delivered
                    .lock()
                    .expect("store call")
                    .extend(appended.messages.iter().map(|m| m.id));
                drop(appended.order);
            }
        }));
    }
    for t in tasks {
        t.await.expect("store call");
    }
    let ids = delivered.lock().expect("store call").clone();
    // Batch sizes cycle 1, 2, 3 over 40 rounds: 14 + 13·2 + 13·3 per node.
    assert_eq!(ids.len(), 2 * (14 + 13 * 2 + 13 * 3));
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "delivery order is id order: {ids:?}"
    );
}
