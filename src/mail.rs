//! Sending a brief by email over SMTP (lettre). STARTTLS is the default and must succeed: a
//! server that does not offer it is an error, not a silent fall back to plain text, since the
//! login would travel in the clear.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use crate::config::{SmtpConfig, SmtpSecurity};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "no mail server configured: set [smtp] server in the config file (podbrief config path) \
         or PODBRIEF_SMTP_SERVER"
    )]
    NoServer,
    #[error("invalid {which} address {address:?}: {reason}")]
    Address { which: &'static str, address: String, reason: String },
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("sending mail through {server}:{port} failed: {reason}")]
    Send { server: String, port: u16, reason: String },
}

/// One message: a subject and the brief as HTML with a plain-text alternative (Markdown reads
/// fine as text), so clients that show no HTML still show the brief.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub html: &'a str,
    pub text: &'a str,
}

/// Sends `mail` through the configured server; the sender is `smtp.from`, else the login, else
/// the recipient (a brief mailed to oneself).
pub fn send(smtp: &SmtpConfig, mail: &Mail) -> Result<(), MailError> {
    let server =
        smtp.server.as_deref().filter(|s| !s.trim().is_empty()).ok_or(MailError::NoServer)?;
    let port = smtp.port_or_default();
    let to = mailbox("recipient", mail.to)?;
    let from = match smtp.from.as_deref().or(smtp.username.as_deref().filter(|u| u.contains('@'))) {
        Some(f) => mailbox("sender", f)?,
        None => to.clone(),
    };
    let body = MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, mail.text)?)
        .singlepart(part(ContentType::TEXT_HTML, mail.html)?);
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .multipart(body)
        .map_err(|e| MailError::Build(e.to_string()))?;

    let send_err = |e: &dyn std::fmt::Display| MailError::Send {
        server: server.to_string(),
        port,
        reason: e.to_string(),
    };
    let builder = match smtp.security {
        SmtpSecurity::Starttls => {
            SmtpTransport::starttls_relay(server).map_err(|e| send_err(&e))?
        }
        SmtpSecurity::Tls => SmtpTransport::relay(server).map_err(|e| send_err(&e))?,
        SmtpSecurity::None => SmtpTransport::builder_dangerous(server),
    };
    let mut builder = builder.port(port).timeout(Some(Duration::from_secs(60)));
    if let Some(user) = smtp.username.as_deref().filter(|u| !u.is_empty()) {
        let password = smtp.password.clone().unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.to_string(), password));
    }
    // lettre's top-level message is often just "Connection error"; the causes say which.
    builder.build().send(&message).map_err(|e| send_err(&crate::error_chain(&e)))?;
    Ok(())
}

/// Quoted-printable whatever the content: long transcript lines stay within SMTP's line limit,
/// and the body stays readable in a raw message (base64 would hide it).
fn part(kind: ContentType, text: &str) -> Result<SinglePart, MailError> {
    let body = Body::new_with_encoding(text.to_string(), ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| MailError::Build("the body cannot be quoted-printable encoded".into()))?;
    Ok(SinglePart::builder().header(kind).body(body))
}

fn mailbox(which: &'static str, address: &str) -> Result<Mailbox, MailError> {
    address.trim().parse().map_err(|e: lettre::address::AddressError| MailError::Address {
        which,
        address: address.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_server_and_bad_addresses_are_clear_errors() {
        let mail = Mail { to: "me@example.com", subject: "s", html: "<p>h</p>", text: "h" };
        let err = send(&SmtpConfig::default(), &mail).unwrap_err();
        assert!(err.to_string().contains("PODBRIEF_SMTP_SERVER"), "{err}");
        let smtp = SmtpConfig { server: Some("localhost".into()), ..SmtpConfig::default() };
        let bad = Mail { to: "not an address", ..mail };
        let err = send(&smtp, &bad).unwrap_err();
        assert!(err.to_string().contains("invalid recipient address"), "{err}");
    }
}
