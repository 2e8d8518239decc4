//! Keys in the shapes that hide them, each caught at commit and at push through
//! real git: encoded (base64, percent, numeric escapes, HTML references), inside
//! archives, in private-key layouts, and organization keys; and identifiers that
//! merely contain a Stripe prefix, which are not keys.

use std::io::Write;

use base64::Engine;

use crate::util::{key, Repo};

struct Shape {
    path: &'static str,
    content: Vec<u8>,
    /// What the report must say about it: its place and how it was hidden.
    expect: Vec<String>,
    secret: String,
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    for (name, data) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
    out.into_inner()
}

fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn shapes() -> Vec<Shape> {
    let mut out = Vec::new();
    let s = key("sk_live_", 99);
    out.push(Shape {
        path: "k8s/secret.yaml",
        content: format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  STRIPE_KEY: {}\n",
            b64(&s)
        )
        .into_bytes(),
        expect: vec![
            "k8s/secret.yaml:4:15".into(),
            "base64-encoded Stripe live secret key".into(),
        ],
        secret: s,
    });
    let s = key("rk_live_", 24);
    out.push(Shape {
        path: "scripts/call.sh",
        content: format!(
            "curl -H 'Authorization: Basic {}' https://api.stripe.com/v1/charges\n",
            b64(&format!("{s}:"))
        )
        .into_bytes(),
        expect: vec![
            "scripts/call.sh:1:31".into(),
            "base64-encoded Stripe live restricted key".into(),
        ],
        secret: s,
    });
    let s = key("sk_live_", 40);
    let percent: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
    out.push(Shape {
        path: "logs/request.log",
        content: format!("GET /v1/x?key={percent} 200\n").into_bytes(),
        expect: vec!["logs/request.log:1:5".into(), "percent-encoded".into()],
        secret: s,
    });
    let s = key("sk_live_", 40);
    let escaped: String = s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    out.push(Shape {
        path: "web/config.json",
        content: format!("{{\n  \"stripe\": \"{escaped}\"\n}}\n").into_bytes(),
        expect: vec!["web/config.json:2:14".into(), "escaped".into()],
        secret: s,
    });
    let s = key("sk_live_", 40);
    let entities: String = s.chars().map(|c| format!("&#{};", c as u32)).collect();
    out.push(Shape {
        path: "web/page.html",
        content: format!("<div data-key=\"{entities}\"></div>\n").into_bytes(),
        expect: vec!["web/page.html:1:16".into(), "HTML-entity-encoded".into()],
        secret: s,
    });
    let s = key("sk_live_", 60);
    out.push(Shape {
        path: "src/pay.js",
        content: format!("const k = \"{}\" +\n  \"{}\";\n", &s[..8], &s[8..]).into_bytes(),
        expect: vec![
            "src/pay.js:1:11".into(),
            "joined from string literals".into(),
        ],
        secret: s,
    });
    let s = key("rk_live_", 40);
    out.push(Shape {
        path: "src/pay.php",
        content: format!(
            "<?php\n$k = '{}' . '{}' . '{}';\n",
            &s[..8],
            &s[8..20],
            &s[20..]
        )
        .into_bytes(),
        expect: vec!["src/pay.php:2:6".into()],
        secret: s,
    });
    let s = key("sk_org_live_", 99);
    out.push(Shape {
        path: "org/.env",
        content: format!("STRIPE_ORG_KEY={s}\n").into_bytes(),
        expect: vec!["org/.env:1:16".into(), "Stripe organization API key".into()],
        secret: s,
    });
    let s = key("sk_live_", 99);
    let inner = format!("stripe.key={s}\n");
    out.push(Shape {
        path: "dist/app.jar",
        content: zip(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("config/app.properties", inner.as_bytes()),
        ]),
        expect: vec!["dist/app.jar!config/app.properties:1:12".into()],
        secret: s,
    });
    let s = key("rk_live_", 40);
    let inner = format!("export KEY={s}\n");
    out.push(Shape {
        path: "release/bundle.tgz",
        content: tar_gz(&[("bundle/env.sh", inner.as_bytes())]),
        expect: vec!["release/bundle.tgz!bundle/env.sh:1:12".into()],
        secret: s,
    });
    out
}

#[test]
fn hidden_keys_are_blocked_at_commit_and_at_push() {
    let repo = Repo::new();
    repo.install(&["--hook", "pre-push"]).ok();
    let remote = repo.scratch("remote.git");
    repo.git_in(&remote, &["init", "-q", "--bare"]).ok();
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()])
        .ok();
    repo.write("README.md", "x\n");
    repo.commit_unchecked("init");
    repo.git(&["push", "-q", "origin", "main"]).ok();
    let shapes = shapes();
    for s in &shapes {
        repo.write(s.path, &s.content);
    }
    repo.git(&["add", "-A"]).ok();
    let commit = repo.commit(&[]).code_is(1);
    for s in &shapes {
        for e in &s.expect {
            commit.contains_ref(e);
        }
        commit.no_leak_ref(&s.secret);
    }
    repo.commit_unchecked("everything, with --no-verify");
    let push = repo.git(&["push", "-q", "origin", "main"]).code_is(1);
    for s in &shapes {
        for e in &s.expect {
            push.contains_ref(e);
        }
        push.no_leak_ref(&s.secret);
    }
}

#[test]
fn identifiers_that_contain_a_prefix_are_not_keys() {
    let repo = Repo::new();
    let mut lines = String::new();
    for word in ["risk", "disk", "task", "ask", "bookmark", "network", "desk"] {
        for mode in ["live", "test"] {
            let id = key(&format!("{word}_{mode}_"), 24);
            lines.push_str(&format!("{id} = compute()\nself.{id}.flush()\n"));
        }
    }
    lines.push_str(&format!("cache_{}\n", key("sk_live_", 30)));
    repo.write("app/models.py", &lines);
    repo.git(&["add", "-A"]).ok();
    repo.commit(&[]).code_is(0);
}

/// A private key in the layouts people paste it in, generated by openssl at run
/// time (or, where openssl is missing, a block of the same shape, so the test
/// never passes without checking): each is blocked where its block begins.
#[test]
fn private_keys_in_every_layout_are_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let pem_path = dir.path().join("k.pem");
    let status = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&pem_path)
        .status();
    let pem = match status {
        Ok(status) => {
            assert!(status.success(), "openssl genpkey failed");
            std::fs::read_to_string(&pem_path).unwrap()
        }
        // An Ed25519 PKCS#8 key is one 64-character base64 line.
        Err(_) => format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            crate::util::base62(64)
        ),
    };
    let lines: Vec<&str> = pem.lines().collect();
    let body = lines[1];
    let yaml = format!(
        "tls:\n  key: |\n{}\n",
        lines
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let json = format!("{{\"private_key\": \"{}\\n\"}}\n", lines.join("\\n"));
    let js = format!(
        "const key =\n  \"{}\\n\" +\n  \"{}\\n\" +\n  \"{}\\n\";\n",
        lines[0], lines[1], lines[2]
    );
    let crlf = lines
        .iter()
        .map(|l| format!("{l}  \r\n"))
        .collect::<String>();
    let env = format!("SSH_KEY=\"{}\"\n", lines.join("\\n"));
    let repo = Repo::new();
    let cases = [
        ("deploy/values.yaml", yaml, "deploy/values.yaml:3:5"),
        ("gcp/sa.json", json, "gcp/sa.json:1:18"),
        ("src/key.js", js, "src/key.js:2:4"),
        ("keys/pasted.pem", crlf, "keys/pasted.pem:1:1"),
        ("ops/.env", env, "ops/.env:1:10"),
    ];
    for (path, content, _) in &cases {
        repo.write(path, content);
    }
    repo.git(&["add", "-A"]).ok();
    let run = repo.commit(&[]).code_is(1);
    for (_, _, place) in &cases {
        run.contains_ref(place);
    }
    run.no_leak_ref(body);
}
