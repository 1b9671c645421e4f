//! `ebb completions SHELL` and `ebb man`: shell completions and a man page,
//! both generated from the command line's own definitions, so they never
//! fall behind it.

use clap::{Args, CommandFactory};

use super::Cli;
use crate::Error;
use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for a shell, e.g. `ebb completions bash > /etc/bash_completion.d/ebb`.
pub fn completions(args: CompletionsArgs) -> Result<Exit, Error> {
    clap_complete::generate(args.shell, &mut Cli::command(), "ebb", &mut std::io::stdout().lock());
    Ok(Exit::Done)
}

/// Prints the man page (roff), e.g. `ebb man > /usr/local/share/man/man1/ebb.1`.
pub fn man() -> Result<Exit, Error> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout().lock())?;
    Ok(Exit::Done)
}
