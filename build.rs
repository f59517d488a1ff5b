//! Embeds the dashboard's committed build (`web/dist`) into the binary, so
//! `cargo run --release` serves the page with no Node and no files beside it.
//!
//! Writes `$OUT_DIR/dashboard_assets.rs`: one `Asset` per file, with its URL
//! path, its bytes (`include_bytes!`), its content type, whether its name is
//! content-hashed (cached for a year) and a strong ETag. A missing `web/dist`
//! gives an empty table: the hub then answers `/` with a 404 that says the
//! page was not built.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = manifest.join("web").join("dist");
    // Cargo scans a directory given here for changes to any file inside it.
    println!("cargo:rerun-if-changed=web/dist");
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &mut files);
    }
    let mut files: Vec<(String, PathBuf)> = files
        .into_iter()
        .map(|file| {
            let rel = file
                .strip_prefix(&dist)
                .expect("collected under dist")
                .to_string_lossy()
                .replace('\\', "/");
            (rel, file)
        })
        .collect();
    // Sorted by URL path: the table does not depend on the order the file
    // system lists entries in, and the server looks paths up by bisection.
    files.sort();

    let mut out = String::from("&[\n");
    for (rel, file) in &files {
        let bytes = std::fs::read(file).expect("a file of web/dist is readable");
        let hashed = rel.starts_with("assets/");
        writeln!(
            out,
            "    Asset {{ path: {path:?}, body: include_bytes!({abs:?}), content_type: {ct:?}, immutable: {hashed}, etag: \"\\\"{etag:016x}\\\"\" }},",
            path = format!("/{rel}"),
            abs = file.display().to_string(),
            ct = content_type(rel),
            etag = fnv1a(&bytes),
        )
        .expect("writing to a String cannot fail");
    }
    out.push(']');

    let target = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"))
        .join("dashboard_assets.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("web/dist is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// FNV-1a, 64 bits: enough to tell two builds of a file apart for an ETag,
/// and needs no build dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
