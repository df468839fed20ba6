//! The store contract of message changes (edit, delete, react, unreact and
//! the change stream), on both stores: a part of `store_contract`'s story.

use std::time::Duration;

use roomcast::domain::{Message, RoomName, User};
use roomcast::store::{
    self, Applied, Change, Happened, NewMessage, Page, Store, StoreError, Writer,
};
use tokio::sync::mpsc;

const PATIENCE: Duration = Duration::from_secs(10);

fn name(room: &str) -> RoomName {
    RoomName::parse(room).expect("a room name")
}

fn user(id: &str) -> User {
    User::new(id, format!("{id} name"))
}

type Result1 = Result<Message, String>;

/// Submits every change before awaiting any (so they share batches, in
/// order), then returns each result.
async fn apply_all(writer: &Writer, changes: Vec<Change>) -> Vec<Result1> {
    let mut acks = Vec::new();
    for c in changes {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let done = Box::new(move |r: Result<&Message, StoreError>| {
            let _ = tx.send(r.cloned().map_err(|e| e.to_string()));
        });
        writer.apply(c, done).await;
        acks.push(rx);
    }
    let mut out = Vec::new();
    for rx in acks {
        out.push(rx.await.expect("answered"));
    }
    out
}

async fn apply1(writer: &Writer, change: Change) -> Result1 {
    apply_all(writer, vec![change]).await.remove(0)
}

async fn delivered(rx: &mut mpsc::UnboundedReceiver<Applied>) -> Applied {
    tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("delivered in time")
        .expect("delivery runs")
}

fn post(room: &str, who: &str, text: &str) -> Change {
    Change::Post(NewMessage {
        room: name(room),
        user: user(who),
        message: text.into(),
        reply_to: None,
        files: Vec::new(),
    })
}

fn edit(room: &str, id: i64, who: &str, text: &str) -> Change {
    Change::Edit {
        room: name(room),
        id,
        user: user(who),
        message: text.into(),
    }
}

fn react(room: &str, id: i64, who: &str, emoji: &str, added: bool) -> Change {
    Change::reaction(name(room), id, user(who), emoji.to_owned(), added)
}

fn delete(room: &str, id: i64, who: &str, any: bool) -> Change {
    Change::Delete {
        room: name(room),
        id,
        by: user(who),
        any,
    }
}

fn err(r: &Result1) -> &str {
    r.as_ref().err().map(String::as_str).unwrap_or("ok")
}

/// Edits, deletions and reactions through the writer, each refused alone;
/// the change stream; the admin CLI's path (`apply_direct`).
pub async fn message_changes(
    url: &str,
    s: &dyn Store,
    writer: &Writer,
    rx: &mut mpsc::UnboundedReceiver<Applied>,
) {
    let posted = apply_all(
        writer,
        vec![
            post("c", "ann", "c1"),
            post("c", "bob", "c2"),
            post("d", "ann", "d1"),
        ],
    )
    .await;
    for _ in 0..3 {
        delivered(rx).await;
    }
    let [c1, c2, d1] = [0, 1, 2].map(|i| posted[i].clone().expect("posted"));
    assert_eq!(
        (c1.seq, c2.seq),
        (c1.id, c2.id),
        "a new message's seq is its id"
    );

    // One batch: a refusal fails only its own item, the rest apply in order.
    let results = apply_all(
        writer,
        vec![
            edit("c", c1.id, "ann", "c1 edited"),
            edit("c", c1.id, "bob", "not mine"),
            edit("c", d1.id, "ann", "wrong room"),
            edit("c", 1 << 40, "ann", "no such id"),
            react("c", c1.id, "bob", "👍", true),
            react("c", c1.id, "ann", "👍", true),
            react("c", c1.id, "bob", "🎉", true),
            react("c", c1.id, "bob", "🎉", false),
        ],
    )
    .await;
    let codes: Vec<&str> = results.iter().map(err).collect();
    assert_eq!(
        codes,
        [
            "ok",
            "not yours",
            "not found",
            "not found",
            "ok",
            "ok",
            "ok",
            "ok"
        ]
    );
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(delivered(rx).await);
    }
    let kinds: Vec<&Happened> = seen.iter().map(|a| &a.happened).collect();
    assert_eq!(kinds[0], &Happened::Edited);
    assert!(matches!(kinds[1], Happened::Reacted { added: true, .. }));
    assert!(matches!(kinds[4], Happened::Reacted { added: false, .. }));
    let seqs: Vec<i64> = seen.iter().map(|a| a.message.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "stream order: {seqs:?}"
    );
    let now = seen[4].message.clone();
    assert_eq!(now.message, "c1 edited");
    assert!(now.edited.is_some());
    assert_eq!(now.reactions.len(), 1, "{:?}", now.reactions);
    assert_eq!(
        (now.reactions[0].count, now.reactions[0].users.clone()),
        (2, vec!["bob".to_owned(), "ann".to_owned()])
    );

    // Reacting again, or taking back what was never given: no change.
    let same = apply1(writer, react("c", c1.id, "bob", "👍", true))
        .await
        .expect("no-op");
    let none = apply1(writer, react("c", c1.id, "bob", "🚀", false))
        .await
        .expect("no-op");
    assert_eq!((same.seq, none.seq), (now.seq, now.seq));

    // Deletion: only the author unless `any`; a tombstone without reactions.
    assert_eq!(
        err(&apply1(writer, delete("c", c1.id, "bob", false)).await),
        "not yours"
    );
    let gone = apply1(writer, delete("c", c1.id, "bob", true))
        .await
        .expect("deleted");
    let tomb = delivered(rx).await;
    assert_eq!(tomb.happened, Happened::Deleted, "no-ops delivered nothing");
    assert_eq!(tomb.message, gone);
    assert_eq!((gone.message.as_str(), gone.reactions.len()), ("", 0));
    assert_eq!(gone.deleted.as_ref().map(|d| d.by.as_str()), Some("bob"));
    for again in [
        delete("c", c1.id, "ann", false),
        edit("c", c1.id, "ann", "back"),
        react("c", c1.id, "ann", "👍", true),
    ] {
        assert_eq!(err(&apply1(writer, again).await), "not found");
    }

    // At most 20 distinct emoji; more of an existing one is still fine.
    let emoji: Vec<String> = (0..21)
        .map(|i| char::from_u32(0x1F600 + i).expect("emoji").to_string())
        .collect();
    let many: Vec<Change> = emoji
        .iter()
        .map(|e| react("c", c2.id, "ann", e, true))
        .collect();
    let results = apply_all(writer, many).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 20);
    assert_eq!(err(&results[20]), "too many reactions");
    assert!(
        apply1(writer, react("c", c2.id, "bob", &emoji[0], true))
            .await
            .is_ok()
    );
    for _ in 0..21 {
        delivered(rx).await;
    }

    // The stream: everything created or changed after a position, once
    // each, as it is now, in stream order.
    let since = s
        .history(
            &name("c"),
            Page::Since {
                seq: c2.id - 1,
                limit: 50,
            },
        )
        .await
        .expect("store call");
    let ids: Vec<i64> = since.messages.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        [c1.id, c2.id],
        "c1 (deleted) before c2 (reacted to last)"
    );
    assert!(since.messages[1].reactions.len() == 20 && since.messages[1].reactions[0].count == 2);
    assert_eq!(
        s.message(&name("c"), c1.id).await.expect("store call"),
        Some(gone.clone())
    );
    assert_eq!(
        s.message(&name("d"), c1.id).await.expect("store call"),
        None
    );

    // The admin CLI's path draws the next position from the database: the
    // server's next message is numbered after it.
    let cli = store::apply_direct(
        url,
        store::SqliteSync::Full,
        delete("c", c2.id, "admin", true),
    )
    .await
    .expect("apply_direct")
    .expect("deleted");
    assert!(cli.seq > since.messages[1].seq);
    let next = apply1(writer, post("c", "ann", "after the CLI"))
        .await
        .expect("posted");
    delivered(rx).await;
    assert!(next.id > cli.seq, "{} after {}", next.id, cli.seq);
    let tail = s
        .history(
            &name("c"),
            Page::Since {
                seq: since.messages[1].seq,
                limit: 50,
            },
        )
        .await
        .expect("store call");
    assert_eq!(
        tail.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        [c2.id, next.id]
    );
}
