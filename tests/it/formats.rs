//! Report formats: JSON and SARIF documents, validated; the secret redacted in
//! every format, on stdout and in --report files.

use std::path::PathBuf;

use crate::util::{key, Repo, SRC_DIR};

pub(crate) fn sarif_schema() -> serde_json::Value {
    // Vendored (tests/data/NOTICE.md), so the default `cargo test` needs nothing
    // beside the repository.
    let path = PathBuf::from(SRC_DIR).join("tests/data/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("schema is JSON")
}

fn repo_with_findings() -> (Repo, Vec<String>) {
    let repo = Repo::without_hook();
    let keys = vec![key("sk_live_", 99), key("rk_live_", 24)];
    repo.write("src/pay.py", format!("k = '{}'\n", keys[0]));
    let mut bin = vec![0u8, 1, 2];
    bin.extend_from_slice(keys[1].as_bytes());
    repo.write("assets/blob.bin", bin);
    repo.write("dir with space/ünï.txt", format!("{}\n", key("whsec_", 32)));
    repo.git(&["add", "-A"]).ok();
    (repo, keys)
}

#[test]
fn json_report_is_a_stable_document() {
    let (repo, keys) = repo_with_findings();
    let run = repo.keyward(&["--format", "json"]).code_is(1);
    for k in &keys {
        assert!(!run.all().contains(&k[8..]), "secret in JSON output");
    }
    assert!(
        run.stderr().is_empty(),
        "JSON mode printed to stderr: {}",
        run.stderr()
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).expect("valid JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["mode"], "staged");
    assert_eq!(doc["blocked"], true);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    let pay = findings.iter().find(|f| f["path"] == "src/pay.py").unwrap();
    assert_eq!(pay["rule"], "stripe-live-secret-key");
    assert_eq!(
        (pay["line"].as_u64(), pay["column"].as_u64()),
        (Some(1), Some(6))
    );
    assert_eq!(
        pay["secret"],
        format!("sk_live_…{}", &keys[0][keys[0].len() - 4..])
    );
    assert_eq!(pay["fingerprint"].as_str().unwrap().len(), 64);
    let bin = findings
        .iter()
        .find(|f| f["path"] == "assets/blob.bin")
        .unwrap();
    assert_eq!(
        (bin["line"].is_null(), bin["byte_offset"].as_u64()),
        (true, Some(3))
    );
    // A clean run still prints a document.
    let clean = Repo::without_hook();
    let doc: serde_json::Value =
        serde_json::from_str(&clean.keyward(&["--format", "json"]).code_is(0).stdout()).unwrap();
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
}

#[test]
fn sarif_report_validates_against_the_official_schema() {
    let (repo, keys) = repo_with_findings();
    let run = repo.keyward(&["--format", "sarif"]).code_is(1);
    for k in &keys {
        assert!(!run.all().contains(&k[8..]), "secret in SARIF output");
    }
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).expect("valid JSON");
    let schema = sarif_schema();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"dir%20with%20space/%C3%BCn%C3%AF.txt"),
        "{uris:?}"
    );
    // Also for history, with commit properties, and for an empty run.
    repo.git(&["commit", "-q", "--no-verify", "-m", "x"]).ok();
    let history: serde_json::Value = serde_json::from_str(
        &repo
            .keyward(&["history", "--format", "sarif"])
            .code_is(1)
            .stdout(),
    )
    .unwrap();
    assert!(validator.is_valid(&history));
    assert!(history["runs"][0]["results"][0]["properties"]["commit"].is_string());
    let empty: serde_json::Value = serde_json::from_str(
        &Repo::without_hook()
            .keyward(&["--format", "sarif"])
            .code_is(0)
            .stdout(),
    )
    .unwrap();
    assert!(validator.is_valid(&empty));
}

#[test]
fn report_file_in_every_format_never_holds_the_secret() {
    let (repo, keys) = repo_with_findings();
    for format in ["human", "json", "sarif"] {
        let out = repo.scratch("reports").join(format!("report.{format}"));
        let run = repo
            .keyward(&["--format", format, "--report", out.to_str().unwrap()])
            .code_is(1);
        assert!(
            run.stdout().is_empty(),
            "{format}: printed to stdout with --report"
        );
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("src/pay.py"), "{format}: {text}");
        for k in &keys {
            assert!(!text.contains(&k[8..]), "{format} report holds a secret");
        }
        assert!(
            !text.contains('\x1b'),
            "{format} report file has colour codes"
        );
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let (repo, _) = repo_with_findings();
    repo.keyward(&[]).code_is(1).lacks("\x1b[");
    repo.keyward(&["--color", "always"])
        .code_is(1)
        .contains("\x1b[1;31m");
    repo.run_in(
        &repo.root,
        crate::util::KEYWARD,
        &["--color", "auto"],
        &[("NO_COLOR", "1")],
    )
    .code_is(1)
    .lacks("\x1b[");
}

#[test]
fn control_characters_in_paths_are_escaped() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("evil\x1b[2Jname\x07.txt", format!("{secret}\n"));
    repo.git(&["add", "-A"]).ok();
    for format in ["human", "json", "sarif"] {
        let run = repo
            .keyward(&["--format", format])
            .code_is(1)
            .no_leak(&secret);
        assert!(
            !run.out.stderr.contains(&0x1b) && !run.out.stdout.contains(&0x1b),
            "{format}: raw ESC printed"
        );
        assert!(
            !run.out.stderr.contains(&0x07) && !run.out.stdout.contains(&0x07),
            "{format}: raw BEL printed"
        );
    }
}
