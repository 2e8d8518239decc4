//! A committed .keyward.toml is untrusted: parsing any text must return a config
//! or an error, never panic, hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = keyward::config::Config::parse(std::path::Path::new("fuzz.toml"), text);
    }
});
