//! `/api/openapi.json`: every documented route and status is produced by a
//! real request, and every real response body matches its documented schema.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::*;

/// The OpenAPI document with every object schema closed (no undocumented
/// fields may appear in a response).
async fn document(app: &TestApp) -> Value {
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status(), 200);
    let mut doc: Value = r.json().await.expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        for schema in schemas.values_mut() {
            if schema["type"] == "object" && schema.get("additionalProperties").is_none() {
                schema["additionalProperties"] = json!(false);
            }
        }
    }
    doc
}

/// Checks responses against the document and records which were seen.
struct Checker {
    doc: Value,
    seen: BTreeSet<(String, String, String)>,
}

impl Checker {
    async fn check(&mut self, method: &str, template: &str, r: reqwest::Response) {
        let status = r.status().as_u16().to_string();
        let text = r.text().await.expect("body");
        let op = &self.doc["paths"][template][method];
        assert!(op.is_object(), "{method} {template} is not documented");
        let documented = &op["responses"][&status];
        assert!(
            documented.is_object(),
            "{method} {template} {status} is not documented: {text}"
        );
        let schema = &documented["content"]["application/json"]["schema"];
        // A served file: bytes of a documented type other than JSON.
        let bytes = documented["content"]
            .as_object()
            .is_some_and(|c| !c.is_empty() && !c.contains_key("application/json"));
        if bytes {
            assert!(!text.is_empty(), "{method} {template} {status}: no bytes");
        } else if text.is_empty() {
            assert!(
                schema.is_null(),
                "{method} {template} {status}: documented with a body"
            );
        } else {
            assert!(
                !schema.is_null(),
                "{method} {template} {status}: body {text} not documented"
            );
            let body: Value = serde_json::from_str(&text).expect("JSON body");
            // Validate against the whole document so `$ref`s resolve.
            let escape = |s: &str| {
                s.replace('~', "~0")
                    .replace('/', "~1")
                    .replace('{', "%7B")
                    .replace('}', "%7D")
            };
            let pointer = format!(
                "#/paths/{}/{method}/responses/{status}/content/application~1json/schema",
                escape(template)
            );
            let mut root = self.doc.clone();
            root["$ref"] = json!(pointer);
            let validator = jsonschema::draft202012::new(&root).expect("schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{method} {template} {status}: {body} does not match: {errors:?}"
            );
        }
        self.seen.insert((template.into(), method.into(), status));
    }

    /// Every documented (path, method, status), except those no test can provoke.
    fn documented(&self) -> BTreeSet<(String, String, String)> {
        let mut all = BTreeSet::new();
        for (path, ops) in self.doc["paths"].as_object().expect("paths") {
            for (method, op) in ops.as_object().expect("ops") {
                // Path-level `parameters` (the `x-roomcast-as` headers) are not an operation.
                if method == "parameters" {
                    continue;
                }
                for status in op["responses"].as_object().expect("responses").keys() {
                    all.insert((path.clone(), method.clone(), status.clone()));
                }
            }
        }
        all.remove(&("/healthz".into(), "get".into(), "503".into()));
        all
    }
}

/// The documented path template that `path` (without its query) instantiates.
fn template_of(doc: &Value, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .find(|t| {
            let tparts: Vec<&str> = t.split('/').collect();
            tparts.len() == parts.len()
                && tparts
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        })
        .unwrap_or_else(|| panic!("{path} matches no documented path"))
        .clone()
}

/// One request: which server, method, path, JSON body, bearer token.
type Case<'a> = (
    &'a TestApp,
    &'a str,
    &'a str,
    Option<Value>,
    Option<&'a str>,
);

#[tokio::test]
async fn every_documented_route_and_status_matches_real_responses() {
    let app = spawn_app().await;
    // Registration closed and tight limits, for 403, 413 and the 429s.
    let strict = spawn_app_with(|s| {
        s.registration = false;
        s.login_attempts = 1;
        s.max_payload = 1024;
        s.message_burst = 1;
        s.message_rate = 0.001;
    })
    .await;
    // One registration an hour per address, for register's 429.
    let once = spawn_app_with(|s| s.registration_rate = 1).await;
    let mut c = Checker {
        doc: document(&app).await,
        seen: BTreeSet::new(),
    };
    let (olga, sam) = (token("olga", None), token("sam", None));
    let (o, s) = (Some(olga.as_str()), Some(sam.as_str()));
    let creds = json!({"username": "ann", "password": "correct horse"});
    let wrong = json!({"username": "ann", "password": "wrong password"});
    let private = json!({"name": "staff", "visibility": "private"});
    let msg = json!({"message": "hello"});
    let big = json!({"message": "x".repeat(2000)});
    let user = |u: &str| Some(json!({ "user": u }));
    let secs = |n: i64| Some(json!({ "seconds": n }));
    let slow = |n: i64| Some(json!({ "slow_mode": n }));
    let (app, st, once) = (&app, &strict, &once);
    // Message 1 is olga's first post to `staff` below; 19 more emoji on it
    // make the 21st distinct one a 409.
    let encode = |e: &str| e.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let thumb = format!("/api/rooms/staff/messages/1/reactions/{}", encode("👍"));
    let faces: Vec<String> = (0..20)
        .map(|i| char::from_u32(0x1F600 + i).expect("emoji").to_string())
        .map(|e| format!("/api/rooms/staff/messages/1/reactions/{}", encode(&e)))
        .collect();
    let edit = json!({"message": "edited"});
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        (app, "POST", "/api/register", Some(creds.clone()), None),       // 201
        (app, "POST", "/api/register", Some(creds.clone()), None),       // 409
        (app, "POST", "/api/register", Some(json!({"username": "x"})), None), // 400
        (st, "POST", "/api/register", Some(creds.clone()), None),        // 403
        (once, "POST", "/api/register", Some(creds.clone()), None),      // 201, the one
        (once, "POST", "/api/register", Some(creds.clone()), None),      // 429
        (app, "POST", "/api/login", Some(creds.clone()), None),          // 200
        (app, "POST", "/api/login", Some(wrong), None),                  // 401
        (app, "POST", "/api/login", Some(json!([])), None),              // 400
        (st, "POST", "/api/login", Some(creds.clone()), None),           // 401, the one attempt
        (st, "POST", "/api/login", Some(creds.clone()), None),           // 429
        (app, "POST", "/api/logout", Some(json!({})), None),             // 204
        (app, "POST", "/api/rooms", Some(private.clone()), o),           // 201
        (app, "POST", "/api/rooms", Some(private.clone()), o),           // 409
        (app, "POST", "/api/rooms", Some(json!({"name": "a b"})), o),    // 400
        (app, "POST", "/api/rooms", Some(private), None),                // 401
        (app, "GET", "/api/rooms", None, o),                             // 200
        (app, "GET", "/api/rooms", None, Some("not.a.jwt")),             // 401
        (app, "POST", "/api/rooms/staff/messages", Some(msg.clone()), o),  // 201
        (app, "POST", "/api/rooms/staff/messages", Some(json!({"message": 1})), o), // 400
        (app, "POST", "/api/rooms/staff/messages", Some(msg.clone()), None), // 401
        (app, "POST", "/api/rooms/staff/messages", Some(msg.clone()), s),  // 403
        (app, "POST", "/api/rooms/nowhere/messages", Some(msg.clone()), o), // 404
        (st, "POST", "/api/rooms", Some(json!({"name": "r"})), o),       // 201
        (st, "POST", "/api/rooms/r/messages", Some(big), o),             // 413
        (st, "POST", "/api/rooms/r/messages", Some(msg.clone()), o),     // 201
        (st, "POST", "/api/rooms/r/messages", Some(msg), o),             // 429
        (st, "POST", "/api/rooms/r/events", Some(json!({"type": "t", "data": "x".repeat(2000)})), o), // 413
        (st, "POST", "/api/rooms/r/events", Some(json!({"type": "t"})), o), // 429
        (app, "POST", "/api/rooms/staff/events", Some(json!({"type": "move", "data": [1, 2]})), o), // 204
        (app, "POST", "/api/rooms/staff/events", Some(json!({"type": "a b"})), o), // 400
        (app, "POST", "/api/rooms/staff/events", Some(json!({"type": "t"})), None), // 401
        (app, "POST", "/api/rooms/staff/events", Some(json!({"type": "t"})), s), // 403
        (app, "POST", "/api/rooms/nowhere/events", Some(json!({"type": "t"})), o), // 404
        (app, "GET", "/api/rooms/staff/messages", None, o),              // 200
        (app, "GET", "/api/rooms/staff/messages?limit=0", None, o),      // 400
        (app, "GET", "/api/rooms/staff/messages", None, None),           // 401
        (app, "GET", "/api/rooms/staff/messages", None, s),              // 403
        (app, "GET", "/api/rooms/nowhere/messages", None, o),            // 404
        (app, "PATCH", "/api/rooms/staff/messages/1", Some(edit.clone()), o), // 200
        (app, "PATCH", "/api/rooms/staff/messages/1", Some(json!({"message": " "})), o), // 400
        (app, "PATCH", "/api/rooms/staff/messages/1", Some(edit.clone()), None), // 401
        (app, "PATCH", "/api/rooms/staff/messages/1", Some(edit.clone()), s), // 403
        (app, "PATCH", "/api/rooms/staff/messages/99", Some(edit), o),   // 404
        (app, "PUT", &thumb, None, o),                                   // 200
        (app, "PUT", "/api/rooms/staff/messages/1/reactions/a", None, o), // 400
        (app, "PUT", &thumb, None, None),                                // 401
        (app, "PUT", &thumb, None, s),                                   // 403
        (app, "PUT", "/api/rooms/staff/messages/99/reactions/%E2%9D%A4", None, o), // 404
        (app, "PUT", &faces[0], None, o), (app, "PUT", &faces[1], None, o),
        (app, "PUT", &faces[2], None, o), (app, "PUT", &faces[3], None, o),
        (app, "PUT", &faces[4], None, o), (app, "PUT", &faces[5], None, o),
        (app, "PUT", &faces[6], None, o), (app, "PUT", &faces[7], None, o),
        (app, "PUT", &faces[8], None, o), (app, "PUT", &faces[9], None, o),
        (app, "PUT", &faces[10], None, o), (app, "PUT", &faces[11], None, o),
        (app, "PUT", &faces[12], None, o), (app, "PUT", &faces[13], None, o),
        (app, "PUT", &faces[14], None, o), (app, "PUT", &faces[15], None, o),
        (app, "PUT", &faces[16], None, o), (app, "PUT", &faces[17], None, o),
        (app, "PUT", &faces[18], None, o),                               // 20 distinct
        (app, "PUT", &faces[19], None, o),                               // 409
        (app, "DELETE", &thumb, None, o),                                // 200
        (app, "DELETE", "/api/rooms/staff/messages/1/reactions/ab", None, o), // 400
        (app, "DELETE", &thumb, None, None),                             // 401
        (app, "DELETE", &thumb, None, s),                                // 403
        (app, "DELETE", "/api/rooms/staff/messages/99/reactions/%E2%9D%A4", None, o), // 404
        (app, "DELETE", "/api/rooms/staff/messages/x", None, o),         // 400
        (app, "DELETE", "/api/rooms/staff/messages/1", None, None),      // 401
        (app, "DELETE", "/api/rooms/staff/messages/1", None, s),         // 403
        (app, "DELETE", "/api/rooms/staff/messages/1", None, o),         // 200
        (app, "DELETE", "/api/rooms/staff/messages/1", None, o),         // 404
        (app, "POST", "/api/rooms/staff/members", user("sam"), o),       // 201
        (app, "POST", "/api/rooms/staff/members", user(""), o),          // 400
        (app, "POST", "/api/rooms/staff/members", user("x"), None),      // 401
        (app, "POST", "/api/rooms/staff/members", user("x"), s),         // 403
        (app, "POST", "/api/rooms/nowhere/members", user("x"), o),       // 404
        (app, "DELETE", "/api/rooms/staff/members/sam", None, s),        // 403
        (app, "DELETE", "/api/rooms/staff/members/sam", None, None),     // 401
        (app, "DELETE", "/api/rooms/a%20b/members/sam", None, o),        // 400
        (app, "DELETE", "/api/rooms/staff/members/sam", None, o),        // 204
        (app, "DELETE", "/api/rooms/staff/members/sam", None, o),        // 404
        (app, "GET", "/api/rooms/staff/members", None, o),               // 200
        (app, "GET", "/api/rooms/a%20b/members", None, o),               // 400
        (app, "GET", "/api/rooms/staff/members", None, None),            // 401
        (app, "GET", "/api/rooms/staff/members", None, s),               // 403, sam removed
        (app, "GET", "/api/rooms/nowhere/members", None, o),             // 404
        (app, "PUT", "/api/rooms/staff/read", Some(json!({"id": 0})), o),  // 200
        (app, "PUT", "/api/rooms/staff/read", Some(json!({"id": -1})), o), // 400
        (app, "PUT", "/api/rooms/staff/read", Some(json!({"id": 0})), None), // 401
        (app, "PUT", "/api/rooms/staff/read", Some(json!({"id": 0})), s),  // 404
        (app, "PUT", "/api/rooms/staff/moderators/mia", None, o),        // 204
        (app, "PUT", "/api/rooms/a%20b/moderators/mia", None, o),        // 400
        (app, "PUT", "/api/rooms/staff/moderators/mia", None, None),     // 401
        (app, "PUT", "/api/rooms/staff/moderators/mia", None, s),        // 403
        (app, "PUT", "/api/rooms/nowhere/moderators/mia", None, o),      // 404
        (app, "PUT", "/api/rooms/staff/mutes/sam", secs(60), o),         // 200
        (app, "PUT", "/api/rooms/staff/mutes/sam", secs(0), o),          // 400
        (app, "PUT", "/api/rooms/staff/mutes/sam", secs(60), None),      // 401
        (app, "PUT", "/api/rooms/staff/mutes/olga", secs(60), s),        // 403
        (app, "PUT", "/api/rooms/nowhere/mutes/sam", secs(60), o),       // 404
        (app, "PUT", "/api/rooms/staff/bans/eve", None, o),              // 204
        (app, "PUT", "/api/rooms/a%20b/bans/eve", None, o),              // 400
        (app, "PUT", "/api/rooms/staff/bans/eve", None, None),           // 401
        (app, "PUT", "/api/rooms/staff/bans/eve", None, s),              // 403
        (app, "PUT", "/api/rooms/nowhere/bans/eve", None, o),            // 404
        (app, "PATCH", "/api/rooms/staff", slow(5), o),                  // 204
        (app, "PATCH", "/api/rooms/staff", Some(json!({"topic": "Plans"})), o), // 204
        (app, "PATCH", "/api/rooms/staff", Some(json!({})), o),          // 400
        (app, "PATCH", "/api/rooms/staff", slow(-1), o),                 // 400
        (app, "PATCH", "/api/rooms/staff", slow(5), None),               // 401
        (app, "PATCH", "/api/rooms/staff", slow(5), s),                  // 403
        (app, "PATCH", "/api/rooms/nowhere", slow(5), o),                // 404
        (app, "GET", "/api/rooms/staff/moderation", None, o),            // 200
        (app, "GET", "/api/rooms/a%20b/moderation", None, o),            // 400
        (app, "GET", "/api/rooms/staff/moderation", None, None),         // 401
        (app, "GET", "/api/rooms/staff/moderation", None, s),            // 403
        (app, "GET", "/api/rooms/nowhere/moderation", None, o),          // 404
        (app, "DELETE", "/api/rooms/staff/mutes/sam", None, None),       // 401
        (app, "DELETE", "/api/rooms/staff/mutes/sam", None, s),          // 403
        (app, "DELETE", "/api/rooms/staff/mutes/sam", None, o),          // 204
        (app, "DELETE", "/api/rooms/staff/mutes/sam", None, o),          // 404
        (app, "DELETE", "/api/rooms/staff/bans/eve", None, None),        // 401
        (app, "DELETE", "/api/rooms/staff/bans/eve", None, s),           // 403
        (app, "DELETE", "/api/rooms/staff/bans/eve", None, o),           // 204
        (app, "DELETE", "/api/rooms/staff/bans/eve", None, o),           // 404
        (app, "DELETE", "/api/rooms/staff/moderators/mia", None, None),  // 401
        (app, "DELETE", "/api/rooms/staff/moderators/mia", None, s),     // 403
        (app, "DELETE", "/api/rooms/staff/moderators/mia", None, o),     // 204
        (app, "DELETE", "/api/rooms/staff/moderators/mia", None, o),     // 404
        (app, "POST", "/api/dms", Some(json!({"user": "acct:ann"})), o), // 200
        (app, "POST", "/api/dms", Some(json!({"users": []})), o),        // 400
        (app, "POST", "/api/dms", Some(json!({"user": "acct:ann"})), None), // 401
        (app, "POST", "/api/dms", Some(json!({"user": "ghost"})), o),    // 404
        (app, "GET", "/api/users?q=an", None, o),                       // 200
        (app, "GET", "/api/users", None, o),                            // 400
        (app, "GET", "/api/users?q=an", None, None),                    // 401
        (app, "GET", "/api/search?q=hello", None, o),                   // 200
        (app, "GET", "/api/search?q=%22hello", None, o),                // 400
        (app, "GET", "/api/search?q=hello", None, None),                // 401
        (app, "GET", "/api/search?q=hello&room=staff", None, s),        // 403
        (app, "GET", "/api/search?q=hello&room=nowhere", None, o),      // 404
        (app, "DELETE", "/api/rooms/a%20b/membership", None, o),         // 400
        (app, "DELETE", "/api/rooms/staff/membership", None, None),      // 401
        (app, "DELETE", "/api/rooms/staff/membership", None, s),         // 404
        (app, "DELETE", "/api/rooms/staff/membership", None, o),         // 204
        (app, "POST", "/api/rooms", Some(json!({"name": "gone"})), o),   // 201
        (app, "DELETE", "/api/rooms/gone", None, s),                     // 403
        (app, "DELETE", "/api/rooms/gone", None, None),                  // 401
        (app, "DELETE", "/api/rooms/a%20b", None, o),                    // 400
        (app, "DELETE", "/api/rooms/gone", None, o),                     // 204
        (app, "DELETE", "/api/rooms/gone", None, o),                     // 404
        (app, "GET", "/healthz", None, None),                            // 200
    ];
    for (server, method, path, body, bearer) in cases {
        let mut req = server
            .http
            .request(method.parse().expect("method"), server.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        let template = template_of(&c.doc, path);
        c.check(&method.to_lowercase(), &template, r).await;
    }
    // Files: raw bodies up, bytes down.
    let upload = |bearer: Option<&str>, room: &str, kind: &str, body: Vec<u8>| {
        let mut req = app
            .http
            .post(app.url(&format!("/api/rooms/{room}/files")))
            .header("content-type", kind)
            .body(body);
        if let Some(t) = bearer {
            req = req.bearer_auth(t.to_owned());
        }
        req.send()
    };
    let png = crate::files::png(2, 2);
    let bomb = crate::files::png_header_only(10_000, 10_000);
    let up = "/api/rooms/{room}/files";
    let r = upload(o, "staff", "image/png", png.clone())
        .await
        .expect("upload");
    let r_json = r.text().await.expect("body");
    let file: Value = serde_json::from_str(&r_json).expect("file view");
    c.seen.insert((up.into(), "post".into(), "201".into()));
    assert!(file["id"].is_string(), "{r_json}");
    for (bearer, room, kind, body) in [
        (o, "staff", "image/png", b"not png".to_vec()),
        (None, "staff", "application/octet-stream", b"x".to_vec()),
        (s, "staff", "text/plain", b"x".to_vec()),
        (o, "nowhere", "text/plain", b"x".to_vec()),
        (o, "staff", "image/png", bomb),
    ] {
        let r = upload(bearer, room, kind, body).await.expect("upload");
        c.check("post", up, r).await;
    }
    let url = file["url"].as_str().expect("url").to_owned();
    let thumbnail = file["thumbnail"].as_str().expect("thumbnail").to_owned();
    for path in [&url, &thumbnail] {
        for bearer in [o, None, s] {
            let mut req = app.http.get(app.url(path));
            if let Some(t) = bearer {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.expect("file");
            c.check("get", &template_of(&c.doc, path), r).await;
        }
    }
    let missing: Vec<_> = c.documented().difference(&c.seen).cloned().collect();
    assert!(
        missing.is_empty(),
        "documented but never produced: {missing:?}"
    );
}

/// A server key's `x-roomcast-as` headers are documented on every room
/// route, and on no other.
#[tokio::test]
async fn the_acting_headers_are_on_the_room_routes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let names: Vec<&str> = item["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        let expected: &[&str] = if path.starts_with("/api/rooms") {
            &["x-roomcast-as", "x-roomcast-as-name"]
        } else {
            &[]
        };
        assert_eq!(names, expected, "{path}");
        for p in item["parameters"].as_array().into_iter().flatten() {
            assert_eq!(
                (p["in"].as_str(), p["required"].as_bool()),
                (Some("header"), Some(false))
            );
        }
    }
}
