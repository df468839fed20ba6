//! One story of the `Store` and `Admin` contract, run against SQLite and
//! PostgreSQL: both backends must behave the same to every caller.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roomcast::domain::{Message, RoomName, RoomRecord, User, Visibility};
use roomcast::store::{
    self, Account, Admin, Applied, Happened, NewMessage, Page, Store, StoreError, Writer,
};
use tokio::sync::mpsc;

use crate::pg::PgSchema;
use crate::pg_server::PgServer;

/// A store opened as the server opens it: its writer appends and its
/// batches are delivered into `delivered`.
struct Node {
    store: Arc<dyn Store>,
    writer: Writer,
    delivered: mpsc::UnboundedReceiver<Applied>,
}

/// How long a test waits for a delivery that must come.
const PATIENCE: Duration = Duration::from_secs(10);

fn histogram() -> prometheus::Histogram {
    prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("t", "t"))
        .expect("a valid histogram")
}

async fn open(url: &str) -> Node {
    open_with(url, store::SqliteSync::Full).await
}

async fn open_with(url: &str, sync: store::SqliteSync) -> Node {
    let opened = store::open(url, sync, histogram())
        .await
        .expect("store open");
    let (tx, delivered) = mpsc::unbounded_channel();
    let mut committed = opened.committed;
    tokio::spawn(async move {
        while let Some(batch) = committed.recv().await {
            batch
                .deliver(async |changes| {
                    for c in changes {
                        let _ = tx.send(c.clone());
                    }
                })
                .await;
        }
    });
    Node {
        store: opened.store,
        writer: opened.writer,
        delivered,
    }
}

/// The writer refuses posts to a room that does not exist (as one deleted
/// meanwhile): the tests that post make each room first, private and
/// nobody's, so that no list of rooms changes.
async fn make_room(store: &dyn Store, name: &str) {
    let record = RoomRecord {
        name: name.into(),
        visibility: Visibility::Private,
        owner: "@contract".into(),
        topic: None,
    };
    match store.create_room(&record).await {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(e) => panic!("create room {name}: {e}"),
    }
}

impl Node {
    /// Appends through the writer, as the server does, and returns the
    /// messages as delivered once each has been acked as stored.
    async fn append(&mut self, batch: Vec<NewMessage>) -> Vec<Message> {
        let mut acks = Vec::new();
        for m in batch {
            make_room(self.store.as_ref(), m.room.as_str()).await;
            let (tx, rx) = tokio::sync::oneshot::channel();
            let done = Box::new(move |r: Result<&Message, StoreError>| {
                let _ = tx.send(r.map(|m| m.id).map_err(|e| e.to_string()));
            });
            self.writer.submit(m, done).await;
            acks.push(rx);
        }
        let mut ids = Vec::new();
        for rx in acks {
            ids.push(rx.await.expect("acked").expect("stored"));
        }
        let mut messages = Vec::new();
        for _ in &ids {
            let m = tokio::time::timeout(PATIENCE, self.delivered.recv()).await;
            let applied = m.expect("delivered in time").expect("delivery runs");
            assert_eq!(applied.happened, Happened::Created);
            messages.push(applied.message);
        }
        assert_eq!(messages.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
        messages
    }
}

fn name(room: &str) -> RoomName {
    RoomName::parse(room).expect("a room name")
}

fn user(id: &str) -> User {
    User::new(id, format!("{id} name"))
}

fn room(name: &str, visibility: Visibility, owner: &str) -> RoomRecord {
    RoomRecord {
        name: name.into(),
        visibility,
        owner: owner.into(),
        topic: None,
    }
}

fn msg(room: &str, who: &str, text: &str) -> NewMessage {
    NewMessage {
        room: name(room),
        user: user(who),
        message: text.into(),
        reply_to: None,
        files: Vec::new(),
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
        s.room(&name("secret")).await.expect("store call"),
        Some(room("secret", Visibility::Private, "ann"))
    );
    assert_eq!(s.room(&name("none")).await.expect("store call"), None);

    assert!(
        !s.is_member(&name("secret"), "cat")
            .await
            .expect("store call")
    );
    s.add_member(&name("secret"), "cat")
        .await
        .expect("store call");
    s.add_member(&name("secret"), "cat")
        .await
        .expect("store call");
    assert!(
        s.is_member(&name("secret"), "cat")
            .await
            .expect("store call")
    );

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

/// `room_members` as "id:Role" strings, and whether there are more.
async fn member_ids(s: &dyn Store, room: &RoomName, limit: u32) -> (Vec<String>, bool) {
    let (members, more) = s.room_members(room, limit).await.expect("store call");
    let ids = members
        .into_iter()
        .map(|m| format!("{}:{:?}", m.user.id, m.role))
        .collect();
    (ids, more)
}

/// A room's member list: the owner, moderators, members, each by display
/// name (any case, byte order on both stores) then id; topics set and
/// cleared.
async fn member_lists_and_topics(s: &dyn Store) {
    let crew = name("crew");
    s.create_room(&room("crew", Visibility::Public, "olga"))
        .await
        .expect("store call");
    let known = [
        User::new("zed", "Zed"),
        User::new("fred", "fred"),
        User::new("amy2", "Amy"),
        User::new("amy1", "amy"),
        // Byte order puts "é" after every ASCII letter; a language
        // collation would put it with "e", before "fred".
        User::new("eva", "éva"),
    ];
    s.record_app_users(&known).await.expect("store call");
    s.create_user(&User::new("acct:carla", "carla"), "hash")
        .await
        .expect("store call");
    for id in ["zed", "fred", "amy2", "amy1", "eva", "acct:carla", "nobody"] {
        s.add_member(&crew, id).await.expect("store call");
    }
    for id in ["zed", "fred"] {
        s.set_moderator(&crew, id, "olga", true)
            .await
            .expect("store call");
    }
    let everyone = [
        "olga:Owner",
        "fred:Moderator",
        "zed:Moderator",
        "amy1:Member",
        "amy2:Member",
        "acct:carla:Member",
        // Never seen: named by its id.
        "nobody:Member",
        "eva:Member",
    ];
    assert_eq!(
        member_ids(s, &crew, 8).await,
        (everyone.map(String::from).to_vec(), false)
    );
    assert_eq!(
        member_ids(s, &crew, 3).await,
        (everyone[..3].iter().map(|s| s.to_string()).collect(), true)
    );
    let (members, _) = s.room_members(&crew, 8).await.expect("store call");
    assert_eq!(members[5].user, User::new("acct:carla", "carla"));
    assert_eq!(members[6].user, User::new("nobody", "nobody"));

    s.set_topic(&crew, "plans").await.expect("store call");
    assert_eq!(
        s.room(&crew)
            .await
            .expect("store call")
            .and_then(|r| r.topic),
        Some("plans".to_owned())
    );
    s.set_topic(&crew, "").await.expect("store call");
    assert_eq!(
        s.room(&crew)
            .await
            .expect("store call")
            .and_then(|r| r.topic),
        None
    );
    assert!(matches!(
        s.set_topic(&name("none"), "x").await,
        Err(StoreError::NotFound)
    ));
}

async fn messages_and_pages(node: &mut Node) {
    let first = node
        .append(vec![
            msg("a", "ann", "a1"),
            msg("b", "bob", "b1"),
            msg("a", "ann", "a2"),
        ])
        .await;
    let second = node
        .append((3..=6).map(|i| msg("a", "ann", &format!("a{i}"))).collect())
        .await;
    let s = node.store.as_ref();
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
        .history(&name("a"), Page::Latest { limit: 4 })
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
            &name("a"),
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
            &name("a"),
            Page::Since {
                seq: before.messages[1].id,
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
        .history(&name("b"), Page::Latest { limit: 50 })
        .await
        .expect("store call");
    assert_eq!(b.messages, vec![first[1].clone()]);
    assert!(
        s.history(&name("none"), Page::Latest { limit: 50 })
            .await
            .expect("store call")
            .messages
            .is_empty()
    );
}

/// Issue 4's methods: member removal and what `roomcast user|room` uses.
async fn administration(s: &dyn Store, admin: &dyn Admin) {
    assert!(
        s.remove_member(&name("secret"), "cat")
            .await
            .expect("store call")
    );
    assert!(
        !s.is_member(&name("secret"), "cat")
            .await
            .expect("store call")
    );
    assert!(
        !s.remove_member(&name("secret"), "cat")
            .await
            .expect("store call"),
        "not a member any more"
    );
    assert!(
        !s.remove_member(&name("none"), "cat")
            .await
            .expect("store call")
    );

    // Byte order on both backends, whatever the database's collation.
    s.create_user(&user("Zed"), "z").await.expect("store call");
    s.create_user(&user("bob"), "b").await.expect("store call");
    let listed = |v: Vec<Account>| {
        v.into_iter()
            .map(|a| (a.user.id, a.disabled))
            .collect::<Vec<_>>()
    };
    let all = |ids: [(&str, bool); 3]| ids.map(|(id, off)| (id.to_owned(), off)).to_vec();
    assert_eq!(
        listed(admin.users().await.expect("store call")),
        all([("Zed", false), ("ann", false), ("bob", false)])
    );

    admin
        .set_password("bob", "new hash")
        .await
        .expect("store call");
    let bob = s.credentials("bob").await.expect("store call");
    assert_eq!(bob.map(|c| c.password_hash), Some("new hash".into()));
    assert!(matches!(
        admin.set_password("nobody", "h").await,
        Err(StoreError::NotFound)
    ));

    // Disabling ends sessions; enabling again does not bring them back.
    s.create_session("bob-tok", "bob", i64::MAX)
        .await
        .expect("store call");
    admin.set_disabled("bob", true).await.expect("store call");
    assert_eq!(
        listed(admin.users().await.expect("store call")),
        all([("Zed", false), ("ann", false), ("bob", true)])
    );
    assert!(
        s.credentials("bob")
            .await
            .expect("store call")
            .is_some_and(|c| c.disabled)
    );
    admin.set_disabled("bob", false).await.expect("store call");
    assert_eq!(
        s.session_user("bob-tok", 0).await.expect("store call"),
        None
    );
    assert!(matches!(
        admin.set_disabled("nobody", true).await,
        Err(StoreError::NotFound)
    ));

    // The Admin UI flag: off by default, set and cleared, NotFound for no one.
    let is_admin = async |id: &str| {
        s.credentials(id)
            .await
            .expect("store call")
            .is_some_and(|c| c.admin)
    };
    assert!(!is_admin("bob").await);
    admin.set_admin("bob", true).await.expect("store call");
    assert!(is_admin("bob").await);
    assert!(
        admin
            .users()
            .await
            .expect("store call")
            .iter()
            .any(|a| a.user.id == "bob" && a.admin)
    );
    admin.set_admin("bob", false).await.expect("store call");
    assert!(!is_admin("bob").await);
    assert!(matches!(
        admin.set_admin("nobody", true).await,
        Err(StoreError::NotFound)
    ));

    s.create_room(&room("Zoo", Visibility::Public, "bob"))
        .await
        .expect("store call");
    let names = |rs: Vec<RoomRecord>| rs.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(
        names(admin.all_rooms().await.expect("store call")),
        // With the rooms made for the posts (`make_room`).
        ["Zoo", "a", "b", "bobs", "c", "d", "pub", "secret"]
    );
    assert_eq!(
        names(s.rooms_for("bob").await.expect("store call")),
        ["Zoo", "bobs", "pub"]
    );
}

/// Deleting a room takes its members and history with it, and nothing else.
async fn room_deletion(node: &mut Node, admin: &dyn Admin) {
    let s = node.store.clone();
    s.add_member(&name("bobs"), "cat")
        .await
        .expect("store call");
    assert!(
        matches!(
            admin.delete_room("nowhere").await,
            Err(StoreError::NotFound)
        ),
        "no such room"
    );
    node.append(vec![msg("bobs", "bob", "hello")]).await;
    let mut listed = admin.delete_room("bobs").await.expect("store call");
    listed.sort();
    assert_eq!(listed, ["bob", "cat"], "whose list held the room");
    assert_eq!(s.room(&name("bobs")).await.expect("store call"), None);
    assert!(!s.is_member(&name("bobs"), "cat").await.expect("store call"));
    let gone = s.history(&name("bobs"), Page::Latest { limit: 50 }).await;
    assert!(gone.expect("store call").messages.is_empty());
    assert!(matches!(
        admin.delete_room("bobs").await,
        Err(StoreError::NotFound)
    ));
    // A room created again under the name starts empty, with no members.
    s.create_room(&room("bobs", Visibility::Private, "bob"))
        .await
        .expect("store call");
    assert!(!s.is_member(&name("bobs"), "cat").await.expect("store call"));
    let a = s.history(&name("a"), Page::Latest { limit: 50 }).await;
    assert_eq!(
        a.expect("store call").messages.len(),
        6,
        "other rooms keep theirs"
    );
}

/// The story on a store opened as the server does, beside the same
/// database opened as `roomcast user|room` does.
async fn story(url: &str) -> Node {
    let mut node = open(url).await;
    let admin = store::open_admin(url, store::SqliteSync::Full)
        .await
        .expect("admin open");
    accounts_and_sessions(node.store.as_ref()).await;
    rooms_and_members(node.store.as_ref()).await;
    messages_and_pages(&mut node).await;
    for room in ["c", "d"] {
        make_room(node.store.as_ref(), room).await;
    }
    crate::changes_contract::message_changes(
        url,
        node.store.as_ref(),
        &node.writer,
        &mut node.delivered,
    )
    .await;
    administration(node.store.as_ref(), admin.as_ref()).await;
    // After `administration`, which lists every account there is.
    member_lists_and_topics(node.store.as_ref()).await;
    room_deletion(&mut node, admin.as_ref()).await;
    node
}

#[tokio::test]
async fn sqlite_store_keeps_the_store_contract() {
    let dir = tempfile::tempdir().expect("store call");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    story(&url).await;
}

#[tokio::test]
async fn postgres_store_keeps_the_store_contract() {
    let schema = PgSchema::create().await;
    story(&schema.url).await;
    // Opening again (a restart, or a second node) migrates nothing twice.
    let again = open(&schema.url).await;
    assert_eq!(
        again
            .store
            .history(&name("a"), Page::Latest { limit: 50 })
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
    story(&pg.url()).await;
}

/// Two nodes append to one room at once. Each delivers (records its ids)
/// inside `Batch::deliver`, while the batch holds its rooms' order: the
/// recorded ids must be in increasing order, or a client on a third node
/// would see them out of order.
#[tokio::test]
async fn postgres_writers_on_two_nodes_deliver_a_room_in_id_order() {
    let schema = PgSchema::create().await;
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for n in 0..2 {
        let opened = store::open(&schema.url, store::SqliteSync::Full, histogram())
            .await
            .expect("store open");
        make_room(opened.store.as_ref(), "shared").await;
        let (writer, mut committed) = (opened.writer, opened.committed);
        let delivered = delivered.clone();
        // Ends when the writer does, once its handle below is dropped.
        tasks.push(tokio::spawn(async move {
            while let Some(batch) = committed.recv().await {
                batch
                    .deliver(async |messages| {
                        tokio::task::yield_now().await;
                        delivered
                            .lock()
                            .expect("store call")
                            .extend(messages.iter().map(|m| m.message.id));
                    })
                    .await;
            }
        }));
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                for _ in 0..1 + i % 3 {
                    let m = msg("shared", "ann", &format!("{n}-{i}"));
                    writer.submit(m, Box::new(|_| {})).await;
                }
                writer.flush().await;
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

/// While a node delivers a batch, another node's message to the same room
/// cannot commit: it waits for the room's lock, which the batch releases
/// only when its delivery ends. The wait is observed in `pg_locks` (the
/// second node's connections are told apart by their application name),
/// never assumed after a sleep.
#[tokio::test]
async fn postgres_a_batch_holds_its_rooms_until_it_is_delivered() {
    let schema = PgSchema::create().await;
    let waiter = format!("{}_b", schema.name);
    let a = store::open(&schema.url, store::SqliteSync::Full, histogram())
        .await
        .expect("store open");
    let mut b = open(&format!("{}&application_name={waiter}", schema.url)).await;
    make_room(a.store.as_ref(), "shared").await;
    let (a_writer, mut a_committed) = (a.writer, a.committed);
    a_writer
        .submit(msg("shared", "ann", "first"), Box::new(|_| {}))
        .await;
    let batch = tokio::time::timeout(PATIENCE, a_committed.recv())
        .await
        .expect("committed in time")
        .expect("a batch");
    let mut locks = <sqlx::PgConnection as sqlx::Connection>::connect(&schema.url)
        .await
        .expect("PostgreSQL");
    let (tx, mut b_stored) = tokio::sync::oneshot::channel();
    let mut first = 0;
    batch
        .deliver(async |messages| {
            first = messages[0].message.id;
            let done = Box::new(move |r: Result<&Message, StoreError>| {
                let _ = tx.send(r.map(|m| m.id).map_err(|e| e.to_string()));
            });
            b.writer.submit(msg("shared", "bob", "second"), done).await;
            let mut checks = 0;
            while !waits_for_a_lock(&mut locks, &waiter).await {
                assert!(
                    b_stored.try_recv().is_err(),
                    "the second message was stored while the first was being delivered"
                );
                checks += 1;
                assert!(checks < 1000, "the second writer never waited");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    let second = tokio::time::timeout(PATIENCE, b_stored)
        .await
        .expect("stored in time once the first was delivered")
        .expect("acked")
        .expect("stored");
    assert!(first < second, "ids {first}, {second}");
    let delivered = tokio::time::timeout(PATIENCE, b.delivered.recv()).await;
    assert_eq!(
        delivered.expect("in time").map(|m| m.message.id),
        Some(second)
    );
}

/// Whether a connection named `application_name` waits for an advisory lock.
async fn waits_for_a_lock(conn: &mut sqlx::PgConnection, application_name: &str) -> bool {
    sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) \
         WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1)",
    )
    .bind(application_name)
    .fetch_one(conn)
    .await
    .expect("pg_locks")
}

/// With no connection checkpointing on commit, the store's own task must:
/// appended messages reach the database file itself, not only the WAL.
#[tokio::test]
async fn sqlite_checkpoints_move_the_wal_into_the_database_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let url = format!("sqlite://{}", path.display());
    let mut node = open_with(&url, store::SqliteSync::Normal).await;
    let before = std::fs::metadata(&path).expect("db file").len();
    let batch = (0..2000)
        .map(|i| msg("r", "u", &format!("message {i} {}", "x".repeat(200))))
        .collect();
    assert_eq!(node.append(batch).await.len(), 2000);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = std::fs::metadata(&path).expect("db file").len();
        if now > before + 400_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "database file still {now} bytes (was {before}): no checkpoint"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
