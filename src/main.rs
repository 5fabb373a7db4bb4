//! The `sockdiff` binary: parses the command line, runs the command, and
//! maps the result to exit 0 (done), 1 (a reproduced mismatch or a change),
//! 2 (the tool could not do its job). Errors are one line on stderr; a
//! reader that closes the output early ends the run quietly.

use clap::Parser;
use clap::error::ErrorKind;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match sockdiff::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::from(0);
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Bare `sockdiff` (or `sockdiff corpus`): the help, and exit 2.
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            // clap's message, as one line.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {first} (see --help)");
            return ExitCode::from(2);
        }
    };
    sockdiff::cli::init(&cli.global);
    let color_err = {
        use std::io::IsTerminal;
        cli.global.color.on(std::io::stderr().is_terminal())
    };
    match sockdiff::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(0);
            }
            let line = format!("{err:#}").replace('\n', " ");
            let prefix = if color_err { "\x1b[1;31merror:\x1b[0m" } else { "error:" };
            eprintln!("{prefix} {line}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
