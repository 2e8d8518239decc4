//! The scan engine on arbitrary bytes, against an arbitrary older version.
#![no_main]

use std::sync::OnceLock;

use keyward::pipeline::{Content, Earlier, Pipeline};
use libfuzzer_sys::fuzz_target;

fn checker() -> &'static Pipeline {
    static C: OnceLock<Pipeline> = OnceLock::new();
    C.get_or_init(|| Pipeline::new(keyward::config::Config::builtin().unwrap(), Default::default()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (old, new) = data.split_at(split);
    let _ = checker().check_bytes(b"fuzz.txt", new, Earlier::Nothing);
    let _ = checker().check_bytes(b"fuzz.txt", new, Earlier::Secrets(vec![Content::Bytes(old.into())]));
});
