//! A plain-text SMTP sink on 127.0.0.1 for testing the lettre mailer: it accepts any login and
//! any message, and keeps what it was sent. No TLS, so it never advertises STARTTLS; point
//! lettre at it with `SmtpTransport::builder_dangerous("127.0.0.1").port(sink.port())`.
//!
//! One thread accepts; each connection gets its own thread. Threads are detached: the sink lives
//! until the test process ends.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One accepted message. Addresses are bare (no angle brackets, no ESMTP parameters); `data` is
/// the message as received (CRLF line endings, dot-stuffing undone, without the final ".").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

pub struct SmtpSink {
    port: u16,
    messages: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let messages: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let store = messages.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(stream) = conn else { continue };
                let store = store.clone();
                thread::spawn(move || {
                    let _ = session(stream, &store);
                });
            }
        });
        SmtpSink { port, messages }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        self.messages.lock().unwrap().clone()
    }
}

/// `<a@b> SIZE=12` or `a@b` -> `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    match arg.strip_prefix('<') {
        Some(rest) => rest.split('>').next().unwrap_or("").to_string(),
        None => arg.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// A line without its CRLF; `None` when the client has gone.
fn read_line(r: &mut impl BufRead) -> Option<String> {
    let mut buf = Vec::new();
    if r.read_until(b'\n', &mut buf).ok()? == 0 {
        return None;
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn session(stream: TcpStream, store: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut r = BufReader::new(stream.try_clone()?);
    let mut w = stream;
    let mut say = |s: &str| w.write_all(format!("{s}\r\n").as_bytes());
    say("220 localhost ESMTP podbrief test sink")?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    while let Some(line) = read_line(&mut r) {
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let upper = line.to_ascii_uppercase();
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => say("250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN")?,
            "HELO" => say("250 localhost")?,
            "AUTH" => {
                let mut words = arg.split_whitespace();
                let mech = words.next().unwrap_or("").to_ascii_uppercase();
                let initial = words.next();
                match mech.as_str() {
                    "PLAIN" => {
                        if initial.is_none() {
                            say("334 ")?;
                            read_line(&mut r);
                        }
                        say("235 2.7.0 Authentication successful")?;
                    }
                    "LOGIN" => {
                        if initial.is_none() {
                            say("334 VXNlcm5hbWU6")?; // "Username:"
                            read_line(&mut r);
                        }
                        say("334 UGFzc3dvcmQ6")?; // "Password:"
                        read_line(&mut r);
                        say("235 2.7.0 Authentication successful")?;
                    }
                    _ => say("504 5.5.4 Unrecognized authentication type")?,
                }
            }
            "MAIL" if upper.starts_with("MAIL FROM:") => {
                from = Some(address(&line["MAIL FROM:".len()..]));
                to.clear();
                say("250 2.1.0 OK")?;
            }
            "RCPT" if upper.starts_with("RCPT TO:") => {
                if from.is_none() {
                    say("503 5.5.1 MAIL first")?;
                    continue;
                }
                to.push(address(&line["RCPT TO:".len()..]));
                say("250 2.1.5 OK")?;
            }
            "DATA" => {
                if from.is_none() || to.is_empty() {
                    say("503 5.5.1 MAIL and RCPT first")?;
                    continue;
                }
                say("354 End data with <CR><LF>.<CR><LF>")?;
                let mut data = String::new();
                loop {
                    let Some(l) = read_line(&mut r) else { return Ok(()) };
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                    data.push_str("\r\n");
                }
                let mail = Mail { from: from.take().unwrap(), to: std::mem::take(&mut to), data };
                store.lock().unwrap().push(mail);
                say("250 2.0.0 OK: queued")?;
            }
            "RSET" => {
                from = None;
                to.clear();
                say("250 2.0.0 OK")?;
            }
            "NOOP" => say("250 2.0.0 OK")?,
            "VRFY" => say("252 2.1.5 Cannot VRFY user")?,
            "QUIT" => {
                say("221 2.0.0 Bye")?;
                return Ok(());
            }
            _ => say("500 5.5.2 Command not recognized")?,
        }
    }
    Ok(())
}
