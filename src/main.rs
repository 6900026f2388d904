mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init(&args);
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // One clear line, the causes after a colon, as ripgrep does.
            eprintln!("error: {}", cli::chain(&e));
            ExitCode::FAILURE
        }
    }
}
