//! The `ebb` binary: parse arguments, run one command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // A command exits without tearing down its Kafka clients (cli/connect.rs),
    // so librdkafka's TLS threads may still be running at exit. OpenSSL would
    // free its state in an exit handler under them, and the process then
    // crashed (SIGSEGV) now and then after doing its work. Initialised first,
    // with OPENSSL_INIT_NO_ATEXIT, OpenSSL never registers that handler.
    openssl_sys::init();
    let cli = ebb::cli::Cli::parse();
    // The daemon says what it does (info); a command only what went wrong (warn).
    let default_level = if matches!(cli.command, ebb::cli::Command::Daemon(_)) { "info" } else { "warn" };
    let filter = EnvFilter::try_from_env("EBB_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colours only on a terminal: a log piped to a file or journald stays plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    match cli.log_format {
        ebb::cli::LogFormat::Json => logs.json().init(),
        ebb::cli::LogFormat::Text => logs.init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ebb::exit::Exit::Failed.into();
        }
    };
    match runtime.block_on(ebb::cli::run(cli)) {
        Ok(exit) => exit.into(),
        Err(e) => {
            let word = ebb::cli::paint(ebb::cli::colour_on(&std::io::stderr()), ebb::cli::Tone::Bad, "error:");
            eprintln!("{word} {e}");
            e.exit().into()
        }
    }
}
