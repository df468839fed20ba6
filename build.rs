//! Fetches the official `socket.io-client` bundle (pinned in `web/package-lock.json`)
//! so the binary can serve it at `/socket.io/socket.io.js` without a CDN.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    let dist = Path::new("web/node_modules/socket.io-client/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if dist.join("socket.io.min.js").exists() && dist.join("socket.io.js").exists() {
        return;
    }
    // `npm ci` installs exactly what the lock file pins; the files land in
    // web/node_modules, which git ignores, and are embedded by src/http/client_js.rs.
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix", "web"])
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            panic!("`npm ci --prefix web` failed ({s}); roomcast embeds socket.io-client from npm")
        }
        Err(e) => panic!("could not run npm ({e}); install Node.js and npm to build roomcast"),
    }
}
