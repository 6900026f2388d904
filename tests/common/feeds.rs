//! Helpers for the feed tests: feed documents for the test server, and the binary run with
//! loopback hosts allowed (the test server is on 127.0.0.1).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::httpd::Server;
use super::{stderr, stdout, Env};

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An RSS item: (guid, title, enclosure URL, optional VTT transcript URL).
pub fn rss(title: &str, items: &[(&str, &str, &str, Option<&str>)]) -> Vec<u8> {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" \
         xmlns:podcast=\"https://podcastindex.org/namespace/1.0\">\n<channel>\n\
         <title>{title}</title>\n<link>https://example.com/</link>\n"
    );
    for (i, (guid, t, enclosure, transcript)) in items.iter().enumerate() {
        out.push_str(&format!(
            "<item><guid>{guid}</guid><title>{t}</title>\
             <pubDate>Mon, 0{} Nov 2026 06:00:00 GMT</pubDate>\
             <enclosure url=\"{enclosure}\" type=\"audio/mpeg\" length=\"1000\"/>\
             <itunes:duration>01:05</itunes:duration>",
            i + 1
        ));
        if let Some(t) = transcript {
            out.push_str(&format!("<podcast:transcript url=\"{t}\" type=\"text/vtt\"/>"));
        }
        out.push_str("</item>\n");
    }
    out.push_str("</channel>\n</rss>\n");
    out.into_bytes()
}

pub fn env_allowing_loopback() -> Env {
    let env = Env::new();
    write_config(&env, "");
    env
}

pub fn write_config(env: &Env, text: &str) {
    std::fs::write(env.home.path().join("config.toml"), text).unwrap();
}

pub fn run_ok(env: &Env, args: &[&str]) -> std::process::Output {
    let out = env.cmd().env("PODBRIEF_ALLOW_PRIVATE_HOSTS", "1").args(args).output().unwrap();
    assert!(out.status.success(), "{args:?} failed:\n{}", stderr(&out));
    out
}

pub fn run_any(env: &Env, args: &[&str]) -> std::process::Output {
    env.cmd().env("PODBRIEF_ALLOW_PRIVATE_HOSTS", "1").args(args).output().unwrap()
}

pub fn feeds_json(env: &Env) -> Vec<Value> {
    serde_json::from_str(&stdout(&run_ok(env, &["feeds", "list", "--json"]))).unwrap()
}

pub fn gets(server: &Server, path: &str) -> Vec<u16> {
    server.hits_for(path).iter().filter(|h| h.method == "GET").map(|h| h.status).collect()
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Undoes quoted-printable (RFC 2045): soft line breaks and `=XX` escapes.
pub fn unquote_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn brief_texts(brief: &Value) -> Vec<String> {
    brief["brief"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            let mut t = vec![e["quote"].as_str().unwrap().to_string()];
            t.extend(
                e["related"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["kind"] == "merged")
                    .map(|r| r["quote"].as_str().unwrap().to_string()),
            );
            t
        })
        .collect()
}
