//! Files and images (docs/protocol.md "Files") through the real server:
//! uploads raw and multipart, attaching them to chats on both stores,
//! who may read them, the headers they are served with, the images
//! refused (and that nothing is kept of them), metadata stripped and
//! thumbnails, the quota, the unattached sweep, and deletion.

use std::io::Cursor;
use std::time::Duration;

use image::{DynamicImage, ImageFormat};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

/// `bytes` uploaded raw to `room` as `kind` named `name`, with a JWT.
pub async fn upload(
    app: &TestApp,
    room: &str,
    bearer: &str,
    kind: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/rooms/{room}/files")))
        .bearer_auth(bearer)
        .header("content-type", kind)
        .header("x-filename", name)
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

/// An upload that must be stored: its `FileView`.
pub async fn stored(
    app: &TestApp,
    room: &str,
    bearer: &str,
    kind: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let r = upload(app, room, bearer, kind, name, bytes).await;
    assert_eq!(r.status(), 201, "upload {name}");
    r.json().await.expect("file view")
}

/// Makes the public room `name`, owned by `bearer`'s user.
pub async fn open_room(app: &TestApp, name: &str, bearer: &str) {
    let r = app
        .post("/api/rooms", json!({"name": name}), Some(bearer))
        .await;
    assert_eq!(r.status(), 201, "create {name}");
}

/// A `w` x `h` PNG of one colour.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    encoded(&DynamicImage::new_rgb8(w, h), ImageFormat::Png)
}

fn encoded(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// GET with a JWT: status, headers, body.
async fn fetch(
    app: &TestApp,
    path: &str,
    bearer: &str,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = app.get(path, Some(bearer)).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("body").to_vec())
}

/// Rows of `table` in the app's database.
async fn rows(app: &TestApp, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let url = app.database_url();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    }
}

async fn uploads_attach_to_chats_and_show_everywhere(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let ann = token("ann", None);
    let mut a = app.client("ann").await;
    a.join("lobby").await;
    let mut b = app.client("bob").await;
    b.join("lobby").await;
    let picture = stored(
        &app,
        "lobby",
        &ann,
        "image/png",
        "p%C3%A9.png",
        png(800, 600),
    )
    .await;
    assert_eq!(picture["name"], "pé.png");
    assert_eq!(picture["type"], "image/png");
    assert_eq!(
        (picture["width"].as_u64(), picture["height"].as_u64()),
        (Some(800), Some(600))
    );
    let id = picture["id"].as_str().expect("id");
    assert_eq!(id.len(), 26);
    assert_eq!(picture["url"], format!("/files/{id}/p%C3%A9.png"));
    assert_eq!(picture["thumbnail"], format!("/files/{id}/thumbnail"));
    // Multipart, the way a page's FormData sends it.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec())
            .file_name("../notes.txt")
            .mime_str("text/plain")
            .expect("mime"),
    );
    let r = app
        .http
        .post(app.url("/api/rooms/lobby/files"))
        .bearer_auth(&ann)
        .multipart(form)
        .send()
        .await
        .expect("multipart");
    assert_eq!(r.status(), 201);
    let notes: Value = r.json().await.expect("view");
    assert_eq!(
        (
            notes["name"].as_str(),
            notes["type"].as_str(),
            notes["size"].as_i64()
        ),
        (Some("notes.txt"), Some("text/plain"), Some(5))
    );
    assert!(notes.get("thumbnail").is_none() && notes.get("width").is_none());
    // No text with files is fine.
    let ack = a
        .ack("chat", json!({"room": "lobby", "files": [id, notes["id"]]}))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let live = b.next("chat").await;
    assert_eq!(live["message"], "");
    assert_eq!(live["files"], json!([picture, notes]));
    let page = app.get("/api/rooms/lobby/messages", Some(&ann)).await;
    let page: Value = page.json().await.expect("page");
    assert_eq!(page["messages"][0]["files"], json!([picture, notes]));
    let mut c = app.client("cid").await;
    let joined = c.join("lobby").await;
    assert_eq!(joined["history"][0]["files"], json!([picture, notes]));
    // Over HTTP too, with text.
    let third = stored(
        &app,
        "lobby",
        &ann,
        "application/pdf",
        "a.pdf",
        b"%PDF-1".to_vec(),
    )
    .await;
    let r = app
        .post(
            "/api/rooms/lobby/messages",
            json!({"message": "see", "files": [third["id"]]}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 201);
    let posted: Value = r.json().await.expect("message");
    assert_eq!(posted["files"], json!([third]));
    assert_eq!(b.next("chat").await["files"], json!([third]));
    // Read by another member of the room.
    let (status, _, bytes) = fetch(
        &app,
        third["url"].as_str().expect("url"),
        &token("bob", None),
    )
    .await;
    assert_eq!((status, bytes), (200, b"%PDF-1".to_vec()));
    // A message without files has no `files`.
    let plain = a.chat("lobby", "plain").await;
    let live = b.next("chat").await;
    assert!(live.get("files").is_none(), "{live} {plain}");
}

async fn files_not_the_senders_are_refused_alike(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let (ann, bob) = (token("ann", None), token("bob", None));
    let mut a = app.client("ann").await;
    a.join("lobby").await;
    let mut b = app.client("bob").await;
    b.join("lobby").await;
    b.join("other").await;
    let bobs = stored(&app, "lobby", &bob, "text/plain", "b.txt", b"b".to_vec()).await;
    let elsewhere = stored(&app, "other", &bob, "text/plain", "o.txt", b"o".to_vec()).await;
    let attached = stored(&app, "lobby", &ann, "text/plain", "a.txt", b"a".to_vec()).await;
    a.ack("chat", json!({"room": "lobby", "files": [attached["id"]]}))
        .await;
    let before = rows(&app, "messages").await;
    let unknown = "a".repeat(26);
    let cases = [
        (json!([bobs["id"]]), "no such file"),
        (json!([attached["id"]]), "no such file"),
        (json!([unknown]), "no such file"),
        (json!(["x"]), "no such file"),
    ];
    for (files, text) in cases {
        let ack = a
            .ack("chat", json!({"room": "lobby", "files": files}))
            .await;
        assert_eq!(
            (ack["error"].as_str(), ack["message"].as_str()),
            (Some("invalid_payload"), Some(text)),
            "{files}"
        );
    }
    // Bob's upload to another room, sent to this one by him.
    let ack = b
        .ack(
            "chat",
            json!({"room": "lobby", "message": "x", "files": [elsewhere["id"]]}),
        )
        .await;
    assert_eq!(ack["message"], "no such file");
    let eleven: Vec<String> = (0..11).map(|_| "b".repeat(26)).collect();
    let ack = a
        .ack("chat", json!({"room": "lobby", "files": eleven}))
        .await;
    assert_eq!(ack["error"], "invalid_payload", "{ack}");
    let ack = a.ack("chat", json!({"room": "lobby", "files": []})).await;
    assert_eq!(
        ack["error"], "invalid_payload",
        "no files and no text: {ack}"
    );
    let r = app
        .post(
            "/api/rooms/lobby/messages",
            json!({"files": [bobs["id"]]}),
            Some(&ann),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(rows(&app, "messages").await, before, "nothing stored");
    // Two posts racing for one upload: one wins, the other is refused.
    let once = stored(&app, "lobby", &ann, "text/plain", "r.txt", b"r".to_vec()).await;
    let post = json!({"room": "lobby", "files": [once["id"]]});
    let (x, y) = tokio::join!(a.ack("chat", post.clone()), a.ack("chat", post));
    let oks = [&x, &y].iter().filter(|v| v["ok"] == true).count();
    assert_eq!(oks, 1, "{x} {y}");
}

on_both_backends!(
    uploads_attach_to_chats_and_show_everywhere,
    files_not_the_senders_are_refused_alike,
    deleting_a_message_or_its_room_removes_its_files,
    unattached_uploads_are_swept,
    concurrent_uploads_share_one_quota,
);

#[tokio::test]
async fn who_may_read_a_file() {
    let app = spawn_app().await;
    let (owner, mut o) = app.private_room("staff", "olga").await;
    o.join("staff").await;
    let file = stored(&app, "staff", &owner, "image/png", "x.png", png(4, 4)).await;
    let (url, thumb) = (
        file["url"].as_str().expect("url"),
        file["thumbnail"].as_str().expect("thumb"),
    );
    let stranger = token("sam", None);
    // Unattached: its uploader only.
    assert_eq!(fetch(&app, url, &owner).await.0, 200);
    let (status, _, unattached) = fetch(&app, url, &stranger).await;
    assert_eq!(status, 404);
    o.ack("chat", json!({"room": "staff", "files": [file["id"]]}))
        .await;
    let (s1, _, body) = fetch(&app, url, &stranger).await;
    let (s2, _, thumb_body) = fetch(&app, thumb, &stranger).await;
    let (s3, _, unknown) =
        fetch(&app, &format!("/files/{}/x.png", "c".repeat(26)), &stranger).await;
    assert_eq!((s1, s2, s3), (404, 404, 404));
    assert_eq!(body, unknown, "the same answer as for no file");
    assert_eq!(thumb_body, unknown);
    assert_eq!(unattached, unknown);
    assert_eq!(fetch(&app, url, &owner).await.0, 200);
    assert_eq!(fetch(&app, thumb, &owner).await.0, 200);
    // A stranger may not upload there either.
    let r = upload(&app, "staff", &stranger, "text/plain", "a", b"a".to_vec()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.get(url, None).await.status(), 401);
}

#[tokio::test]
async fn files_are_served_with_exact_headers() {
    let app = spawn_app().await;
    let ann = token("ann", None);
    open_room(&app, "lobby", &ann).await;
    let picture = stored(&app, "lobby", &ann, "image/png", "pic.png", png(3, 2)).await;
    let page = stored(
        &app,
        "lobby",
        &ann,
        "text/html",
        "%C3%A9t%C3%A9.html",
        b"<script>alert(1)</script>".to_vec(),
    )
    .await;
    let svg = stored(
        &app,
        "lobby",
        &ann,
        "image/svg+xml",
        "x.svg",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
    )
    .await;
    let csp = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";
    let (status, h, bytes) = fetch(&app, picture["url"].as_str().expect("url"), &ann).await;
    assert_eq!(status, 200);
    let get = |h: &reqwest::header::HeaderMap, k: &str| {
        h.get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(get(&h, "content-type"), "image/png");
    assert_eq!(get(&h, "x-content-type-options"), "nosniff");
    assert_eq!(get(&h, "content-security-policy"), csp);
    assert_eq!(
        get(&h, "content-disposition"),
        "inline; filename=\"pic.png\"; filename*=UTF-8''pic.png"
    );
    assert_eq!(get(&h, "content-length"), bytes.len().to_string());
    assert_eq!(
        get(&h, "cache-control"),
        "private, max-age=31536000, immutable"
    );
    let id = picture["id"].as_str().expect("id");
    assert_eq!(get(&h, "etag"), format!("\"{id}\""));
    let (status, h, _) = fetch(&app, page["url"].as_str().expect("url"), &ann).await;
    assert_eq!(status, 200);
    assert_eq!(get(&h, "content-type"), "text/html");
    assert_eq!(get(&h, "content-security-policy"), csp);
    assert_eq!(
        get(&h, "content-disposition"),
        "attachment; filename=\"_t_.html\"; filename*=UTF-8''%C3%A9t%C3%A9.html"
    );
    let (_, h, _) = fetch(&app, svg["url"].as_str().expect("url"), &ann).await;
    assert_eq!(get(&h, "content-type"), "image/svg+xml");
    assert!(get(&h, "content-disposition").starts_with("attachment; "));
    assert_eq!(get(&h, "x-content-type-options"), "nosniff");
    // HEAD: the headers without the body.
    let r = app
        .http
        .head(app.url(picture["url"].as_str().expect("url")))
        .bearer_auth(&ann)
        .send()
        .await
        .expect("head");
    assert_eq!(r.status(), 200);
    assert_eq!(get(r.headers(), "content-length"), bytes.len().to_string());
    // Cached copies are confirmed.
    let r = app
        .http
        .get(app.url(picture["url"].as_str().expect("url")))
        .bearer_auth(&ann)
        .header("if-none-match", format!("\"{id}\""))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 304);
}

/// A PNG header (IHDR) for `w` x `h` and one empty IDAT: a few dozen bytes.
pub fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[tokio::test]
async fn bad_uploads_are_refused_and_nothing_is_kept() {
    let dir = tempfile::tempdir().expect("dir");
    let files_dir = dir.path().join("files");
    let kept = files_dir.clone();
    let app = spawn_app_with(|s| {
        s.max_file_size = 64 * 1024;
        s.files_dir = Some(kept);
    })
    .await;
    let ann = token("ann", None);
    open_room(&app, "lobby", &ann).await;
    let code = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("error body");
        (status, body["error"].as_str().unwrap_or("").to_owned())
    };
    let bad = "400".parse::<u16>().expect("n");
    let cases = [
        ("image/png", b"not a png at all".to_vec()),
        ("text/plain", Vec::new()),
        ("image/jpeg", png(4, 4)),
        ("image/png", png(64, 64)[..60].to_vec()),
    ];
    for (kind, bytes) in cases {
        let r = upload(&app, "lobby", &ann, kind, "f", bytes).await;
        assert_eq!(code(r).await, (bad, "invalid_payload".into()), "{kind}");
    }
    let bomb = png_header_only(10_000, 10_000);
    assert!(bomb.len() < 100);
    let started = std::time::Instant::now();
    let r = upload(&app, "lobby", &ann, "image/png", "bomb.png", bomb).await;
    assert_eq!(code(r).await, (413, "too_large".into()));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Over the size: announced, and streamed without a length.
    let big = vec![7u8; 100 * 1024];
    let r = upload(
        &app,
        "lobby",
        &ann,
        "application/octet-stream",
        "big",
        big.clone(),
    )
    .await;
    assert_eq!(code(r).await, (413, "too_large".into()));
    let stream = futures_util::stream::iter(
        big.chunks(8 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let r = app
        .http
        .post(app.url("/api/rooms/lobby/files"))
        .bearer_auth(&ann)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("streamed upload");
    assert_eq!(code(r).await, (413, "too_large".into()));
    let r = upload(&app, "lobby", &ann, "text/plain", "..", b"x".to_vec()).await;
    assert_eq!(code(r).await, (bad, "invalid_payload".into()));
    assert_eq!(rows(&app, "files").await, 0);
    assert_eq!(rows(&app, "file_chunks").await, 0);
    let left: Vec<_> = std::fs::read_dir(&files_dir).expect("files dir").collect();
    assert!(left.is_empty(), "{left:?}");
    // What fits is kept, in the directory.
    stored(&app, "lobby", &ann, "text/plain", "ok.txt", vec![1; 1000]).await;
    assert_eq!(std::fs::read_dir(&files_dir).expect("dir").count(), 1);
}

/// A JPEG of `w` x `h` with an APP1 EXIF segment (orientation `o`, and a
/// marker string where GPS data would be) right after its SOI.
fn jpeg_with_exif(w: u32, h: u32, o: u16) -> Vec<u8> {
    let plain = encoded(&DynamicImage::new_rgb8(w, h), ImageFormat::Jpeg);
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&u32::from(o).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(b"SECRET-GPS-52.1N");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn exif_is_stripped_and_thumbnails_fit() {
    let app = spawn_app().await;
    let ann = token("ann", None);
    open_room(&app, "lobby", &ann).await;
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    let upright = jpeg_with_exif(1200, 300, 1);
    assert!(contains(&upright, b"SECRET-GPS"));
    let f = stored(&app, "lobby", &ann, "image/jpeg", "u.jpg", upright).await;
    let (_, _, served) = fetch(&app, f["url"].as_str().expect("url"), &ann).await;
    assert!(!contains(&served, b"SECRET-GPS") && !contains(&served, b"Exif"));
    assert_eq!(f["size"].as_u64(), Some(served.len() as u64));
    let (_, h, thumb) = fetch(&app, f["thumbnail"].as_str().expect("thumb"), &ann).await;
    assert_eq!(
        h.get("content-type").and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    let t = image::load_from_memory(&thumb).expect("thumbnail decodes");
    assert_eq!((t.width(), t.height()), (400, 100));
    // Turned a quarter by its tag: stored upright, the tag gone.
    let turned = stored(
        &app,
        "lobby",
        &ann,
        "image/jpeg",
        "t.jpg",
        jpeg_with_exif(40, 20, 6),
    )
    .await;
    assert_eq!(
        (turned["width"].as_u64(), turned["height"].as_u64()),
        (Some(20), Some(40))
    );
    let (_, _, served) = fetch(&app, turned["url"].as_str().expect("url"), &ann).await;
    assert!(!contains(&served, b"Exif"));
    let img = image::load_from_memory(&served).expect("decodes");
    assert_eq!((img.width(), img.height()), (20, 40));
}

#[tokio::test]
async fn uploads_past_the_quota_are_refused() {
    let app = spawn_app_with(|s| s.files_quota = 2500).await;
    let ann = token("ann", None);
    open_room(&app, "lobby", &ann).await;
    stored(&app, "lobby", &ann, "text/plain", "a", vec![1; 1000]).await;
    stored(&app, "lobby", &ann, "text/plain", "b", vec![1; 1000]).await;
    let r = upload(&app, "lobby", &ann, "text/plain", "c", vec![1; 1000]).await;
    assert_eq!(r.status(), 413);
    // Someone else has a quota of their own.
    stored(
        &app,
        "lobby",
        &token("bob", None),
        "text/plain",
        "d",
        vec![1; 1000],
    )
    .await;
    assert_eq!(rows(&app, "files").await, 3);
    let text = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    for line in [
        "roomcast_file_uploads_total{result=\"stored\"} 3",
        "roomcast_file_uploads_total{result=\"refused\"} 1",
        "roomcast_file_upload_bytes_total 3000",
        "roomcast_files_stored 3",
        "roomcast_files_stored_bytes 3000",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

/// Uploads racing past one user's quota: exactly those that fit are kept
/// (on PostgreSQL each insert checks the sum under a lock of the user's).
async fn concurrent_uploads_share_one_quota(backend: Backend) {
    let app = spawn_app_on(backend, |s| s.files_quota = 2500).await;
    let ann = token("ann", None);
    open_room(&app, "lobby", &ann).await;
    let racing = (0..8).map(|i| {
        let (app, ann) = (&app, &ann);
        async move {
            upload(
                app,
                "lobby",
                ann,
                "text/plain",
                &format!("f{i}"),
                vec![1; 1000],
            )
            .await
            .status()
            .as_u16()
        }
    });
    let mut codes = futures_util::future::join_all(racing).await;
    codes.sort_unstable();
    assert_eq!(codes, [201, 201, 413, 413, 413, 413, 413, 413]);
    assert_eq!(rows(&app, "files").await, 2);
}

/// Polls `check` until it holds, failing after [`WAIT`].
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn unattached_uploads_are_swept(backend: Backend) {
    let app = spawn_app_on(backend, |s| s.files_unattached_ttl = Duration::from_secs(1)).await;
    let ann = token("ann", None);
    let mut a = app.client("ann").await;
    a.join("lobby").await;
    let kept = stored(&app, "lobby", &ann, "text/plain", "k", b"k".to_vec()).await;
    a.ack("chat", json!({"room": "lobby", "files": [kept["id"]]}))
        .await;
    let gone = stored(&app, "lobby", &ann, "text/plain", "g", b"g".to_vec()).await;
    until("the unattached upload swept", async || {
        rows(&app, "files").await == 1
    })
    .await;
    assert_eq!(
        fetch(&app, gone["url"].as_str().expect("url"), &ann)
            .await
            .0,
        404
    );
    assert_eq!(
        fetch(&app, kept["url"].as_str().expect("url"), &ann)
            .await
            .0,
        200
    );
    let ack = a
        .ack("chat", json!({"room": "lobby", "files": [gone["id"]]}))
        .await;
    assert_eq!(ack["message"], "no such file");
}

async fn deleting_a_message_or_its_room_removes_its_files(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let ann = token("ann", None);
    let mut a = app.client("ann").await;
    a.join("doomed").await;
    let f = stored(&app, "doomed", &ann, "image/png", "p.png", png(4, 4)).await;
    let g = stored(&app, "doomed", &ann, "text/plain", "g", b"g".to_vec()).await;
    let posted = a
        .ack("chat", json!({"room": "doomed", "files": [f["id"]]}))
        .await;
    a.ack("chat", json!({"room": "doomed", "files": [g["id"]]}))
        .await;
    let id = posted["id"].as_i64().expect("id");
    let ack = a.ack("delete", json!({"room": "doomed", "id": id})).await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(
        fetch(&app, f["url"].as_str().expect("url"), &ann).await.0,
        404
    );
    assert_eq!(
        fetch(&app, f["thumbnail"].as_str().expect("url"), &ann)
            .await
            .0,
        404
    );
    let page: Value = app
        .get("/api/rooms/doomed/messages", Some(&ann))
        .await
        .json()
        .await
        .expect("page");
    assert!(page["messages"][0].get("files").is_none(), "{page}");
    assert_eq!(
        fetch(&app, g["url"].as_str().expect("url"), &ann).await.0,
        200
    );
    let unattached = stored(&app, "doomed", &ann, "text/plain", "u", b"u".to_vec()).await;
    assert_eq!(
        app.delete("/api/rooms/doomed", Some(&ann)).await.status(),
        204
    );
    assert_eq!(
        fetch(&app, g["url"].as_str().expect("url"), &ann).await.0,
        404
    );
    assert_eq!(
        fetch(&app, unattached["url"].as_str().expect("url"), &ann)
            .await
            .0,
        404
    );
    assert_eq!(rows(&app, "files").await, 0);
}

/// `roomcast serve` on the SQLite file `db` (and `extra` flags), as a child.
async fn start_child(db: &std::path::Path, extra: &[&str]) -> (tokio::process::Child, String) {
    start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .arg("--database")
            .arg(format!("sqlite://{}", db.display()))
            .args(extra),
    )
    .await
}

/// Killed (`kill -9`) with an upload's body half sent, the server keeps
/// nothing of it; what a crash mid-write would leave (a temporary file, or
/// chunks no row names) is gone once it starts again.
async fn a_killed_upload_leaves_nothing(files_dir: bool) {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("k.db");
    let store = dir.path().join("files");
    let store_arg = store.display().to_string();
    let extra: Vec<&str> = if files_dir {
        vec!["--files-dir", &store_arg]
    } else {
        vec![]
    };
    let (mut server, addr) = start_child(&db, &extra).await;
    let ann = token("ann", None);
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/api/rooms"))
        .bearer_auth(&ann)
        .json(&json!({"name": "r"}))
        .send()
        .await
        .expect("room");
    assert_eq!(r.status(), 201);
    let mut tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/rooms/r/files HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ann}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: 200000\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    tcp.write_all(&[1u8; 100_000]).await.expect("half the body");
    tcp.flush().await.expect("flush");
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");
    drop(tcp);
    // What a kill between writing the bytes and committing the row leaves.
    let stray = "d".repeat(26);
    if files_dir {
        std::fs::write(store.join(format!("{stray}.tmp")), b"half").expect("temp file");
        std::fs::write(store.join(&stray), b"whole, no row").expect("orphan");
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("db");
        sqlx::query(
            "INSERT INTO file_chunks (file, part, n, data, created_at) VALUES ($1, 0, 0, $2, 0)",
        )
        .bind(&stray)
        .bind(&b"half"[..])
        .execute(&pool)
        .await
        .expect("orphan chunk");
        pool.close().await;
    }
    let (_server, addr) = start_child(&db, &extra).await;
    let r = http
        .get(format!("http://{addr}/files/{stray}/x"))
        .bearer_auth(&ann)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("db");
    for table in ["files", "file_chunks"] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&pool)
                .await
                .expect("count");
        assert_eq!(n, 0, "{table}");
    }
    if files_dir {
        let left: Vec<_> = std::fs::read_dir(&store).expect("dir").collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[tokio::test]
async fn a_killed_upload_leaves_nothing_in_the_database() {
    a_killed_upload_leaves_nothing(false).await;
}

#[tokio::test]
async fn a_killed_upload_leaves_nothing_in_the_files_dir() {
    a_killed_upload_leaves_nothing(true).await;
}

/// Two nodes on one PostgreSQL and Redis: uploaded and attached on one,
/// served whole by the other.
#[tokio::test]
async fn a_file_uploaded_on_one_node_is_served_by_another() {
    let cluster = crate::cluster_support::Cluster::start(2).await;
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let ann = token("ann", None);
    let http = reqwest::Client::new();
    let mut on_a = a.client("ann").await;
    on_a.join("hall").await;
    let mut on_b = b.client("bob").await;
    on_b.join("hall").await;
    let bytes = jpeg_with_exif(2000, 1500, 1);
    let r = http
        .post(format!("http://{}/api/rooms/hall/files", a.addr))
        .bearer_auth(&ann)
        .header("content-type", "image/jpeg")
        .header("x-filename", "big.jpg")
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201);
    let f: Value = r.json().await.expect("view");
    on_a.ack("chat", json!({"room": "hall", "files": [f["id"]]}))
        .await;
    let live = on_b.next("chat").await;
    assert_eq!(live["files"][0], f);
    let bob = token("bob", None);
    for path in [&f["url"], &f["thumbnail"]] {
        let r = http
            .get(format!("http://{}{}", b.addr, path.as_str().expect("path")))
            .bearer_auth(&bob)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200);
        let len: usize = r.headers()["content-length"]
            .to_str()
            .expect("len")
            .parse()
            .expect("n");
        assert_eq!(r.bytes().await.expect("body").len(), len);
    }
}

/// With the session cookie an upload passes the same-origin checks of
/// every cookie write, and a form another site could post is refused.
#[tokio::test]
async fn cookie_uploads_are_guarded_against_forgery() {
    let app = spawn_app().await;
    let (bearer, cookie) = app.register_and_login("ann").await;
    open_room(&app, "lobby", &bearer).await;
    let post = |kind: &'static str| {
        app.http
            .post(app.url("/api/rooms/lobby/files"))
            .header("cookie", cookie.clone())
            .header("content-type", kind)
            .body(b"hello".to_vec())
    };
    let own = format!("http://{}", app.addr);
    let r = post("text/plain")
        .header("origin", own.clone())
        .send()
        .await
        .expect("same origin");
    assert_eq!(r.status(), 201);
    let r = post("text/plain")
        .header("x-filename", "a.txt")
        .send()
        .await
        .expect("x-filename");
    assert_eq!(r.status(), 201);
    let r = post("image/png")
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("forged");
    assert_eq!(r.status(), 403);
    let r = post("text/plain")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("forged");
    assert_eq!(r.status(), 403);
    // A form from an old browser: no Origin, no Sec-Fetch-Site, no X-Filename.
    let r = post("multipart/form-data; boundary=x")
        .send()
        .await
        .expect("form");
    assert_eq!(r.status(), 403);
    assert_eq!(rows(&app, "files").await, 2);
}

/// Measurements (not a check): a 10 MiB upload's latency, a 12 MP JPEG's
/// preparation, and chat acks on SQLite while 10 MiB uploads are stored.
/// `cargo test --test api files::measure -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn measure() {
    let app = spawn_app_with(|s| s.max_file_size = 16 * 1024 * 1024).await;
    let ann = token("ann", None);
    let mut a = app.client("ann").await;
    a.join("lobby").await;
    let blob: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(7919) >> 3) as u8)
        .collect();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        stored(
            &app,
            "lobby",
            &ann,
            "application/octet-stream",
            "b",
            blob.clone(),
        )
        .await;
        println!("10 MiB upload: {:?}", t.elapsed());
    }
    let photo = DynamicImage::ImageRgb8(image::RgbImage::from_fn(4000, 3000, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    }));
    let jpeg = encoded(&photo, ImageFormat::Jpeg);
    println!("12 MP JPEG: {} bytes", jpeg.len());
    for _ in 0..2 {
        let t = std::time::Instant::now();
        stored(&app, "lobby", &ann, "image/jpeg", "p.jpg", jpeg.clone()).await;
        println!(
            "12 MP JPEG upload (decode, strip, thumbnail, store): {:?}",
            t.elapsed()
        );
    }
    async fn acks(a: &TestClient, n: usize) -> Vec<Duration> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let t = std::time::Instant::now();
            a.chat("lobby", &format!("m{i}")).await;
            out.push(t.elapsed());
        }
        out.sort();
        out
    }
    let show = |what: &str, v: &[Duration]| {
        println!(
            "{what}: p50 {:?} p99 {:?} max {:?}",
            v[v.len() / 2],
            v[v.len() * 99 / 100],
            v[v.len() - 1]
        );
    };
    show("chat acks alone", &acks(&a, 300).await);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (app2, ann2, blob2, stop2) = (&app, &ann, &blob, stop.clone());
    let uploads = async move {
        let mut n = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            stored(
                app2,
                "lobby",
                ann2,
                "application/octet-stream",
                "b",
                blob2.clone(),
            )
            .await;
            n += 1;
        }
        n
    };
    let chats = async {
        let v = acks(&a, 300).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        v
    };
    let (v, n) = tokio::join!(chats, uploads);
    show(&format!("chat acks during {n} 10 MiB uploads"), &v);
}
