//! `podbrief config path|show|init`.

use std::process::ExitCode;

use anyhow::{bail, Context};
use podbrief::config::{self, Config};
use podbrief::store::{self, Home};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print where the config file is read from.
    Path,
    /// Print the settings in effect (file and environment; the password hidden).
    Show,
    /// Write a commented config file to start from (never overwrites one).
    Init,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let path = config::path(&home);
    match cmd {
        Command::Path => println!("{}", path.display()),
        Command::Show => print!("{}", Config::load(&home)?.to_toml_redacted()),
        Command::Init => {
            if path.exists() {
                bail!("{} already exists; edit it instead", path.display());
            }
            store::atomic_write(&path, config::TEMPLATE.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings every networked command starts from.
pub(super) fn load(home: &Home) -> anyhow::Result<Config> {
    Ok(Config::load(home)?)
}
