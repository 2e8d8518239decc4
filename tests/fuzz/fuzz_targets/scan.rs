//! The scan engine on arbitrary bytes, against an arbitrary older version.
#![no_main]

use std::sync::OnceLock;

use keyward::check::{Against, Checker};
use libfuzzer_sys::fuzz_target;

fn checker() -> &'static Checker {
    static C: OnceLock<Checker> = OnceLock::new();
    C.get_or_init(|| Checker::new(keyward::config::Config::builtin().unwrap(), Default::default()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (old, new) = data.split_at(split);
    let _ = checker().check(b"fuzz.txt", new, Against::Nothing);
    let _ = checker().check(b"fuzz.txt", new, Against::Secrets(old));
});
