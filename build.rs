//! Fetches the npm packages pinned in `web/package-lock.json` (the official
//! `socket.io-client` bundle, the Socket.IO Admin UI and its icon font, and
//! esbuild), bundles the web pages' TypeScript and CSS into `OUT_DIR`, and
//! lists the Admin UI's files for embedding, so the binary embeds everything
//! and never needs node at run time.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    // `sqlx::migrate!` embeds these at compile time.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/src");
    let dist = Path::new("web/node_modules/socket.io-client/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let esbuild = Path::new("web/node_modules/.bin/esbuild");
    let installed = dist.join("socket.io.min.js").exists()
        && dist.join("socket.io.js").exists()
        && Path::new(ADMIN_UI).join("index.html").exists()
        && Path::new(MDI).join("css").exists()
        && esbuild.exists()
        && Path::new("web/node_modules/marked/package.json").exists();
    if !installed {
        npm_ci();
    }
    bundle(esbuild);
    admin_ui();
}

/// The built dashboard `@socket.io/admin-ui` ships, and the icon font it
/// loads from a CDN, which roomcast serves itself instead.
const ADMIN_UI: &str = "web/node_modules/@socket.io/admin-ui/ui/dist";
const MDI: &str = "web/node_modules/@mdi/font";

/// The links of the dashboard's `index.html` to other sites, and what
/// replaces each: the Roboto web font goes (the theme falls back to the
/// system's sans-serif), the icons come from `/admin/mdi/`. The page may
/// then load nothing from elsewhere (its CSP says so).
const INDEX_LINKS: [(&str, &str); 2] = [
    (
        r#"<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto:100,300,400,500,700,900">"#,
        "",
    ),
    (
        r#"<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/@mdi/font@latest/css/materialdesignicons.min.css">"#,
        r#"<link rel="stylesheet" href="mdi/css/materialdesignicons.min.css">"#,
    ),
];

/// Writes OUT_DIR/admin-ui/index.html (its external links replaced) and
/// OUT_DIR/admin_ui_files.rs, the table of every file served under
/// `/admin/`: `(path, bytes)`, source maps left out.
fn admin_ui() {
    println!("cargo:rerun-if-changed={ADMIN_UI}");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut index = std::fs::read_to_string(Path::new(ADMIN_UI).join("index.html"))
        .expect("the Admin UI's index.html");
    for (from, to) in INDEX_LINKS {
        assert!(
            index.contains(from),
            "the Admin UI's index.html no longer links {from}: check the new version's page"
        );
        index = index.replace(from, to);
    }
    assert!(
        !index.contains("https://") && !index.contains("http://"),
        "the Admin UI's index.html still loads from another site"
    );
    std::fs::create_dir_all(out.join("admin-ui")).expect("OUT_DIR is writable");
    let index_path = out.join("admin-ui/index.html");
    std::fs::write(&index_path, index).expect("OUT_DIR is writable");

    let mut files = vec![(String::new(), index_path)];
    for dir in ["css", "js", "img"] {
        files.extend(listed(Path::new(ADMIN_UI), dir));
    }
    files.push((
        "favicon.png".into(),
        Path::new(ADMIN_UI).join("favicon.png"),
    ));
    let mdi = Path::new(MDI);
    files.push((
        "mdi/css/materialdesignicons.min.css".into(),
        mdi.join("css/materialdesignicons.min.css"),
    ));
    for font in ["woff2", "woff"] {
        let name = format!("fonts/materialdesignicons-webfont.{font}");
        files.push((format!("mdi/{name}"), mdi.join(name)));
    }
    let mut table = String::from("&[\n");
    for (path, file) in files {
        let abs =
            std::fs::canonicalize(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        table.push_str(&format!(
            "    ({path:?}, include_bytes!({:?})),\n",
            abs.display().to_string()
        ));
    }
    table.push(']');
    std::fs::write(out.join("admin_ui_files.rs"), table).expect("OUT_DIR is writable");
}

/// The files of `root/dir` as (`dir/name`, path), without source maps.
fn listed(root: &Path, dir: &str) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(root.join(dir))
        .unwrap_or_else(|e| panic!("{}/{dir}: {e}", root.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x != "map"))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            Some((format!("{dir}/{name}"), p))
        })
        .collect();
    found.sort();
    found
}

/// `npm ci` installs exactly what the lock file pins, into web/node_modules
/// (which git ignores).
fn npm_ci() {
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix", "web"])
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            panic!("`npm ci --prefix web` failed ({s}); roomcast embeds its web assets from npm")
        }
        Err(e) => panic!("could not run npm ({e}); install Node.js and npm to build roomcast"),
    }
}

/// Bundles web/src/app.ts and web/src/app.css into OUT_DIR/web, and exports a
/// content hash as `ROOMCAST_ASSETS_VERSION` so pages can cache them forever.
fn bundle(esbuild: &Path) {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("web");
    let status = Command::new(esbuild)
        .args([
            "web/src/app.ts",
            "web/src/app.css",
            "--bundle",
            "--minify",
            "--target=es2020,chrome100,firefox100,safari15",
            "--log-level=warning",
            // Absolute URLs in the CSS are served by the binary, not bundled.
            "--external:/assets/*",
        ])
        .arg(format!("--outdir={}", out.display()))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("esbuild failed ({s}) bundling web/src"),
        Err(e) => panic!("could not run {} ({e})", esbuild.display()),
    }
    // FNV-1a over both outputs: std only, stable across builds.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in ["app.js", "app.css"] {
        let bytes = std::fs::read(out.join(name)).expect("esbuild wrote its output");
        for b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=ROOMCAST_ASSETS_VERSION={hash:016x}");
}
