//! HTTP for feeds and episodes, with the guards an untrusted feed needs: http/https only, at most
//! [`MAX_REDIRECTS`] redirects (each one re-checked), no private or loopback hosts unless
//! allowed, timeouts, and size limits enforced while reading (a missing or lying
//! `Content-Length` does not get past them). Feeds use conditional GET; downloads go to a
//! `.part` file beside their destination and resume from it with a `Range` request, so a killed
//! run loses nothing, and only a complete file is renamed into place.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::netpolicy::{check_addrs, PrivateAddress};

/// Redirects followed before giving up (a loop ends here too).
pub const MAX_REDIRECTS: usize = 5;

const USER_AGENT: &str = concat!("podbrief/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone)]
pub struct Limits {
    /// For connecting, and for each read once connected (a stalled server), not the whole body.
    pub timeout: Duration,
    pub max_feed_bytes: u64,
    pub max_download_bytes: u64,
    pub allow_private: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: only http:// and https:// URLs are fetched")]
    Scheme { url: String },
    #[error("{url}: not a valid URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error(
        "{url}: refused: {host} is {what} ({addr}); set allow_private_hosts = true in the config \
         (or PODBRIEF_ALLOW_PRIVATE_HOSTS=1) to fetch from it"
    )]
    Private { url: String, host: String, addr: String, what: &'static str },
    #[error("{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")]
    TooManyRedirects { url: String },
    #[error("{url}: HTTP {status} {reason}")]
    Status { url: String, status: u16, reason: String },
    #[error("{url}: over the size limit of {limit} bytes ({what})")]
    TooLarge { url: String, limit: u64, what: String },
    #[error("{url}: the server closed the connection after {got} of {expected} bytes")]
    Truncated { url: String, got: u64, expected: u64 },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// A feed fetched with the validators of the previous fetch.
#[derive(Debug)]
pub enum FeedFetch {
    NotModified,
    Fetched { bytes: Vec<u8>, etag: Option<String>, last_modified: Option<String> },
}

/// How a download went: its size, and where it resumed from (0 for a fresh start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Downloaded {
    pub bytes: u64,
    pub resumed_from: u64,
}

pub struct Client {
    agent: ureq::Agent,
    limits: Limits,
}

impl Client {
    pub fn new(limits: Limits) -> Client {
        let allow = limits.allow_private;
        // The resolver is the real guard: it sees every connection, redirects included, and the
        // very addresses connected to, so a name that re-resolves to 127.0.0.1 is still caught.
        let resolver = move |netloc: &str| -> io::Result<Vec<SocketAddr>> {
            let addrs: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
            if allow {
                return Ok(addrs);
            }
            check_addrs(&addrs).map_err(|p| io::Error::new(io::ErrorKind::PermissionDenied, p))
        };
        let agent = ureq::AgentBuilder::new()
            .user_agent(USER_AGENT)
            .timeout_connect(limits.timeout)
            .timeout_read(limits.timeout)
            .timeout_write(limits.timeout)
            .redirects(0)
            .resolver(resolver)
            .build();
        Client { agent, limits }
    }

    /// The limits this client enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// GETs a feed, sending back `etag` and `last_modified` so an unchanged feed costs a 304.
    pub fn get_feed(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<FeedFetch, FetchError> {
        let mut headers = vec![("Accept", "application/rss+xml, application/atom+xml, */*")];
        headers.extend(etag.map(|e| ("If-None-Match", e)));
        headers.extend(last_modified.map(|m| ("If-Modified-Since", m)));
        let (resp, final_url) = self.get(url, &headers)?;
        if resp.status() == 304 {
            return Ok(FeedFetch::NotModified);
        }
        let limit = self.limits.max_feed_bytes;
        check_length(&final_url, content_length(&resp), limit)?;
        let etag = resp.header("ETag").map(str::to_string);
        let last_modified = resp.header("Last-Modified").map(str::to_string);
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| transport(&final_url, &e.to_string()))?;
        if bytes.len() as u64 > limit {
            return Err(too_large(&final_url, limit, "the feed"));
        }
        Ok(FeedFetch::Fetched { bytes, etag, last_modified })
    }

    /// Downloads `url` to `dest`, resuming a `.part` left by an earlier, interrupted run.
    /// `progress(done, total)` is called as bytes arrive.
    pub fn download(
        &self,
        url: &str,
        dest: &Path,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<Downloaded, FetchError> {
        let part = with_suffix(dest, ".part");
        let validator_path = with_suffix(dest, ".part.validator");
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| FetchError::Io { path, source }
        };
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        let validator = std::fs::read_to_string(&validator_path).ok();
        let range = format!("bytes={have}-");
        let mut headers = Vec::new();
        if have > 0 {
            headers.push(("Range", range.as_str()));
            // If the file changed since the part was written, the server sends it whole.
            headers.extend(validator.as_deref().map(|v| ("If-Range", v)));
        }
        let (resp, final_url) = match self.get(url, &headers) {
            // The part is already the whole file (killed between the last byte and the rename),
            // or no longer matches: start over.
            Err(FetchError::Status { status: 416, .. }) if have > 0 => {
                std::fs::remove_file(&part).map_err(io_err(&part))?;
                return self.download(url, dest, progress);
            }
            other => other?,
        };
        let limit = self.limits.max_download_bytes;
        let resumed_from = match (resp.status(), content_range_start(&resp)) {
            (206, Some(start)) if start == have => have,
            (206, _) => {
                return Err(transport(
                    &final_url,
                    "the server answered the resume with another range",
                ))
            }
            _ => 0,
        };
        let total = content_length(&resp).map(|n| n + resumed_from);
        check_length(&final_url, total, limit)?;
        let new_validator = resp.header("ETag").or_else(|| resp.header("Last-Modified"));
        match new_validator {
            Some(v) => std::fs::write(&validator_path, v).map_err(io_err(&validator_path))?,
            None => {
                let _ = std::fs::remove_file(&validator_path);
            }
        }
        let mut file = if resumed_from > 0 {
            OpenOptions::new().append(true).open(&part)
        } else {
            File::create(&part)
        }
        .map_err(io_err(&part))?;

        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = resumed_from;
        progress(done, total);
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Kept for the next run to resume from.
                Err(e) => return Err(transport(&final_url, &e.to_string())),
            };
            done += n as u64;
            if done > limit {
                drop(file);
                let _ = std::fs::remove_file(&part);
                let _ = std::fs::remove_file(&validator_path);
                return Err(too_large(&final_url, limit, "the body kept coming"));
            }
            file.write_all(&buf[..n]).map_err(io_err(&part))?;
            progress(done, total);
        }
        if let Some(expected) = total.filter(|&t| done < t) {
            return Err(FetchError::Truncated { url: final_url.to_string(), got: done, expected });
        }
        file.sync_all().map_err(io_err(&part))?;
        drop(file);
        std::fs::rename(&part, dest).map_err(io_err(dest))?;
        let _ = std::fs::remove_file(&validator_path);
        Ok(Downloaded { bytes: done, resumed_from })
    }

    /// One GET with redirects followed by hand, so that each hop is checked like the first.
    fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<(ureq::Response, Url), FetchError> {
        let mut current = self.check(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self.agent.request_url("GET", &current);
            for (k, v) in headers {
                req = req.set(k, v);
            }
            let resp = match req.call() {
                Ok(r) => r,
                Err(ureq::Error::Status(status, r)) => {
                    return Err(FetchError::Status {
                        url: current.to_string(),
                        status,
                        reason: r.status_text().to_string(),
                    })
                }
                Err(ureq::Error::Transport(t)) => {
                    return Err(transport(&current, &crate::error_chain(&t)))
                }
            };
            if !(300..400).contains(&resp.status()) || resp.status() == 304 {
                return Ok((resp, current));
            }
            let location = resp.header("Location").ok_or_else(|| {
                transport(&current, &format!("HTTP {} without a Location header", resp.status()))
            })?;
            let next = current.join(location).map_err(|e| FetchError::BadUrl {
                url: location.to_string(),
                reason: e.to_string(),
            })?;
            tracing::debug!("{current} redirects to {next}");
            current = self.check(next.as_str())?;
        }
        Err(FetchError::TooManyRedirects { url: url.to_string() })
    }

    /// Scheme and host checks before connecting, for a clear message; the resolver enforces
    /// the address rule again at connection time.
    fn check(&self, url: &str) -> Result<Url, FetchError> {
        if !super::is_fetchable(url) {
            return Err(FetchError::Scheme { url: url.to_string() });
        }
        let parsed = Url::parse(url)
            .map_err(|e| FetchError::BadUrl { url: url.to_string(), reason: e.to_string() })?;
        let host = parsed.host_str().unwrap_or_default().to_string();
        if !self.limits.allow_private {
            let port = parsed.port_or_known_default().unwrap_or(80);
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            // A name that does not resolve fails later, with the transport's own message.
            if let Ok(addrs) = (bare, port).to_socket_addrs() {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if let Err(PrivateAddress { addr, what }) = check_addrs(&addrs) {
                    return Err(FetchError::Private {
                        url: url.to_string(),
                        host,
                        addr: addr.to_string(),
                        what,
                    });
                }
            }
        }
        Ok(parsed)
    }
}

fn content_length(resp: &ureq::Response) -> Option<u64> {
    resp.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok())
}

/// Refuses a body whose announced size is over the limit before any of it is read.
fn check_length(url: &Url, size: Option<u64>, limit: u64) -> Result<(), FetchError> {
    match size {
        Some(n) if n > limit => Err(too_large(url, limit, &format!("it is {n} bytes"))),
        _ => Ok(()),
    }
}

/// The first byte of a 206's `Content-Range: bytes START-END/TOTAL`.
fn content_range_start(resp: &ureq::Response) -> Option<u64> {
    let v = resp.header("Content-Range")?.trim();
    let rest = v.strip_prefix("bytes")?.trim_start();
    rest.split('-').next()?.trim().parse().ok()
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn transport(url: &Url, message: &str) -> FetchError {
    FetchError::Transport { url: url.to_string(), message: message.to_string() }
}

fn too_large(url: &Url, limit: u64, what: &str) -> FetchError {
    FetchError::TooLarge { url: url.to_string(), limit, what: what.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(allow_private: bool) -> Client {
        Client::new(Limits {
            timeout: Duration::from_secs(2),
            max_feed_bytes: 1 << 20,
            max_download_bytes: 1 << 20,
            allow_private,
        })
    }

    #[test]
    fn private_hosts_and_other_schemes_are_refused_before_connecting() {
        let c = client(false);
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.mp3");
        for url in ["http://127.0.0.1:9/x.mp3", "http://localhost:9/x.mp3", "http://[::1]:9/x"] {
            let err = c.download(url, &dest, &mut |_, _| {}).unwrap_err();
            assert!(matches!(err, FetchError::Private { .. }), "{url}: {err}");
            assert!(err.to_string().contains("allow_private_hosts"), "{err}");
        }
        let err = c.get_feed("http://169.254.169.254/latest/meta-data", None, None).unwrap_err();
        assert!(err.to_string().contains("link-local"), "{err}");
        for url in ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x", "/etc/passwd"] {
            let err = c.get_feed(url, None, None).unwrap_err();
            assert!(matches!(err, FetchError::Scheme { .. }), "{url}: {err}");
        }
        assert!(!dest.exists() && std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn allowed_private_host_gets_the_transport_error_instead() {
        // Port 9 (discard) is closed on loopback: the refusal is the connection's, not ours.
        let err = client(true).get_feed("http://127.0.0.1:9/feed", None, None).unwrap_err();
        assert!(matches!(err, FetchError::Transport { .. }), "{err}");
    }
}
