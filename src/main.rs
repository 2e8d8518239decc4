use std::process::ExitCode;

use clap::Parser;
use keyward::{cli::Cli, Outcome};

fn main() -> ExitCode {
    keyward::interrupt::install();
    // A bug must still fail closed: exit 2 with one line, never a pass and never
    // Rust's default 101 with a backtrace hint. The panic message is keyward's own
    // text (secrets only ever print redacted), so it is safe to show.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("keyward: error: internal error ({info}); nothing was checked, so this is blocked; please report it");
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| keyward::run(&cli)) {
        Ok(Ok(Outcome::Clean)) => ExitCode::SUCCESS,
        Ok(Ok(Outcome::Blocked)) => ExitCode::from(1),
        Ok(Ok(Outcome::Unchecked)) => {
            // On a server the pusher can change no setting: the policy is the
            // administrators'.
            if matches!(cli.command, Some(keyward::cli::Command::PreReceive)) {
                eprintln!("keyward: error: some pushed content could not be checked (listed above), so the push is rejected; the server's policy decides what may pass unchecked: ask its administrators");
            } else {
                eprintln!("keyward: error: some content could not be checked (listed above), so this is blocked; raise limits.max_file_size, allowlist the path, or set limits.unscanned = \"warn\" in .keyward.toml to let it through");
            }
            ExitCode::from(2)
        }
        Ok(Err(err)) => {
            // Errors quote config files, baselines and paths: untrusted text.
            eprintln!(
                "keyward: error: {}",
                keyward::text::printable_text(&err.to_string())
            );
            if let Some(hint) = err.hint() {
                eprintln!("keyward: {hint}");
            }
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(2),
    }
}
