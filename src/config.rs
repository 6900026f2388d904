//! The user's settings: one TOML file in the podbrief home (`$PODBRIEF_HOME/config.toml`, or
//! `$PODBRIEF_CONFIG`). Every field is optional, so an empty or missing file means the defaults;
//! unknown keys are refused, so a typo ("interset") is an error rather than a silently ignored
//! setting. Command-line flags override the file, and a few environment variables override it
//! too (secrets and test switches), so that a password need not be written into the file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::Home;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("invalid value {value:?} in the environment variable {name}: {reason}")]
    Env { name: &'static str, value: String, reason: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Topics that rank insights higher, e.g. `["open source", "AI policy"]`.
    pub interests: Vec<String>,
    /// Entries per brief (5 when unset).
    pub top: Option<usize>,
    pub models: ModelsConfig,
    pub network: NetworkConfig,
    pub smtp: SmtpConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Speech recognition model: registry name or folder.
    pub asr: Option<String>,
    /// Sentence-embedding model: registry name or folder.
    pub embed: Option<String>,
    /// Chat model: registry name or GGUF file.
    pub llm: Option<String>,
    /// Passages rewritten by the chat model per brief (0: no chat model).
    pub llm_passages: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Fetch from hosts on loopback, private, link-local or otherwise non-public addresses.
    /// Off by default: a feed is untrusted and could point podbrief at a router's admin page or
    /// a cloud metadata service. `PODBRIEF_ALLOW_PRIVATE_HOSTS=1` turns it on too.
    pub allow_private_hosts: bool,
    /// Seconds to wait for a connection, and for each read once connected.
    pub timeout_secs: u64,
    /// The largest feed document accepted, in MiB.
    pub max_feed_mib: u64,
    /// The largest audio or transcript file downloaded, in MiB.
    pub max_download_mib: u64,
    /// When a feed is added, how many of its latest episodes to fetch; older ones are recorded
    /// but skipped, so subscribing to a show with 500 episodes does not download 500 files.
    pub new_feed_episodes: usize,
    /// Downloads of an episode are retried on later updates until they failed this many times.
    pub max_attempts: u32,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            allow_private_hosts: false,
            timeout_secs: 30,
            max_feed_mib: 10,
            max_download_mib: 2048,
            new_feed_episodes: 3,
            max_attempts: 3,
        }
    }
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption at all: only for a mail server on this machine.
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Mail server host name (`PODBRIEF_SMTP_SERVER`).
    pub server: Option<String>,
    /// Port (`PODBRIEF_SMTP_PORT`); 587 for STARTTLS, 465 for TLS, 25 for none.
    pub port: Option<u16>,
    /// Login name (`PODBRIEF_SMTP_USERNAME`); no authentication when unset.
    pub username: Option<String>,
    /// Password (`PODBRIEF_SMTP_PASSWORD`, which is the better place for it).
    pub password: Option<String>,
    /// Sender address, e.g. `podbrief <me@example.com>` (`PODBRIEF_SMTP_FROM`).
    pub from: Option<String>,
    pub security: SmtpSecurity,
}

impl SmtpConfig {
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

/// The file the settings are read from: `$PODBRIEF_CONFIG`, else `config.toml` in the home.
pub fn path(home: &Home) -> PathBuf {
    std::env::var_os("PODBRIEF_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.root.join("config.toml"))
}

impl Config {
    /// The settings from [`path`] (defaults when the file does not exist), then the environment.
    pub fn load(home: &Home) -> Result<Config, ConfigError> {
        let mut config = Config::read(&path(home))?;
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// The file alone; a missing file is the defaults, an unreadable one an error.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text)
                .map_err(|message| ConfigError::Invalid { path: path.to_path_buf(), message }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read { path: path.to_path_buf(), source }),
        }
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().replace('\n', " "))
    }

    /// Environment overrides, read through `get` so tests need not touch the process's
    /// environment.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        if let Some(v) = get("PODBRIEF_ALLOW_PRIVATE_HOSTS") {
            self.network.allow_private_hosts = match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::Env {
                        name: "PODBRIEF_ALLOW_PRIVATE_HOSTS",
                        value: v,
                        reason: "expected 1 or 0".into(),
                    })
                }
            };
        }
        let smtp = &mut self.smtp;
        for (name, slot) in [
            ("PODBRIEF_SMTP_SERVER", &mut smtp.server),
            ("PODBRIEF_SMTP_USERNAME", &mut smtp.username),
            ("PODBRIEF_SMTP_PASSWORD", &mut smtp.password),
            ("PODBRIEF_SMTP_FROM", &mut smtp.from),
        ] {
            if let Some(v) = get(name) {
                *slot = Some(v);
            }
        }
        if let Some(v) = get("PODBRIEF_SMTP_PORT") {
            smtp.port = Some(v.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                name: "PODBRIEF_SMTP_PORT",
                value: v.clone(),
                reason: e.to_string(),
            })?);
        }
        if let Some(v) = get("PODBRIEF_SMTP_SECURITY") {
            smtp.security = match v.to_ascii_lowercase().as_str() {
                "starttls" => SmtpSecurity::Starttls,
                "tls" => SmtpSecurity::Tls,
                "none" => SmtpSecurity::None,
                _ => {
                    return Err(ConfigError::Env {
                        name: "PODBRIEF_SMTP_SECURITY",
                        value: v,
                        reason: "expected starttls, tls or none".into(),
                    })
                }
            };
        }
        Ok(())
    }

    /// The settings as TOML for `config show`, with the password replaced.
    pub fn to_toml_redacted(&self) -> String {
        let mut shown = self.clone();
        if shown.smtp.password.is_some() {
            shown.smtp.password = Some("(set, hidden)".into());
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot show: {e}\n"))
    }
}

/// A commented starting point for `config init`.
pub const TEMPLATE: &str = include_str!("config_template.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_defaults_and_template_parses() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let t = Config::parse(TEMPLATE).unwrap();
        assert_eq!(t.network, NetworkConfig::default());
        assert_eq!(t.smtp.security, SmtpSecurity::Starttls);
    }

    #[test]
    fn unknown_keys_and_bad_types_are_refused_with_their_name() {
        let e = Config::parse("interset = [\"x\"]").unwrap_err();
        assert!(e.contains("interset"), "{e}");
        let e = Config::parse("[network]\ntimeout_secs = \"soon\"").unwrap_err();
        assert!(e.contains("timeout_secs"), "{e}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c = Config::parse("[smtp]\nserver = \"a\"\nport = 25\nsecurity = \"tls\"").unwrap();
        assert_eq!(c.smtp.port_or_default(), 25);
        let env = |n: &str| match n {
            "PODBRIEF_SMTP_SERVER" => Some("b".to_string()),
            "PODBRIEF_SMTP_PASSWORD" => Some("secret".to_string()),
            "PODBRIEF_ALLOW_PRIVATE_HOSTS" => Some("1".to_string()),
            "PODBRIEF_SMTP_SECURITY" => Some("none".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.smtp.server.as_deref(), Some("b"));
        assert!(c.network.allow_private_hosts);
        assert_eq!(c.smtp.security, SmtpSecurity::None);
        assert!(!c.to_toml_redacted().contains("secret"));
        let bad = |n: &str| (n == "PODBRIEF_SMTP_PORT").then(|| "lots".to_string());
        assert!(c.apply_env(bad).unwrap_err().to_string().contains("PODBRIEF_SMTP_PORT"));
    }

    #[test]
    fn missing_file_is_defaults_but_a_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::read(&dir.path().join("none.toml")).unwrap(), Config::default());
        assert!(Config::read(dir.path()).is_err());
    }
}
