//! A small real HTTP/1.1 server on 127.0.0.1 for testing the feed and episode fetcher (ureq 2)
//! against real sockets: static resources with ETags, conditional GETs, ranged resumes,
//! redirects, bodies that never end, bodies shorter than they claim, and slow bodies.
//!
//! One thread accepts; each connection gets its own thread and exactly one request, answered
//! with `Connection: close`. Request bodies are never read (the fetcher only sends GET and HEAD).
//! Threads are detached: the server lives until the test process ends.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Every `put()` resource claims this modification date; only the ETag tells bodies apart.
pub const LAST_MODIFIED: &str = "Wed, 21 Oct 2015 07:28:00 GMT";

/// Size of each body write, and of each throttled step.
const CHUNK: usize = 8192;

/// One request the server saw, recorded before any of the response goes out (so `hits()` is
/// complete as soon as a client call returns). `path` is the request target exactly as sent
/// (query included). `bytes_sent` counts body bytes (headers excluded) handed to the socket so
/// far, 8 KiB at a time; it can run ahead of what the client has read by the socket buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub range: Option<String>,
    pub if_none_match: Option<String>,
    pub bytes_sent: u64,
}

enum Route {
    Static { body: Arc<Vec<u8>>, content_type: String, etag: String },
    Redirect(String),
    Endless,
    ClaimLength(u64),
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// path -> (after_bytes, delay_ms); kept apart from the routes so that it survives a `put()`.
    throttles: HashMap<String, (u64, u64)>,
    /// Each hit carries an id, so that `clear_hits()` during a download does not confuse updates.
    hits: Vec<(u64, Hit)>,
    next_id: u64,
}

type Shared = Arc<Mutex<State>>;

/// A running server. Dropping it does not stop it (tests are short-lived processes).
pub struct Server {
    port: u16,
    state: Shared,
}

/// Strips the query string (and fragment), so `/feed.xml?x=1` is the resource `/feed.xml`.
fn bare(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

fn normalize(path: &str) -> String {
    let p = bare(path);
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

/// Quoted first 16 hex digits of the SHA-256 of the body.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(body))[..16])
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let state: Shared = Arc::default();
        let st = state.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(stream) = conn else { continue };
                let st = st.clone();
                thread::spawn(move || handle(stream, &st));
            }
        });
        Server { port, state }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/path` (a missing leading slash is added).
    pub fn url(&self, path: &str) -> String {
        let sep = if path.starts_with('/') { "" } else { "/" };
        format!("http://127.0.0.1:{}{sep}{path}", self.port)
    }

    /// A static resource (GET and HEAD, conditional and ranged). Replacing the body changes the
    /// ETag but not Last-Modified.
    pub fn put(&self, path: &str, body: Vec<u8>, content_type: &str) {
        let etag = etag_of(&body);
        let route = Route::Static { body: Arc::new(body), content_type: content_type.into(), etag };
        self.state.lock().unwrap().routes.insert(normalize(path), route);
    }

    /// 302 to `location`, sent verbatim (absolute or relative).
    pub fn redirect(&self, path: &str, location: &str) {
        self.state.lock().unwrap().routes.insert(normalize(path), Route::Redirect(location.into()));
    }

    /// 200 without Content-Length: zero bytes until the client hangs up (close-delimited body).
    pub fn endless(&self, path: &str) {
        self.state.lock().unwrap().routes.insert(normalize(path), Route::Endless);
    }

    /// 200 with `Content-Length: len`, but only min(4096, len - 1) bytes follow before the close.
    pub fn claim_length(&self, path: &str, len: u64) {
        self.state.lock().unwrap().routes.insert(normalize(path), Route::ClaimLength(len));
    }

    /// For a `put()` resource: once a response has sent `after_bytes` of its body, sleep
    /// `delay_ms` before each further 8 KiB write. Checked before every write, so `unthrottle()`
    /// speeds up a download that is already running.
    pub fn throttle(&self, path: &str, after_bytes: u64, delay_ms: u64) {
        self.state.lock().unwrap().throttles.insert(normalize(path), (after_bytes, delay_ms));
    }

    pub fn unthrottle(&self, path: &str) {
        self.state.lock().unwrap().throttles.remove(&normalize(path));
    }

    /// Every request so far, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.iter().map(|(_, h)| h.clone()).collect()
    }

    /// The requests for one resource (query strings ignored on both sides).
    pub fn hits_for(&self, path: &str) -> Vec<Hit> {
        let want = normalize(path);
        self.hits().into_iter().filter(|h| normalize(&h.path) == want).collect()
    }

    pub fn clear_hits(&self) {
        self.state.lock().unwrap().hits.clear();
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Some(Request { method, target, headers })
}

/// A response body: `data[start..end]` of a resource, or zeros (`None`: until the client
/// hangs up).
enum Body {
    Bytes(Arc<Vec<u8>>, usize, usize),
    Zeros(Option<u64>),
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        _ => "Unknown",
    }
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == etag)
}

/// `bytes=N-` or `bytes=N-M` (M clamped); `None` = not a range we understand (send it all).
fn parse_range(v: &str, len: usize) -> Option<Result<(usize, usize), ()>> {
    let (a, b) = v.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start: usize = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => len,
        m => m.parse::<usize>().ok()?.saturating_add(1).min(len),
    };
    Some(if start >= len || start >= end { Err(()) } else { Ok((start, end)) })
}

fn respond(req: &Request, st: &Shared) -> (u16, Vec<(String, String)>, Body) {
    let h = |k: &str, v: String| (k.to_string(), v);
    let state = st.lock().unwrap();
    let empty = Body::Bytes(Arc::new(Vec::new()), 0, 0);
    match state.routes.get(bare(&req.target)) {
        None => {
            let body = Body::Bytes(Arc::new(b"not found\n".to_vec()), 0, 10);
            (404, vec![h("Content-Type", "text/plain".into())], body)
        }
        Some(Route::Redirect(loc)) => (302, vec![h("Location", loc.clone())], empty),
        Some(Route::Endless) => {
            (200, vec![h("Content-Type", "application/octet-stream".into())], Body::Zeros(None))
        }
        Some(Route::ClaimLength(len)) => {
            let send = (*len).saturating_sub(1).min(4096);
            let hs = vec![
                h("Content-Type", "application/octet-stream".into()),
                h("Content-Length", len.to_string()),
            ];
            (200, hs, Body::Zeros(Some(send)))
        }
        Some(Route::Static { body, content_type, etag }) => {
            let len = body.len();
            let mut hs = vec![h("ETag", etag.clone()), h("Last-Modified", LAST_MODIFIED.into())];
            if req.header("If-None-Match").is_some_and(|v| etag_matches(&v, etag)) {
                return (304, hs, empty);
            }
            hs.push(h("Content-Type", content_type.clone()));
            hs.push(h("Accept-Ranges", "bytes".into()));
            let if_range_ok = req.header("If-Range").is_none_or(|v| v.trim() == etag);
            match req.header("Range").filter(|_| if_range_ok).and_then(|r| parse_range(&r, len)) {
                Some(Ok((s, e))) => {
                    hs.push(h("Content-Range", format!("bytes {s}-{}/{len}", e - 1)));
                    (206, hs, Body::Bytes(body.clone(), s, e))
                }
                Some(Err(())) => {
                    hs.retain(|(k, _)| k != "Content-Type");
                    hs.push(h("Content-Range", format!("bytes */{len}")));
                    (416, hs, empty)
                }
                None => (200, hs, Body::Bytes(body.clone(), 0, len)),
            }
        }
    }
}

fn handle(mut stream: TcpStream, st: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Some(req) = read_request(&stream) else { return };
    let (status, mut headers, body) = respond(&req, st);
    let head_only = req.method.eq_ignore_ascii_case("HEAD") || status == 304;
    if let (Body::Bytes(_, s, e), false) = (&body, status == 304) {
        if !headers.iter().any(|(k, _)| k == "Content-Length") {
            headers.push(("Content-Length".into(), (e - s).to_string()));
        }
    }
    let id = {
        let mut state = st.lock().unwrap();
        let id = state.next_id;
        state.next_id += 1;
        let hit = Hit {
            method: req.method.clone(),
            path: req.target.clone(),
            status,
            range: req.header("Range"),
            if_none_match: req.header("If-None-Match"),
            bytes_sent: 0,
        };
        state.hits.push((id, hit));
        id
    };
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("Connection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() || head_only {
        let _ = stream.shutdown(std::net::Shutdown::Write);
        return;
    }
    let key = bare(&req.target).to_string();
    let zeros = [0u8; CHUNK];
    let mut sent: u64 = 0;
    loop {
        let left = match &body {
            Body::Bytes(_, s, e) => (e - s) as u64 - sent,
            Body::Zeros(limit) => limit.map_or(CHUNK as u64, |l| l - sent),
        };
        let mut n = left.min(CHUNK as u64);
        if n == 0 {
            break;
        }
        let throttle = st.lock().unwrap().throttles.get(&key).copied();
        if let (Some((after, delay)), Body::Bytes(..)) = (throttle, &body) {
            if sent >= after {
                thread::sleep(Duration::from_millis(delay));
            } else {
                n = n.min(after - sent);
            }
        }
        let chunk = match &body {
            Body::Bytes(b, s, _) => &b[s + sent as usize..][..n as usize],
            Body::Zeros(_) => &zeros[..n as usize],
        };
        // Counted before the write, so that a client that has read the whole body always sees
        // the final count; taken back if the write fails.
        set_sent(st, id, sent + n);
        if stream.write_all(chunk).is_err() {
            set_sent(st, id, sent);
            return; // the client went away
        }
        sent += n;
    }
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

fn set_sent(st: &Shared, id: u64, n: u64) {
    let mut state = st.lock().unwrap();
    if let Some((_, hit)) = state.hits.iter_mut().rev().find(|(i, _)| *i == id) {
        hit.bytes_sent = n;
    }
}
