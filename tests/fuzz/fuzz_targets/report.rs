//! Rendering findings from arbitrary paths and content in every format: no panic,
//! no raw control character in the human report, and never the secret.
#![no_main]

use std::sync::OnceLock;

use keyward::cli::Format;
use keyward::pipeline::{Earlier, Pipeline};
use keyward::report::{renderer, Color, Mode, Report};
use libfuzzer_sys::fuzz_target;

fn checker() -> &'static Pipeline {
    static C: OnceLock<Pipeline> = OnceLock::new();
    C.get_or_init(|| Pipeline::new(keyward::config::Config::builtin().unwrap(), Default::default()).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'|').unwrap_or(0);
    let (path, content) = data.split_at(split);
    let Ok(checked) = checker().check_bytes(path, content, Earlier::Nothing) else { return };
    let report = Report {
        mode: Mode::Staged { head_unborn: false, how: keyward::report::StagedBy::Index, framework: false, fixable: false },
        results: &checked,
        catalogue: checker().scanner().catalogue(),
        warnings: &[],
    };
    let outputs = [Format::Human, Format::Json, Format::Sarif].map(|f| renderer(f, Color::Never).render(&report));
    for out in &outputs {
        assert!(!out.bytes().any(|b| b == 0x1b || b == 0x07), "raw control character");
        for f in &checked.findings {
            let s = f.secret.expose();
            // A path may itself hold the secret's bytes: that is not a leak of ours.
            if s.len() >= 16 && !path.windows(s.len()).any(|w| w == s) {
                assert!(!out.as_bytes().windows(s.len()).any(|w| w == s), "secret in output");
            }
        }
    }
});
