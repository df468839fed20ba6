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
        if text.is_empty() {
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
                for status in op["responses"].as_object().expect("responses").keys() {
                    all.insert((path.clone(), method.clone(), status.clone()));
                }
            }
        }
        all.remove(&("/healthz".into(), "get".into(), "503".into()));
        all
    }
}

#[tokio::test]
async fn every_documented_route_and_status_matches_real_responses() {
    let app = spawn_app().await;
    let strict = spawn_app_with(|s| {
        s.registration = false;
        s.login_attempts = 1;
        s.max_payload = 1024;
        s.message_burst = 1;
        s.message_rate = 0.001;
    })
    .await;
    let mut c = Checker {
        doc: document(&app).await,
        seen: BTreeSet::new(),
    };
    let (olga, sam) = (token("olga", None), token("sam", None));
    let creds = json!({"username": "ann", "password": "correct horse"});

    // Accounts.
    c.check(
        "post",
        "/api/register",
        app.post("/api/register", creds.clone(), None).await,
    )
    .await;
    c.check(
        "post",
        "/api/register",
        app.post("/api/register", creds.clone(), None).await,
    )
    .await;
    c.check(
        "post",
        "/api/register",
        app.post("/api/register", json!({"username": "x"}), None)
            .await,
    )
    .await;
    c.check(
        "post",
        "/api/register",
        strict.post("/api/register", creds.clone(), None).await,
    )
    .await;
    c.check(
        "post",
        "/api/login",
        app.post("/api/login", creds.clone(), None).await,
    )
    .await;
    c.check(
        "post",
        "/api/login",
        app.post(
            "/api/login",
            json!({"username": "ann", "password": "wrong password"}),
            None,
        )
        .await,
    )
    .await;
    c.check(
        "post",
        "/api/login",
        app.post("/api/login", json!([]), None).await,
    )
    .await;
    strict.post("/api/login", creds.clone(), None).await;
    c.check(
        "post",
        "/api/login",
        strict.post("/api/login", creds.clone(), None).await,
    )
    .await;
    c.check(
        "post",
        "/api/logout",
        app.post("/api/logout", json!({}), None).await,
    )
    .await;

    // Rooms.
    let private = json!({"name": "staff", "visibility": "private"});
    c.check(
        "post",
        "/api/rooms",
        app.post("/api/rooms", private.clone(), Some(&olga)).await,
    )
    .await;
    c.check(
        "post",
        "/api/rooms",
        app.post("/api/rooms", private.clone(), Some(&olga)).await,
    )
    .await;
    c.check(
        "post",
        "/api/rooms",
        app.post("/api/rooms", json!({"name": "a b"}), Some(&olga))
            .await,
    )
    .await;
    c.check(
        "post",
        "/api/rooms",
        app.post("/api/rooms", private.clone(), None).await,
    )
    .await;
    c.check(
        "get",
        "/api/rooms",
        app.get("/api/rooms", Some(&olga)).await,
    )
    .await;
    c.check(
        "get",
        "/api/rooms",
        app.get("/api/rooms", Some("not.a.jwt")).await,
    )
    .await;

    // Messages.
    let post = |room: &str| format!("/api/rooms/{room}/messages");
    let msg = json!({"message": "hello"});
    let path = "/api/rooms/{room}/messages";
    c.check(
        "post",
        path,
        app.post(&post("staff"), msg.clone(), Some(&olga)).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(&post("staff"), json!({"message": 1}), Some(&olga))
            .await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(&post("staff"), msg.clone(), None).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(&post("staff"), msg.clone(), Some(&sam)).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(&post("nowhere"), msg.clone(), Some(&olga)).await,
    )
    .await;
    strict
        .post("/api/rooms", json!({"name": "r"}), Some(&olga))
        .await;
    let big = json!({"message": "x".repeat(2000)});
    c.check(
        "post",
        path,
        strict.post(&post("r"), big, Some(&olga)).await,
    )
    .await;
    strict.post(&post("r"), msg.clone(), Some(&olga)).await;
    c.check(
        "post",
        path,
        strict.post(&post("r"), msg.clone(), Some(&olga)).await,
    )
    .await;
    c.check("get", path, app.get(&post("staff"), Some(&olga)).await)
        .await;
    c.check(
        "get",
        path,
        app.get(&format!("{}?limit=0", post("staff")), Some(&olga))
            .await,
    )
    .await;
    c.check("get", path, app.get(&post("staff"), None).await)
        .await;
    c.check("get", path, app.get(&post("staff"), Some(&sam)).await)
        .await;
    c.check("get", path, app.get(&post("nowhere"), Some(&olga)).await)
        .await;

    // Members.
    let path = "/api/rooms/{room}/members";
    let members = "/api/rooms/staff/members";
    c.check(
        "post",
        path,
        app.post(members, json!({"user": "sam"}), Some(&olga)).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(members, json!({"user": ""}), Some(&olga)).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(members, json!({"user": "sam"}), None).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(members, json!({"user": "eve"}), Some(&sam)).await,
    )
    .await;
    c.check(
        "post",
        path,
        app.post(
            "/api/rooms/nowhere/members",
            json!({"user": "x"}),
            Some(&olga),
        )
        .await,
    )
    .await;
    let path = "/api/rooms/{room}/members/{user}";
    c.check(
        "delete",
        path,
        app.delete("/api/rooms/staff/members/sam", Some(&sam)).await,
    )
    .await;
    c.check(
        "delete",
        path,
        app.delete("/api/rooms/staff/members/sam", None).await,
    )
    .await;
    c.check(
        "delete",
        path,
        app.delete("/api/rooms/a%20b/members/sam", Some(&olga))
            .await,
    )
    .await;
    c.check(
        "delete",
        path,
        app.delete("/api/rooms/staff/members/sam", Some(&olga))
            .await,
    )
    .await;
    c.check(
        "delete",
        path,
        app.delete("/api/rooms/staff/members/sam", Some(&olga))
            .await,
    )
    .await;

    c.check("get", "/healthz", app.get("/healthz", None).await)
        .await;

    let missing: Vec<_> = c.documented().difference(&c.seen).cloned().collect();
    assert!(
        missing.is_empty(),
        "documented but never produced: {missing:?}"
    );
}
