use std::process::ExitCode;

use clap::Parser;
use keyward::{cli::Cli, Outcome};

fn main() -> ExitCode {
    keyward::interrupt::install();
    let cli = Cli::parse();
    match keyward::run(&cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Blocked) => ExitCode::from(1),
        Err(err) => {
            eprintln!("keyward: error: {err}");
            if let Some(hint) = err.hint() {
                eprintln!("keyward: {hint}");
            }
            ExitCode::from(2)
        }
    }
}
