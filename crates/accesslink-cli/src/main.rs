//! # accesslink (the command line)
//!
//! Test connections, read and write tickets, check the ticket gate, stream imports to
//! files with progress and resume, provision accounts, and run the testkit's mock servers
//! standalone — for every target the `accesslink` facade enables, through its traits and
//! its TOML configuration, with no per-target code (the one exception is the table of
//! mock starters in `mock.rs`, since each mock has its own builder).
//!
//! ```sh
//! accesslink mock serve servicenow --port 8080 > snippet.txt &
//! accesslink --config accesslink.toml test-connection
//! ```
//!
//! Exit codes: 0 success, 1 a failure (a failed connection or operation, a gate denial),
//! 2 could not run (bad configuration or input, or the gate could not decide).

mod cli;
mod config_cmd;
mod import;
mod mock;
mod output;
mod provision;
mod session;
mod ticket;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::output::{CliError, Out};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let out = Out::new(cli.output);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return out.fail(&CliError::usage(format!("cannot start the runtime: {e}"))),
    };
    match runtime.block_on(run(cli, out)) {
        Ok(code) => code,
        Err(e) => out.fail(&e),
    }
}

/// Runs one command; `Ok` carries the exit code of a command that ran to a verdict.
async fn run(cli: Cli, out: Out) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Config(cmd) => config_cmd::run(cmd, &cli.config, out),
        Command::Mock(cmd) => mock::run(cmd, out).await,
        Command::TestConnection { instances } => {
            session::test_connection(&cli.config, &instances, out).await
        }
        Command::Ticket(cmd) => ticket::run(cmd, &cli.config, out).await,
        Command::Import(args) => import::run(args, &cli.config, out).await,
        Command::Provision(args) => provision::run(args, &cli.config, out).await,
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "accesslink", &mut script);
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Logs to stderr: warnings by default, more with each `-v`; `RUST_LOG` overrides.
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    // The gate's audit events (target `audit`) are for -v and up.
    let level = match verbose {
        0 => "warn,audit=off",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(verbose >= 2)
        .try_init();
}
