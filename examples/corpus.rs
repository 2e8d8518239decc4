//! Writes the labelled corpus to disk so other scanners can be scored on the
//! same files as keyward (`benches/corpus/score.py`):
//!
//! ```text
//! cargo run --release --example corpus -- --seed 1 --out /tmp/corpus
//! ```
//!
//! Each case gets a directory of its own, `DIR/<split>/<family>/<index>-<shape>/`,
//! holding the case's file at its own relative path, so file names and
//! directories are what a scanner would see in a repository. `DIR/labels.json`
//! lists every case and where its secrets are. The files hold generated keys:
//! write them under a temporary directory, never into a repository.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use corpus::{Case, Place, Split, Want};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("corpus: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let (seed, out) = parse_args()?;
    let splits = [Split::Tune, Split::HeldOut];
    // Only what this tool writes is replaced, so a stale case never survives a
    // smaller run and nothing else under DIR is touched.
    for split in splits {
        let dir = out.join(split.name());
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
        }
    }
    let mut labels = String::new();
    let _ = write!(labels, "{{\n  \"seed\": {seed},\n  \"cases\": [");
    let mut first = true;
    for split in splits {
        let mut index = std::collections::HashMap::<&str, usize>::new();
        for case in corpus::all(seed, split) {
            let n = index.entry(case.family).or_default();
            // Shapes may name a sub-shape (`dotenv/quoted`): one directory level.
            let case_dir = format!(
                "{}/{}/{n:03}-{}",
                split.name(),
                case.family,
                case.shape.replace(['/', '\\'], "-")
            );
            *n += 1;
            write_case(&out, &case_dir, &case)?;
            labels.push_str(if first { "\n" } else { ",\n" });
            first = false;
            labels.push_str(&label(&case_dir, &case));
        }
    }
    labels.push_str("\n  ]\n}\n");
    let path = out.join("labels.json");
    std::fs::write(&path, labels).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn parse_args() -> Result<(u64, PathBuf), String> {
    const USAGE: &str = "usage: corpus --seed N --out DIR";
    let mut seed = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(USAGE)?;
        match arg.as_str() {
            "--seed" => seed = Some(value.parse().map_err(|_| format!("bad seed {value:?}"))?),
            "--out" => out = Some(PathBuf::from(value)),
            _ => return Err(USAGE.to_string()),
        }
    }
    Ok((seed.ok_or(USAGE)?, out.ok_or(USAGE)?))
}

fn write_case(out: &Path, case_dir: &str, case: &Case) -> Result<(), String> {
    let file = out.join(case_dir).join(&case.path);
    let parent = file
        .parent()
        .expect("a case file lies inside its directory");
    std::fs::create_dir_all(parent)
        .and_then(|()| std::fs::write(&file, &case.content))
        .map_err(|e| format!("cannot write case {case_dir}: {e}"))
}

/// One entry of labels.json. Paths are the generator's own ASCII, but a key in a
/// file name must still come out as valid JSON, so strings are escaped anyway.
fn label(case_dir: &str, case: &Case) -> String {
    let expects: Vec<String> = case
        .expect
        .iter()
        .map(|e| {
            let line = match e.place {
                Place::Line(n) => n.to_string(),
                Place::File => "\"file\"".to_string(),
            };
            let want = match e.want {
                Want::Block => "block",
                Want::Report => "report",
            };
            format!("{{\"line\": {line}, \"want\": \"{want}\"}}")
        })
        .collect();
    format!(
        "    {{\"split\": \"{}\", \"family\": \"{}\", \"shape\": {}, \"dir\": {}, \"file\": {}, \"expects\": [{}]}}",
        case.split.name(),
        case.family,
        json_string(&case.shape),
        json_string(case_dir),
        json_string(&format!("{case_dir}/{}", case.path)),
        expects.join(", ")
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
