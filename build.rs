//! Fetches the npm packages pinned in `web/package-lock.json` (the official
//! `socket.io-client` bundle and esbuild) and bundles the web pages' TypeScript
//! and CSS into `OUT_DIR`, so the binary embeds everything and never needs
//! node at run time.

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
        && esbuild.exists();
    if !installed {
        npm_ci();
    }
    bundle(esbuild);
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
