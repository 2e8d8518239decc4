//! Credentials that carry no provider prefix: `.env` values, passwords in config
//! files, assignments in code, URLs with a password, credential files, and strong
//! values under weak names; plus decoy-only files of the shapes that must stay
//! quiet (placeholders, references, generated types, lock files, fixtures, docs).
//! Nothing here announces itself the way `ghp_` does, so this part of the corpus
//! measures whether a scanner weighs the name, the file and the value together.
//!
//! Every template is data: a file skeleton, the lines that hold a secret (markers
//! such as `{@v}` are filled with a value drawn at run time) and the decoy lines
//! that stand next to them. A template's cases come from their own random stream,
//! so adding a template leaves every other case as it was.
//!
//! Labels: `Block` where a secret-meaning name holds a random or password-shaped
//! value, in a credential file, or in a URL's password slot. `Report` where one
//! half is weak: a dictionary passphrase, a weak name over a strong value, a
//! positional argument, a password hash, a development `secret_key_base`.
//! Held-out templates use other file kinds, languages, names and value styles.

use super::{line_of, Case, Expect, Place, Rng, Split, Want, BASE64};
use Split::{HeldOut, Tune};

const ENV: &str = "generic-env";
const CFG: &str = "generic-config";
const CODE: &str = "generic-code";
const HEXT: &str = "hex-token";
const URL: &str = "url-creds";
const CRED: &str = "cred-files";
const WEAK: &str = "weak-name";
const DECOY: &str = "decoy";

/// The cases of every template in `split`, deterministic for `seed`.
pub fn cases(seed: u64, split: Split) -> Vec<Case> {
    // Held-out has fewer templates, so each draws more cases to keep the splits
    // of comparable size.
    let per_template = match split {
        Tune => 16,
        HeldOut => 18,
    };
    let mut out = Vec::new();
    for t in TEMPLATES.iter().filter(|t| t.split == split) {
        let mut rng = Rng::new(seed ^ fnv1a(t.family) ^ fnv1a(t.shape).rotate_left(17));
        for _ in 0..per_template {
            let draft = match t.make {
                Make::Snips(table) => from_snips(&mut rng, split, table),
                Make::Code => code_assign(&mut rng, split),
                Make::Minified => minified(&mut rng),
            };
            out.push(draft.into_case(t, split));
        }
    }
    out
}

struct Template {
    family: &'static str,
    shape: &'static str,
    split: Split,
    make: Make,
}

const fn t(family: &'static str, shape: &'static str, split: Split, make: Make) -> Template {
    Template {
        family,
        shape,
        split,
        make,
    }
}

enum Make {
    Snips(&'static [Snip]),
    /// Assignments rendered through the language table.
    Code,
    Minified,
}

/// One file kind within a template. Secret and decoy entries may span lines;
/// entries are shuffled between `head` and `tail`, so each is self-contained.
struct Snip {
    variant: &'static str,
    paths: &'static [&'static str],
    head: &'static [&'static str],
    /// Each holds one or more secret markers. A leading `?` marks a weak name:
    /// its secrets are `Report` whatever the value.
    secrets: &'static [&'static str],
    /// How many distinct secret entries a file gets (0 for decoy-only files).
    count: (usize, usize),
    decoys: &'static [&'static str],
    /// Decoys drawn from `ENV_PAIRS` and rendered with `{k}` and `{d}`.
    pairs: Option<&'static str>,
    tail: &'static [&'static str],
    /// Punctuation a password may hold here without breaking the syntax.
    punct: &'static str,
    /// Decoys may recur (a lock file's entries), filled afresh each time.
    repeat: bool,
}

const fn snip(variant: &'static str, paths: &'static [&'static str]) -> Snip {
    Snip {
        variant,
        paths,
        head: &[],
        secrets: &[],
        count: (1, 2),
        decoys: &[],
        pairs: None,
        tail: &[],
        punct: P_CODE,
        repeat: false,
    }
}

const P_CODE: &str = "!@%^&*-_+=.?~";
const P_SHELL: &str = "@%^-_+=.~";
const P_URL: &str = "-._~";
const P_XML: &str = "!@%^*-_+=.?~";

/// A case under construction: lines plus the secrets they hold, found again by
/// value once the text is final.
struct Draft {
    path: String,
    variant: &'static str,
    lines: Vec<String>,
    secrets: Vec<(String, Want)>,
}

impl Draft {
    fn into_case(self, t: &Template, split: Split) -> Case {
        let mut text = self.lines.join("\n");
        text.push('\n');
        let mut expect: Vec<Expect> = Vec::new();
        for (needle, want) in &self.secrets {
            // A value drawn twice in one file is a secret on every line it is on.
            let first = line_of(&text, needle);
            let more = text
                .match_indices(needle.as_str())
                .skip(1)
                .map(|(at, _)| 1 + text[..at].bytes().filter(|&b| b == b'\n').count());
            for line in std::iter::once(first).chain(more) {
                match expect.iter_mut().find(|e| e.place == Place::Line(line)) {
                    Some(e) if *want == Want::Block => e.want = Want::Block,
                    Some(_) => {}
                    None => expect.push(Expect {
                        place: Place::Line(line),
                        want: *want,
                    }),
                }
            }
        }
        expect.sort_by_key(|e| match e.place {
            Place::Line(n) => n,
            Place::File => 0,
        });
        Case {
            path: self.path,
            content: text.into_bytes(),
            family: t.family,
            shape: format!("{}/{}", t.shape, self.variant),
            split,
            expect,
        }
    }
}

// ---------------------------------------------------------------- engine

fn from_snips(rng: &mut Rng, split: Split, table: &[Snip]) -> Draft {
    let s = rng.pick(table);
    let path = rng_pick(rng, s.paths);
    let path = fill(rng, path);
    let mut d = Draft {
        path,
        variant: s.variant,
        lines: Vec::new(),
        secrets: Vec::new(),
    };
    let mut used: Vec<String> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    let (lo, hi) = s.count;
    let n = rng.range(lo, hi.min(s.secrets.len()).max(lo));
    for f in pick_n(rng, s.secrets, n) {
        let (strong, f) = match f.strip_prefix('?') {
            Some(rest) => (false, rest),
            None => (true, *f),
        };
        let named = name_markers(rng, split, f, &mut used);
        let plain = fill(rng, &named);
        body.push(fill_secrets(rng, split, &plain, s.punct, strong, &mut d));
    }
    let k = if n == 0 {
        rng.range(5, 9)
    } else {
        rng.range(2, 5)
    };
    let lines = if s.repeat {
        (0..k).map(|_| rng.pick(s.decoys)).collect()
    } else {
        pick_n(rng, s.decoys, k)
    };
    for line in lines {
        if !used.iter().any(|u| line.contains(u.as_str())) {
            body.push(fill(rng, line));
        }
    }
    if let Some(format) = s.pairs {
        let k = rng.range(3, 7);
        for (key, value) in pick_n(rng, ENV_PAIRS, k) {
            if !used.iter().any(|u| u == *key) {
                let value = fill(rng, value);
                body.push(format.replace("{k}", key).replace("{d}", &value));
            }
        }
    }
    shuffle(rng, &mut body);
    for h in s.head {
        d.lines.push(fill(rng, h));
    }
    d.lines.extend(body);
    for t in s.tail {
        d.lines.push(fill(rng, t));
    }
    d
}

/// `{NAME}`: a secret-meaning environment name of the split, distinct within a file.
fn name_markers(rng: &mut Rng, split: Split, f: &str, used: &mut Vec<String>) -> String {
    let mut out = f.to_string();
    while out.contains("{NAME}") {
        let pool = match split {
            Tune => ENV_NAMES_TUNE,
            HeldOut => ENV_NAMES_HELD,
        };
        let name = loop {
            let candidate = *rng.pick(pool);
            if !used.iter().any(|u| u == candidate) {
                break candidate;
            }
        };
        used.push(name.to_string());
        out = out.replacen("{NAME}", name, 1);
    }
    out
}

/// Replaces every `{@kind}` marker with a fresh secret and records it.
fn fill_secrets(
    rng: &mut Rng,
    split: Split,
    f: &str,
    punct: &str,
    strong: bool,
    d: &mut Draft,
) -> String {
    let mut out = String::new();
    let mut rest = f;
    while let Some(at) = rest.find("{@") {
        out.push_str(&rest[..at]);
        let end = at + rest[at..].find('}').expect("a secret marker is closed");
        let kind = &rest[at + 2..end];
        let (value, shape) = secret(rng, split, kind, punct);
        let want = if strong && shape.is_confident() {
            Want::Block
        } else {
            Want::Report
        };
        out.push_str(&value);
        d.secrets.push((value, want));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Random characters: a token or a generated password.
    Token,
    /// Chosen by a person: words, digits, punctuation.
    Password,
    /// Dictionary words joined; a strong name alone does not make it certain.
    Phrase,
    /// A password hash: worth reporting, not a usable credential by itself.
    Hash,
}

impl Shape {
    fn is_confident(self) -> bool {
        matches!(self, Shape::Token | Shape::Password)
    }
}

fn secret(rng: &mut Rng, split: Split, kind: &str, punct: &str) -> (String, Shape) {
    use Shape::*;
    match kind {
        "v" => {
            let (v, shape) = any_value(rng, split);
            (restrict(rng, &v, punct), shape)
        }
        // A URL's password slot or a credential file's password field says
        // what the value is, so even a passphrase there is certain.
        "urlpw" => {
            let (v, _) = any_value(rng, split);
            (restrict(rng, &v, P_URL), Password)
        }
        "cv" => {
            let (v, _) = any_value(rng, split);
            (restrict(rng, &v, punct), Password)
        }
        "tok" => {
            let v = token(rng, split);
            (restrict(rng, &v, punct), Token)
        }
        "pw" => {
            let v = password(rng, split);
            (restrict(rng, &v, punct), Password)
        }
        "hex32" => (rng.hex(32), Token),
        "hex40" => (rng.hex(40), Token),
        "hex64" => (rng.hex(64), Token),
        "hex128" => (rng.hex(128), Token),
        "uuid" => (uuid(rng), Token),
        "jwt" => (jwt(rng), Token),
        "aws" => (rng.string(AWS_SECRET, 40), Token),
        "akia" => {
            let body = rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
            (format!("AKIA{body}"), Token)
        }
        "s3id" => (
            rng.string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20),
            Token,
        ),
        "basic" => {
            let user = *rng.pick(USERS);
            let pw = password(rng, split);
            let pw = restrict(rng, &pw, P_SHELL);
            (b64(format!("{user}:{pw}").as_bytes(), BASE64, true), Token)
        }
        "b64pw" => {
            let pw = password(rng, split);
            (b64(pw.as_bytes(), BASE64, true), Token)
        }
        "django" => (rng.string(DJANGO, 50), Token),
        "wpsalt" => (rng.string(WP_SALT, 64), Token),
        "bcrypt" => {
            let body = rng.string(CRYPT64, 53);
            (format!("$2y$10${body}"), Hash)
        }
        "sha512crypt" => {
            let n = rng.range(8, 16);
            let salt = rng.string(CRYPT64, n);
            let body = rng.string(CRYPT64, 86);
            (format!("$6${salt}${body}"), Hash)
        }
        "apr1" => {
            let salt = rng.string(CRYPT64, 8);
            let body = rng.string(CRYPT64, 22);
            (format!("$apr1${salt}${body}"), Hash)
        }
        other => panic!("unknown secret marker {{@{other}}}"),
    }
}

/// The value styles of a split: held-out draws styles tuning never saw.
fn any_value(rng: &mut Rng, split: Split) -> (String, Shape) {
    match (split, rng.below(5)) {
        (Tune, 0..=1) | (HeldOut, 0..=1) => (token(rng, split), Shape::Token),
        (HeldOut, 4) => (phrase(rng), Shape::Phrase),
        _ => (password(rng, split), Shape::Password),
    }
}

fn token(rng: &mut Rng, split: Split) -> String {
    match (split, rng.below(3)) {
        (Tune, 0) => {
            let n = rng.range(20, 40);
            rng.base62(n)
        }
        (Tune, 1) => {
            let n = *rng.pick(&[32usize, 40]);
            rng.hex(n)
        }
        (Tune, _) => {
            let n = rng.range(18, 33);
            let bytes = random_bytes(rng, n);
            b64(&bytes, BASE64, true)
        }
        (HeldOut, 0 | 1) => {
            let n = rng.range(18, 36);
            let bytes = random_bytes(rng, n);
            b64(&bytes, BASE64URL, false)
        }
        (HeldOut, _) => {
            let n = rng.range(48, 64);
            rng.base62(n)
        }
    }
}

fn password(rng: &mut Rng, split: Split) -> String {
    match (split, rng.below(2)) {
        // `Summer2024!`
        (Tune, 0) => {
            let word = cap(rng_pick(rng, WORDS));
            let year = rng.range(2015, 2026);
            let p = pick_char(rng, "!@#%&*.?");
            format!("{word}{year}{p}")
        }
        // `h7$Kq2p!x`: a person's attempt at random, all four classes present.
        (Tune, _) => {
            let n = rng.range(9, 14);
            let mut s: Vec<char> = rng.string(PW_MIX, n).chars().collect();
            s[0] = rng
                .string(b"abcdefghijkmnpqrstuvwxyz", 1)
                .chars()
                .next()
                .unwrap();
            let slots = [
                1 + rng.below(n - 1),
                1 + rng.below(n - 1),
                1 + rng.below(n - 1),
            ];
            s[slots[0]] = pick_char(rng, "ABCDEFGHJKLMNPQRSTUVWXYZ");
            s[slots[1]] = pick_char(rng, "23456789");
            s[slots[2]] = pick_char(rng, "!@%^&*-_+=.?~");
            s.into_iter().collect()
        }
        // `BlueHorse47`, `coffee_Mug_813`
        (HeldOut, 0) => {
            let (a, b) = (rng.pick(WORDS), rng.pick(WORDS));
            let n = rng.range(10, 999);
            if rng.chance(1, 2) {
                format!("{}{}{n}", cap(a), cap(b))
            } else {
                format!("{a}_{}_{n}", cap(b))
            }
        }
        // `M4pl3-R1ver&9`: leet substitutions over a word or two.
        (HeldOut, _) => {
            let word = format!("{}{}", cap(rng_pick(rng, WORDS)), cap(rng_pick(rng, WORDS)));
            let leet: String = word
                .chars()
                .map(|c| match c {
                    'a' if rng.chance(2, 3) => '4',
                    'e' if rng.chance(2, 3) => '3',
                    'o' if rng.chance(2, 3) => '0',
                    'i' if rng.chance(2, 3) => '1',
                    's' if rng.chance(1, 2) => '5',
                    c => c,
                })
                .collect();
            let p = pick_char(rng, "!@%&*+=?");
            let digit = rng.below(10);
            format!("{leet}{p}{digit}")
        }
    }
}

fn phrase(rng: &mut Rng) -> String {
    let n = rng.range(3, 4);
    let sep = *rng.pick(&["-", "."]);
    let words: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
    words.join(sep)
}

/// Keeps letters, digits and the punctuation `allowed` in this syntax; anything
/// else becomes an allowed character, so the line still parses.
fn restrict(rng: &mut Rng, s: &str, allowed: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || allowed.contains(c) {
                c
            } else if allowed.is_empty() {
                pick_char(rng, "abcdefghijklmnopqrstuvwxyz0123456789")
            } else {
                pick_char(rng, allowed)
            }
        })
        .collect()
}

fn jwt(rng: &mut Rng) -> String {
    let alg = rng.pick(&["HS256", "RS256", "HS512"]);
    let header = format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}");
    let iat = 1_700_000_000 + rng.below(60_000_000);
    let exp = iat + rng.pick(&[3600usize, 86_400, 2_592_000]);
    let claims = match rng.below(3) {
        0 => format!(
            "{{\"sub\":\"{}\",\"name\":\"{}\",\"iat\":{iat},\"exp\":{exp}}}",
            rng.range(1000, 99999),
            cap(rng_pick(rng, WORDS))
        ),
        1 => format!(
            "{{\"iss\":\"https://auth.example.com/\",\"sub\":\"{}\",\"aud\":\"orders-api\",\"scope\":\"read write\",\"iat\":{iat},\"exp\":{exp}}}",
            uuid(rng)
        ),
        _ => format!(
            "{{\"user_id\":{},\"role\":\"admin\",\"iat\":{iat}}}",
            rng.range(1, 5000)
        ),
    };
    let sig_len = if alg.starts_with("RS") { 256 } else { 32 };
    let sig = random_bytes(rng, sig_len);
    format!(
        "{}.{}.{}",
        b64(header.as_bytes(), BASE64URL, false),
        b64(claims.as_bytes(), BASE64URL, false),
        b64(&sig, BASE64URL, false)
    )
}

// ---------------------------------------------------------------- plain markers

/// Fills the non-secret markers (`{user}`, `{hex40}`, ...). Names stay the same
/// within one entry (a package's name and version recur in its lines); random
/// blobs are fresh at every occurrence. Unknown `{...}` is left as written, so
/// templates may hold `{{ .Values.x }}` and f-strings.
fn fill(rng: &mut Rng, f: &str) -> String {
    let mut memo: Vec<(&str, String)> = Vec::new();
    let mut out = String::with_capacity(f.len() + 32);
    let mut rest = f;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let key = tail[1..].find('}').map(|end| &tail[1..1 + end]);
        match key.and_then(|k| plain(rng, k, &mut memo).map(|v| (k, v))) {
            Some((k, v)) => {
                out.push_str(&v);
                rest = &tail[k.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn plain<'a>(rng: &mut Rng, key: &'a str, memo: &mut Vec<(&'a str, String)>) -> Option<String> {
    if let Some((_, v)) = memo.iter().find(|(k, _)| *k == key) {
        return Some(v.clone());
    }
    let named = |rng: &mut Rng, pool: &[&str]| Some(rng.pick(pool).to_string());
    let v = match key {
        "user" => named(rng, USERS),
        "host" => named(rng, HOSTS),
        "dbhost" => named(rng, DB_HOSTS),
        "db" => named(rng, DBS),
        "pkg" => named(rng, NPM_PACKAGES),
        "crate" => named(rng, CRATES),
        "gomod" => named(rng, GO_MODULES),
        "ver" => Some(format!(
            "{}.{}.{}",
            rng.range(0, 9),
            rng.range(0, 30),
            rng.range(0, 20)
        )),
        "port" => Some(
            rng.pick(&["3000", "8000", "8080", "8443", "9000"])
                .to_string(),
        ),
        "year" => Some(rng.range(2019, 2025).to_string()),
        "acct" => Some((0..12).map(|_| pick_char(rng, "0123456789")).collect()),
        "n" => Some(rng.range(10, 99_999).to_string()),
        _ => None,
    };
    if let Some(v) = v {
        memo.push((key, v.clone()));
        return Some(v);
    }
    match key {
        "uuid" => Some(uuid(rng)),
        "sri" => {
            let bytes = random_bytes(rng, 64);
            Some(b64(&bytes, BASE64, true))
        }
        "b32_58" => Some(rng.string(b"qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58)),
        _ => {
            let (alphabet, len) = [
                ("hex", &b"0123456789abcdef"[..]),
                ("b62_", BASE62_),
                ("b64_", BASE64),
            ]
            .into_iter()
            .find_map(|(prefix, alphabet)| Some((alphabet, key.strip_prefix(prefix)?)))?;
            let len: usize = len.parse().ok()?;
            Some(rng.string(alphabet, len))
        }
    }
}

// ---------------------------------------------------------------- code in ten languages

#[derive(Clone, Copy)]
enum Casing {
    UpperSnake,
    Snake,
    Camel,
    Pascal,
}

fn cased(words: &[&str], casing: Casing) -> String {
    match casing {
        Casing::UpperSnake => words.join("_").to_uppercase(),
        Casing::Snake => words.join("_"),
        Casing::Camel => {
            let mut s = words[0].to_string();
            for w in &words[1..] {
                s.push_str(&cap(w));
            }
            s
        }
        Casing::Pascal => words.iter().map(|w| cap(w)).collect(),
    }
}

struct Lang {
    name: &'static str,
    paths: &'static [&'static str],
    casing: Casing,
    head: &'static [&'static str],
    tail: &'static [&'static str],
    /// `{n}` the name, `{v}` the string's contents.
    assign: &'static str,
    /// `{n}` the name, `{e}` the environment variable it reads.
    env: &'static str,
}

const LANGS_TUNE: &[Lang] = &[
    Lang {
        name: "python",
        paths: &[
            "src/settings.py",
            "app/config.py",
            "src/app/settings/production.py",
            "scripts/sync_orders.py",
            "services/billing/config.py",
        ],
        casing: Casing::UpperSnake,
        head: &["import os", ""],
        tail: &[],
        assign: "{n} = \"{v}\"",
        env: "{n} = os.environ[\"{e}\"]",
    },
    Lang {
        name: "javascript",
        paths: &[
            "src/config.js",
            "server/config/index.js",
            "lib/db.js",
            "scripts/seed.js",
        ],
        casing: Casing::Camel,
        head: &["'use strict';", ""],
        tail: &[],
        assign: "const {n} = \"{v}\";",
        env: "const {n} = process.env.{e};",
    },
    Lang {
        name: "typescript",
        paths: &["src/config.ts", "src/lib/api.ts", "apps/web/src/env.ts"],
        casing: Casing::Camel,
        head: &[],
        tail: &[],
        assign: "export const {n} = '{v}';",
        env: "export const {n} = process.env.{e} as string;",
    },
    Lang {
        name: "ruby",
        paths: &[
            "config/initializers/payments.rb",
            "lib/tasks/import.rake",
            "app/services/sync_client.rb",
        ],
        casing: Casing::UpperSnake,
        head: &["# frozen_string_literal: true", ""],
        tail: &[],
        assign: "{n} = \"{v}\"",
        env: "{n} = ENV.fetch(\"{e}\")",
    },
    Lang {
        name: "go",
        paths: &[
            "internal/config/config.go",
            "cmd/server/main.go",
            "pkg/db/conn.go",
        ],
        casing: Casing::Camel,
        head: &["package config", "", "import \"os\"", ""],
        tail: &[],
        assign: "var {n} = \"{v}\"",
        env: "var {n} = os.Getenv(\"{e}\")",
    },
    Lang {
        name: "java",
        paths: &[
            "src/main/java/com/example/config/AppConfig.java",
            "service/src/main/java/com/example/orders/Settings.java",
        ],
        casing: Casing::UpperSnake,
        head: &[
            "package com.example.config;",
            "",
            "public final class AppConfig {",
        ],
        tail: &["}"],
        assign: "    private static final String {n} = \"{v}\";",
        env: "    private static final String {n} = System.getenv(\"{e}\");",
    },
];

const LANGS_HELD: &[Lang] = &[
    Lang {
        name: "kotlin",
        paths: &[
            "app/src/main/java/com/example/app/Config.kt",
            "src/main/kotlin/com/example/Settings.kt",
        ],
        casing: Casing::UpperSnake,
        head: &["package com.example.app", "", "object Config {"],
        tail: &["}"],
        assign: "    const val {n} = \"{v}\"",
        env: "    val {n}: String = System.getenv(\"{e}\")",
    },
    Lang {
        name: "csharp",
        paths: &["src/Example.Api/Settings.cs", "Services/MailSettings.cs"],
        casing: Casing::Pascal,
        head: &[
            "using System;",
            "",
            "namespace Example.Api",
            "{",
            "    public static class Settings",
            "    {",
        ],
        tail: &["    }", "}"],
        assign: "        public const string {n} = \"{v}\";",
        env: "        public static readonly string {n} = Environment.GetEnvironmentVariable(\"{e}\");",
    },
    Lang {
        name: "php",
        paths: &["includes/config.php", "src/Service/Mailer.php", "app/lib/db.php"],
        casing: Casing::Snake,
        head: &["<?php", ""],
        tail: &[],
        assign: "${n} = '{v}';",
        env: "${n} = getenv('{e}');",
    },
    Lang {
        name: "rust",
        paths: &["src/config.rs", "crates/api/src/settings.rs"],
        casing: Casing::UpperSnake,
        head: &["use std::sync::LazyLock;", ""],
        tail: &[],
        assign: "pub const {n}: &str = \"{v}\";",
        env: "pub static {n}: LazyLock<String> = LazyLock::new(|| std::env::var(\"{e}\").unwrap_or_default());",
    },
    Lang {
        name: "swift",
        paths: &["Sources/App/Config.swift", "App/Networking/APIClient.swift"],
        casing: Casing::Camel,
        head: &["import Foundation", ""],
        tail: &[],
        assign: "let {n} = \"{v}\"",
        env: "let {n} = ProcessInfo.processInfo.environment[\"{e}\"] ?? \"\"",
    },
];

const CODE_NAMES_TUNE: &[&[&str]] = &[
    &["db", "password"],
    &["api", "key"],
    &["secret", "key"],
    &["auth", "token"],
    &["client", "secret"],
    &["access", "token"],
    &["jwt", "secret"],
    &["admin", "password"],
    &["smtp", "password"],
    &["api", "token"],
];

const CODE_NAMES_HELD: &[&[&str]] = &[
    &["signing", "secret"],
    &["webhook", "secret"],
    &["encryption", "key"],
    &["service", "password"],
    &["private", "token"],
    &["ldap", "bind", "password"],
    &["session", "secret"],
    &["api", "secret"],
    &["root", "passwd"],
    &["mail", "pwd"],
];

/// Non-secret assignments under tempting names.
const CODE_DECOYS: &[(&[&str], &str)] = &[
    (&["token", "header"], "X-Auth-Token"),
    (&["password", "field"], "password"),
    (&["api", "base", "url"], "https://api.example.com/v2"),
    (&["secret", "name"], "prod/db-credentials"),
    (&["auth", "scheme"], "Bearer"),
    (&["cache", "key", "prefix"], "orders-v3"),
    (&["session", "cookie", "name"], "sessionid"),
    (&["token", "endpoint"], "/oauth/token"),
    (&["build", "commit"], "{hex40}"),
    (&["tenant", "id"], "{uuid}"),
    (&["password", "hasher"], "argon2id"),
    (&["signing", "algorithm"], "HS256"),
    (&["private", "key", "path"], "/etc/app/keys/signing.pem"),
    (&["secret", "env", "var"], "APP_SECRET"),
    (&["api", "key", "param"], "api_key"),
    (
        &["reset", "password", "template"],
        "emails/reset_password.html",
    ),
    (&["user", "agent"], "example-sync/2.4"),
    (&["auth", "realm"], "internal"),
    (&["keyring", "service"], "example-cli"),
    (&["token", "type"], "refresh_token"),
];

const CODE_ENV_DECOYS: &[(&[&str], &str)] = &[
    (&["database", "url"], "DATABASE_URL"),
    (&["db", "password"], "DB_PASSWORD"),
    (&["api", "token"], "API_TOKEN"),
    (&["stripe", "secret"], "STRIPE_SECRET_KEY"),
    (&["smtp", "pass"], "SMTP_PASS"),
    (&["redis", "password"], "REDIS_PASSWORD"),
    (&["github", "token"], "GITHUB_TOKEN"),
];

fn code_assign(rng: &mut Rng, split: Split) -> Draft {
    let (langs, names) = match split {
        Tune => (LANGS_TUNE, CODE_NAMES_TUNE),
        HeldOut => (LANGS_HELD, CODE_NAMES_HELD),
    };
    let lang = rng.pick(langs);
    let mut d = Draft {
        path: rng_pick(rng, lang.paths).to_string(),
        variant: lang.name,
        lines: Vec::new(),
        secrets: Vec::new(),
    };
    let mut used: Vec<String> = Vec::new();
    let mut body = Vec::new();
    let n = rng.range(1, 2);
    for words in pick_n(rng, names, n) {
        let name = cased(words, lang.casing);
        let (value, shape) = any_value(rng, split);
        let value = restrict(rng, &value, P_CODE);
        body.push(lang.assign.replace("{n}", &name).replace("{v}", &value));
        let want = if shape.is_confident() {
            Want::Block
        } else {
            Want::Report
        };
        d.secrets.push((value, want));
        used.push(name);
    }
    let n = rng.range(2, 4);
    for (words, value) in pick_n(rng, CODE_DECOYS, n) {
        let name = cased(words, lang.casing);
        let value = fill(rng, value);
        body.push(lang.assign.replace("{n}", &name).replace("{v}", &value));
    }
    let n = rng.range(1, 2);
    for (words, var) in pick_n(rng, CODE_ENV_DECOYS, n) {
        let name = cased(words, lang.casing);
        if !used.contains(&name) {
            body.push(lang.env.replace("{n}", &name).replace("{e}", var));
        }
    }
    shuffle(rng, &mut body);
    d.lines.extend(lang.head.iter().map(|s| s.to_string()));
    d.lines.extend(body);
    d.lines.extend(lang.tail.iter().map(|s| s.to_string()));
    d
}

/// A bundler's output: long lines of short names, string tables and chunk hashes,
/// with `password` and `token` as plain identifiers and form field names.
fn minified(rng: &mut Rng) -> Draft {
    let paths = [
        "public/js/app.min.js",
        "vendor/assets/javascripts/widget.min.js",
        "static/dist/main.min.js",
    ];
    let path = rng.pick(&paths).to_string();
    let mut lines = vec![format!("/*! widget v{} | MIT */", fill(rng, "{ver}"))];
    for _ in 0..rng.range(2, 4) {
        let mut parts = Vec::new();
        for _ in 0..rng.range(6, 12) {
            let a = ident(rng);
            let b = ident(rng);
            let part = match rng.below(6) {
                0 => format!("var {a}=\"password\",{b}=\"token\""),
                1 => format!("function {a}({b}){{return {b}.token||{b}.apiKey||\"\"}}"),
                2 => format!(
                    "{a}.p+\"static/js/\"+({{0:\"{}\",1:\"{}\"}})[{b}]+\".chunk.js\"",
                    rng.hex(8),
                    rng.hex(8)
                ),
                3 => format!("{a}.setRequestHeader(\"Authorization\",\"Bearer \"+{b})"),
                4 => format!(
                    "{a}={{name:\"password\",type:\"password\",autocomplete:\"current-password\"}}"
                ),
                _ => format!("{a}[\"{}\"]={b}", rng.base62(6)),
            };
            parts.push(part);
        }
        lines.push(format!(
            "!function(e,t){{\"use strict\";{}}}(this);",
            parts.join(";")
        ));
    }
    lines.push(format!(
        "//# sourceMappingURL={}.map",
        path.rsplit('/').next().unwrap()
    ));
    Draft {
        path,
        variant: "bundle",
        lines,
        secrets: Vec::new(),
    }
}

fn ident(rng: &mut Rng) -> String {
    let n = rng.range(1, 2);
    rng.string(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", n)
}

// ---------------------------------------------------------------- small helpers

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `Rng::pick` for string tables: passed straight to a `&str` parameter,
/// `pick` would infer `T = str` and fail to compile.
fn rng_pick<'a>(rng: &mut Rng, items: &'a [&'a str]) -> &'a str {
    items[rng.below(items.len())]
}

/// `n` distinct items (fewer if there are fewer), in random order.
fn pick_n<'a, T>(rng: &mut Rng, items: &'a [T], n: usize) -> Vec<&'a T> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    shuffle(rng, &mut idx);
    idx.into_iter().take(n).map(|i| &items[i]).collect()
}

fn shuffle<T>(rng: &mut Rng, v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
}

fn pick_char(rng: &mut Rng, set: &str) -> char {
    let b = set.as_bytes();
    b[rng.below(b.len())] as char
}

fn cap(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

fn uuid(rng: &mut Rng) -> String {
    let h = rng.hex(32);
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        pick_char(rng, "89ab"),
        &h[17..20],
        &h[20..]
    )
}

fn b64(bytes: &[u8], alphabet: &[u8], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= n {
                out.push(alphabet[(v >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

const BASE62_: &[u8] = super::BASE62;
const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const AWS_SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";
const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DJANGO: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)";
const WP_SALT: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|";
const PW_MIX: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!@%^&*-_+=.?~";

const WORDS: &[&str] = &[
    "summer", "winter", "autumn", "spring", "dragon", "monkey", "sunshine", "falcon", "tiger",
    "coffee", "purple", "orange", "silver", "rocket", "shadow", "harbor", "maple", "river",
    "forest", "thunder", "castle", "pirate", "banana", "ocean", "violet", "copper", "marble",
    "pepper", "meadow", "canyon", "garden", "lantern", "hammer", "zebra", "panda", "cobalt",
    "ember", "frost", "willow", "cedar", "blue", "horse", "mug", "kitten", "bridge", "comet",
];

const USERS: &[&str] = &[
    "app",
    "deploy",
    "admin",
    "svc_orders",
    "ci-bot",
    "jenkins",
    "postgres",
    "root",
    "backup",
    "reporting",
    "etl",
    "webapp",
];

const DB_HOSTS: &[&str] = &[
    "db.internal",
    "db-primary.prod.example.net",
    "10.0.3.17",
    "mysql.example.com",
    "pg-1.eu-west-1.rds.example.com",
];

const HOSTS: &[&str] = &[
    "10.0.4.21",
    "files.internal",
    "nexus.example.com",
    "registry.example.com",
    "ftp.example.org",
    "git.example.com",
    "backup01.example.net",
];

const DBS: &[&str] = &[
    "orders",
    "app_production",
    "billing",
    "analytics",
    "inventory",
    "crm",
];

const NPM_PACKAGES: &[&str] = &[
    "lodash",
    "debug",
    "semver",
    "chalk",
    "ms",
    "uuid",
    "qs",
    "cookie",
    "jsonwebtoken",
    "bcryptjs",
    "dotenv",
    "tslib",
];

const CRATES: &[&str] = &[
    "serde",
    "memchr",
    "regex-syntax",
    "libc",
    "bitflags",
    "itoa",
    "ryu",
    "hmac",
    "sha2",
    "base64",
    "subtle",
    "zeroize",
];

const GO_MODULES: &[&str] = &[
    "github.com/golang-jwt/jwt/v5",
    "golang.org/x/crypto",
    "github.com/lib/pq",
    "github.com/spf13/viper",
    "github.com/google/uuid",
];

const ENV_NAMES_TUNE: &[&str] = &[
    "DB_PASSWORD",
    "DATABASE_PASSWORD",
    "API_KEY",
    "SECRET_KEY",
    "AUTH_TOKEN",
    "MYSQL_ROOT_PASSWORD",
    "REDIS_PASSWORD",
    "JWT_SECRET",
    "CLIENT_SECRET",
    "ACCESS_TOKEN",
    "APP_SECRET",
    "API_TOKEN",
    "ADMIN_PASSWORD",
];

const ENV_NAMES_HELD: &[&str] = &[
    "POSTGRES_PASSWORD",
    "RABBITMQ_DEFAULT_PASS",
    "LDAP_BIND_PASSWD",
    "SESSION_SECRET",
    "SIGNING_KEY",
    "WEBHOOK_SECRET",
    "PRIVATE_TOKEN",
    "MAIL_PASS",
    "ENCRYPTION_KEY",
    "API_SECRET",
    "SERVICE_PWD",
    "MONGO_INITDB_ROOT_PASSWORD",
    "KEYCLOAK_ADMIN_PASSWORD",
    "OAUTH_CLIENT_SECRET",
];

/// Settings that sit next to secrets in environment files; none is a secret,
/// several are named like one.
const ENV_PAIRS: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("NODE_ENV", "production"),
    ("LOG_LEVEL", "info"),
    ("PORT", "{port}"),
    ("DB_HOST", "{dbhost}"),
    ("DB_PORT", "5432"),
    ("DB_USER", "{user}"),
    ("DB_NAME", "{db}"),
    ("DB_PASSWORD_FILE", "/run/secrets/db_password"),
    ("PASSWORD_MIN_LENGTH", "12"),
    ("TOKEN_TTL_SECONDS", "3600"),
    ("SECRET_KEY_FILE", "/run/secrets/app_secret"),
    ("AUTH_URL", "https://auth.example.com/oauth/token"),
    ("API_KEY_HEADER", "X-Api-Key"),
    ("JWT_ALGORITHM", "RS256"),
    ("REDIS_URL", "redis://cache.internal:6379/0"),
    ("SENTRY_ENVIRONMENT", "production"),
    ("GIT_SHA", "{hex40}"),
    ("BUILD_ID", "{uuid}"),
    ("AWS_REGION", "eu-west-1"),
    (
        "PASSWORD_RESET_URL",
        "https://app.example.com/account/reset",
    ),
    ("SMTP_USER", "notifications@example.com"),
    ("SMTP_HOST", "smtp.example.com"),
    ("SMTP_PASSWORD", ""),
    ("SESSION_COOKIE_NAME", "sessionid"),
    ("TOKEN_ISSUER", "https://auth.example.com/"),
    ("FEATURE_FLAGS", "search,billing"),
    ("S3_BUCKET", "example-uploads-prod"),
    ("AUTH_PROVIDER", "oidc"),
    ("OAUTH_CALLBACK_PATH", "/auth/callback"),
    ("SECRET_ROTATION_DAYS", "90"),
    ("CACHE_KEY_PREFIX", "orders-v2"),
    ("RELEASE", "{hex7}"),
    ("STRIPE_WEBHOOK_SECRET", "${STRIPE_WEBHOOK_SECRET}"),
    ("ADMIN_EMAIL", "ops@example.com"),
];

// ---------------------------------------------------------------- the templates

const TEMPLATES: &[Template] = &[
    // generic-env
    t(ENV, "dotenv", Tune, Make::Snips(ENV_DOTENV)),
    t(ENV, "compose-list", Tune, Make::Snips(ENV_COMPOSE_LIST)),
    t(ENV, "github-actions", Tune, Make::Snips(ENV_GHA)),
    t(ENV, "shell-export", Tune, Make::Snips(ENV_EXPORT)),
    t(ENV, "compose-map", HeldOut, Make::Snips(ENV_COMPOSE_MAP)),
    t(ENV, "dockerfile", HeldOut, Make::Snips(ENV_DOCKERFILE)),
    t(ENV, "gitlab-ci", HeldOut, Make::Snips(ENV_GITLAB)),
    // generic-config
    t(CFG, "rails-database-yml", Tune, Make::Snips(CFG_RAILS_DB)),
    t(CFG, "app-yaml", Tune, Make::Snips(CFG_APP_YAML)),
    t(CFG, "ini", Tune, Make::Snips(CFG_INI)),
    t(CFG, "properties", Tune, Make::Snips(CFG_PROPERTIES)),
    t(CFG, "maven-settings", Tune, Make::Snips(CFG_MAVEN)),
    t(CFG, "nginx", Tune, Make::Snips(CFG_NGINX)),
    t(CFG, "json", Tune, Make::Snips(CFG_JSON)),
    t(CFG, "toml", HeldOut, Make::Snips(CFG_TOML)),
    t(CFG, "dotnet-xml", HeldOut, Make::Snips(CFG_DOTNET)),
    t(CFG, "terraform", HeldOut, Make::Snips(CFG_TERRAFORM)),
    t(CFG, "apache", HeldOut, Make::Snips(CFG_APACHE)),
    // generic-code
    t(CODE, "assign", Tune, Make::Code),
    t(CODE, "bracket", Tune, Make::Snips(CODE_BRACKET)),
    t(CODE, "fallback", Tune, Make::Snips(CODE_FALLBACK)),
    t(CODE, "kwarg", Tune, Make::Snips(CODE_KWARG)),
    t(CODE, "django", Tune, Make::Snips(CODE_DJANGO)),
    t(CODE, "jwt", Tune, Make::Snips(CODE_JWT)),
    t(CODE, "assign-more-langs", HeldOut, Make::Code),
    t(CODE, "gradle", HeldOut, Make::Snips(CODE_GRADLE)),
    t(CODE, "php-define", HeldOut, Make::Snips(CODE_PHP_DEFINE)),
    t(CODE, "go-multi", HeldOut, Make::Snips(CODE_GO_MULTI)),
    t(CODE, "nullish", HeldOut, Make::Snips(CODE_NULLISH)),
    t(CODE, "positional", HeldOut, Make::Snips(CODE_POSITIONAL)),
    t(CODE, "jwt-http", HeldOut, Make::Snips(CODE_JWT_HTTP)),
    // hex-token
    t(HEXT, "env-token-40", Tune, Make::Snips(HEX_ENV_40)),
    t(HEXT, "rails-secret-key-base", Tune, Make::Snips(HEX_RAILS)),
    t(HEXT, "api-key-32", HeldOut, Make::Snips(HEX_API_32)),
    t(HEXT, "hmac-64", HeldOut, Make::Snips(HEX_HMAC_64)),
    // url-creds
    t(URL, "db-url-env", Tune, Make::Snips(URL_DB_ENV)),
    t(URL, "http-url-config", Tune, Make::Snips(URL_HTTP_CONFIG)),
    t(
        URL,
        "git-credentials",
        Tune,
        Make::Snips(URL_GIT_CREDENTIALS),
    ),
    t(URL, "broker-urls-code", HeldOut, Make::Snips(URL_BROKERS)),
    t(
        URL,
        "package-and-transfer-urls",
        HeldOut,
        Make::Snips(URL_PACKAGES),
    ),
    // cred-files
    t(CRED, "netrc", Tune, Make::Snips(CRED_NETRC)),
    t(CRED, "pgpass", Tune, Make::Snips(CRED_PGPASS)),
    t(CRED, "docker-config", Tune, Make::Snips(CRED_DOCKER)),
    t(CRED, "npmrc", Tune, Make::Snips(CRED_NPMRC)),
    t(CRED, "pypirc", Tune, Make::Snips(CRED_PYPIRC)),
    t(CRED, "cli-curl-mysql", Tune, Make::Snips(CRED_CLI)),
    t(
        CRED,
        "htpasswd-bcrypt",
        Tune,
        Make::Snips(CRED_HTPASSWD_BCRYPT),
    ),
    t(CRED, "netrc-windows", HeldOut, Make::Snips(CRED_NETRC_WIN)),
    t(CRED, "s3cfg", HeldOut, Make::Snips(CRED_S3CFG)),
    t(CRED, "filezilla", HeldOut, Make::Snips(CRED_FILEZILLA)),
    t(
        CRED,
        "cli-wget-sshpass",
        HeldOut,
        Make::Snips(CRED_CLI_HELD),
    ),
    t(
        CRED,
        "htpasswd-crypt",
        HeldOut,
        Make::Snips(CRED_HTPASSWD_CRYPT),
    ),
    // weak-name
    t(WEAK, "aws-key-weak-name", Tune, Make::Snips(WEAK_AWS)),
    t(
        WEAK,
        "strong-value-weak-name",
        Tune,
        Make::Snips(WEAK_GENERIC),
    ),
    t(
        WEAK,
        "aws-credentials-file",
        HeldOut,
        Make::Snips(WEAK_AWS_FILE),
    ),
    t(
        WEAK,
        "aws-pair-positional",
        HeldOut,
        Make::Snips(WEAK_AWS_PAIR),
    ),
    // decoy
    t(DECOY, "placeholders", Tune, Make::Snips(DECOY_PLACEHOLDERS)),
    t(DECOY, "references", Tune, Make::Snips(DECOY_REFERENCES)),
    t(DECOY, "generated-types", Tune, Make::Snips(DECOY_TYPES)),
    t(DECOY, "i18n", Tune, Make::Snips(DECOY_I18N)),
    t(DECOY, "lockfiles", Tune, Make::Snips(DECOY_LOCKS)),
    t(DECOY, "fixtures", Tune, Make::Snips(DECOY_FIXTURES)),
    t(DECOY, "docs", Tune, Make::Snips(DECOY_DOCS)),
    t(DECOY, "encrypted", HeldOut, Make::Snips(DECOY_ENCRYPTED)),
    t(DECOY, "templated", HeldOut, Make::Snips(DECOY_TEMPLATED)),
    t(DECOY, "ids-and-digests", HeldOut, Make::Snips(DECOY_IDS)),
    t(DECOY, "constants", HeldOut, Make::Snips(DECOY_CONSTANTS)),
    t(DECOY, "minified", HeldOut, Make::Minified),
    t(
        DECOY,
        "fixtures-more-langs",
        HeldOut,
        Make::Snips(DECOY_FIXTURES_HELD),
    ),
    t(
        DECOY,
        "docs-more-formats",
        HeldOut,
        Make::Snips(DECOY_DOCS_HELD),
    ),
];

// ---------------------------------------------------------------- generic-env

const DOTENV_PATHS: &[&str] = &[
    ".env",
    ".env.production",
    ".env.local",
    "deploy/.env.prod",
    "services/api/.env",
];

const ENV_DOTENV: &[Snip] = &[
    Snip {
        secrets: &["{NAME}={@v}", "{NAME}={@v}", "{NAME}={@tok}"],
        pairs: Some("{k}={d}"),
        decoys: &["# shared by api and worker"],
        punct: P_SHELL,
        ..snip("unquoted", DOTENV_PATHS)
    },
    Snip {
        secrets: &["{NAME}=\"{@v}\"", "{NAME}='{@v}'", "{NAME}=\"{@tok}\""],
        pairs: Some("{k}=\"{d}\""),
        decoys: &["# rotate quarterly, see the runbook"],
        ..snip("quoted", DOTENV_PATHS)
    },
];

const COMPOSE_HEAD: &[&str] = &[
    "services:",
    "  api:",
    "    image: registry.example.com/shop/api:{ver}",
    "    ports:",
    "      - \"{port}:8080\"",
    "    environment:",
];
const COMPOSE_TAIL: &[&str] = &[
    "    depends_on:",
    "      - db",
    "  db:",
    "    image: postgres:16",
    "    volumes:",
    "      - pgdata:/var/lib/postgresql/data",
    "volumes:",
    "  pgdata: {}",
];

const ENV_COMPOSE_LIST: &[Snip] = &[Snip {
    head: COMPOSE_HEAD,
    secrets: &["      - {NAME}={@v}", "      - {NAME}={@tok}"],
    pairs: Some("      - {k}={d}"),
    tail: COMPOSE_TAIL,
    punct: P_SHELL,
    ..snip(
        "list",
        &[
            "docker-compose.yml",
            "compose.yaml",
            "deploy/docker-compose.prod.yml",
        ],
    )
}];

const ENV_COMPOSE_MAP: &[Snip] = &[Snip {
    head: COMPOSE_HEAD,
    secrets: &[
        "      {NAME}: {@v}",
        "      {NAME}: \"{@v}\"",
        "      {NAME}: {@tok}",
    ],
    pairs: Some("      {k}: \"{d}\""),
    tail: COMPOSE_TAIL,
    punct: P_SHELL,
    ..snip(
        "map",
        &["docker-compose.override.yml", "stack/compose.prod.yaml"],
    )
}];

const ENV_GHA: &[Snip] = &[Snip {
    head: &[
        "name: deploy",
        "on:",
        "  push:",
        "    branches: [main]",
        "",
        "env:",
    ],
    secrets: &["  {NAME}: {@v}", "  {NAME}: \"{@tok}\""],
    decoys: &[
        "  REGISTRY: ghcr.io",
        "  IMAGE_NAME: ${{ github.repository }}",
        "  DEPLOY_KEY: ${{ secrets.DEPLOY_KEY }}",
        "  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}",
        "  SLACK_WEBHOOK_URL: ${{ secrets.SLACK_WEBHOOK_URL }}",
        "  NODE_VERSION: \"20\"",
    ],
    pairs: Some("  {k}: \"{d}\""),
    tail: &[
        "",
        "jobs:",
        "  deploy:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        "      - uses: actions/checkout@{hex40} # v4",
        "      - run: ./scripts/deploy.sh",
    ],
    punct: P_SHELL,
    ..snip(
        "env-map",
        &[
            ".github/workflows/deploy.yml",
            ".github/workflows/release.yaml",
        ],
    )
}];

const ENV_EXPORT: &[Snip] = &[Snip {
    head: &["#!/usr/bin/env bash", "set -euo pipefail", ""],
    secrets: &[
        "export {NAME}={@v}",
        "export {NAME}=\"{@v}\"",
        "export {NAME}={@tok}",
    ],
    decoys: &[
        "export PATH=\"$HOME/.local/bin:$PATH\"",
        "export DB_PASSWORD_FILE=/run/secrets/db_password",
        "export API_TOKEN=\"${API_TOKEN:?API_TOKEN must be set}\"",
        "export SMTP_PASSWORD=\"$(cat /run/secrets/smtp_password)\"",
        "export GIT_COMMIT=\"$(git rev-parse HEAD)\"",
    ],
    pairs: Some("export {k}={d}"),
    tail: &["", "exec ./bin/server \"$@\""],
    punct: P_SHELL,
    ..snip(
        "export",
        &["scripts/deploy.sh", "bin/start-worker.sh", "ops/env.sh"],
    )
}];

const ENV_DOCKERFILE: &[Snip] = &[Snip {
    head: &[
        "FROM python:3.12-slim",
        "WORKDIR /app",
        "COPY requirements.txt .",
    ],
    secrets: &["ENV {NAME}={@v}", "ENV {NAME} {@v}", "ENV {NAME}={@tok}"],
    decoys: &[
        "RUN pip install --no-cache-dir -r requirements.txt",
        "ARG GIT_SHA",
        "ENV PYTHONUNBUFFERED=1",
        "EXPOSE 8000",
        "COPY . .",
        "ENV SECRET_KEY_FILE=/run/secrets/app_secret",
    ],
    pairs: Some("ENV {k}={d}"),
    tail: &["CMD [\"gunicorn\", \"app.wsgi\", \"-b\", \"0.0.0.0:8000\"]"],
    punct: P_SHELL,
    ..snip(
        "env",
        &[
            "Dockerfile",
            "docker/api.Dockerfile",
            "deploy/Dockerfile.prod",
        ],
    )
}];

const ENV_GITLAB: &[Snip] = &[Snip {
    head: &["stages:", "  - test", "  - deploy", "", "variables:"],
    secrets: &["  {NAME}: \"{@v}\"", "  {NAME}: {@v}", "  {NAME}: {@tok}"],
    decoys: &[
        "  DOCKER_DRIVER: overlay2",
        "  GIT_DEPTH: \"10\"",
        "  CI_REGISTRY_PASSWORD: $CI_JOB_TOKEN",
        "  DEPLOY_TOKEN: $DEPLOY_TOKEN_MASKED",
    ],
    pairs: Some("  {k}: \"{d}\""),
    tail: &[
        "",
        "deploy:",
        "  stage: deploy",
        "  image: alpine:3.20",
        "  script:",
        "    - ./deploy.sh",
    ],
    punct: P_SHELL,
    ..snip("variables", &[".gitlab-ci.yml", "ci/deploy.gitlab-ci.yml"])
}];

// ---------------------------------------------------------------- generic-config

const CFG_RAILS_DB: &[Snip] = &[Snip {
    head: &[
        "default: &default",
        "  adapter: postgresql",
        "  encoding: unicode",
        "  pool: <%= ENV.fetch(\"RAILS_MAX_THREADS\") { 5 } %>",
        "",
        "development:",
        "  <<: *default",
        "  database: app_development",
        "",
        "test:",
        "  <<: *default",
        "  database: app_test",
        "  password: <%= ENV[\"TEST_DB_PASSWORD\"] %>",
        "",
        "production:",
        "  <<: *default",
    ],
    secrets: &[
        "  password: {@v}",
        "  password: \"{@v}\"",
        "  password: '{@pw}'",
    ],
    count: (1, 1),
    decoys: &[
        "  database: {db}",
        "  username: {user}",
        "  host: {dbhost}",
        "  port: 5432",
        "  sslmode: verify-full",
        "  sslrootcert: /etc/ssl/certs/rds-ca.pem",
    ],
    punct: "!@%^-_+=.?~",
    ..snip("database-yml", &["config/database.yml"])
}];

const CFG_APP_YAML: &[Snip] = &[Snip {
    head: &["app:", "  name: orders", "  port: {port}"],
    secrets: &[
        "mail:\n  host: smtp.example.com\n  username: {user}\n  password: {@v}",
        "api:\n  base_url: https://api.example.com\n  api_key: {@tok}",
        "auth:\n  issuer: https://auth.example.com/\n  client_id: orders-web\n  client_secret: {@tok}",
        "storage:\n  bucket: example-uploads\n  secret_key: \"{@tok}\"",
    ],
    decoys: &[
        "logging:\n  level: info",
        "cache:\n  ttl: 300\n  key_prefix: orders",
        "features:\n  password_reset: true\n  token_refresh: true",
        "redis:\n  url: redis://cache.internal:6379/1",
        "security:\n  password_min_length: 12\n  token_ttl: 3600",
        "db:\n  host: {dbhost}\n  password_file: /run/secrets/db_password",
    ],
    punct: "!@%^-_+=.?~",
    ..snip(
        "nested",
        &[
            "config/application.yml",
            "config/settings.yaml",
            "deploy/values.prod.yaml",
            "config/production.yaml",
        ],
    )
}];

const CFG_INI: &[Snip] = &[Snip {
    secrets: &[
        "[database]\nhost = {dbhost}\nuser = {user}\npassword = {@v}",
        "[smtp]\nserver = smtp.example.com\nport = 587\npassword = {@v}",
        "[Credentials]\nUserName={user}\nPassword={@v}",
        "[api]\nendpoint = https://api.example.com/v1\napi_key = {@tok}",
    ],
    decoys: &[
        "[logging]\nlevel = INFO\nfile = /var/log/app/app.log",
        "[server]\nport = {port}\nworkers = 4",
        "[auth]\nprovider = ldap\npassword_policy = strict\ntoken_lifetime = 3600",
        "[paths]\nkey_file = /etc/app/keys/server.key\nsecrets_dir = /run/secrets",
    ],
    punct: "!@^&*-_+=.?~",
    ..snip(
        "sections",
        &[
            "config/app.ini",
            "settings.ini",
            "conf/service.cfg",
            "etc/worker.conf",
        ],
    )
}];

const CFG_PROPERTIES: &[Snip] = &[Snip {
    secrets: &[
        "spring.datasource.password={@v}",
        "spring.mail.password={@v}",
        "app.jwt.secret={@tok}",
        "spring.rabbitmq.password={@v}",
        "app.security.api-key={@tok}",
    ],
    decoys: &[
        "spring.datasource.url=jdbc:postgresql://{dbhost}:5432/{db}",
        "spring.datasource.username={user}",
        "server.port={port}",
        "spring.jpa.hibernate.ddl-auto=validate",
        "app.jwt.expiration-ms=86400000",
        "management.endpoints.web.exposure.include=health,info",
        "spring.data.redis.password=${REDIS_PASSWORD}",
        "app.security.password-strength=12",
        "logging.level.org.springframework.security=INFO",
        "spring.mail.username=notifications@example.com",
    ],
    ..snip(
        "spring",
        &[
            "src/main/resources/application.properties",
            "src/main/resources/application-prod.properties",
            "conf/app.properties",
        ],
    )
}];

const CFG_MAVEN: &[Snip] = &[Snip {
    head: &[
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<settings xmlns=\"http://maven.apache.org/SETTINGS/1.0.0\">",
        "  <servers>",
    ],
    secrets: &[
        "    <server>\n      <id>releases</id>\n      <username>{user}</username>\n      <password>{@v}</password>\n    </server>",
        "    <server>\n      <id>snapshots</id>\n      <username>{user}</username>\n      <password>{@tok}</password>\n    </server>",
    ],
    decoys: &[
        "    <server>\n      <id>github</id>\n      <username>${env.GITHUB_ACTOR}</username>\n      <password>${env.GITHUB_TOKEN}</password>\n    </server>",
        "    <server>\n      <id>central</id>\n      <configuration>\n        <httpHeaders>\n          <property>\n            <name>X-Auth-Token</name>\n            <value>${env.CENTRAL_TOKEN}</value>\n          </property>\n        </httpHeaders>\n      </configuration>\n    </server>",
    ],
    tail: &[
        "  </servers>",
        "  <mirrors>",
        "    <mirror>",
        "      <id>nexus</id>",
        "      <url>https://nexus.example.com/repository/maven-public/</url>",
        "      <mirrorOf>*</mirrorOf>",
        "    </mirror>",
        "  </mirrors>",
        "</settings>",
    ],
    punct: P_XML,
    ..snip("servers", &["settings.xml", ".mvn/settings.xml", "ci/maven-settings.xml"])
}];

const CFG_NGINX: &[Snip] = &[Snip {
    head: &[
        "server {",
        "    listen 443 ssl;",
        "    server_name api.example.com;",
        "    ssl_certificate /etc/ssl/certs/api.example.com.pem;",
        "    ssl_certificate_key /etc/ssl/private/api.example.com.key;",
        "",
    ],
    secrets: &[
        "    location /upstream/ {\n        proxy_pass https://partner.example.net/;\n        proxy_set_header Authorization \"Bearer {@tok}\";\n    }",
        "    location /reports/ {\n        proxy_pass http://reporting.internal:8080/;\n        proxy_set_header Authorization \"Basic {@basic}\";\n    }",
        "    location /hooks/ {\n        proxy_pass http://hooks.internal/;\n        proxy_set_header X-Api-Key {@tok};\n    }",
    ],
    decoys: &[
        "    location /admin/ {\n        auth_basic \"Restricted\";\n        auth_basic_user_file /etc/nginx/.htpasswd;\n    }",
        "    location /api/ {\n        proxy_pass http://app:8000/;\n        proxy_set_header Authorization $http_authorization;\n        proxy_set_header X-Real-IP $remote_addr;\n    }",
        "    location /static/ {\n        alias /srv/app/static/;\n        expires 30d;\n    }",
        "    location = /token {\n        proxy_pass http://auth.internal/oauth/token;\n    }",
    ],
    tail: &["}"],
    punct: "-_.~",
    ..snip(
        "proxy-auth",
        &[
            "deploy/nginx/default.conf",
            "nginx/conf.d/api.conf",
            "etc/nginx/sites-available/app",
        ],
    )
}];

const CFG_JSON: &[Snip] = &[Snip {
    head: &["{", "  \"name\": \"orders-api\","],
    secrets: &[
        "  \"apiKey\": \"{@tok}\",",
        "  \"database\": {\n    \"host\": \"{dbhost}\",\n    \"user\": \"{user}\",\n    \"password\": \"{@v}\"\n  },",
        "  \"clientSecret\": \"{@tok}\",",
        "  \"smtp\": { \"user\": \"{user}\", \"pass\": \"{@v}\" },",
    ],
    decoys: &[
        "  \"port\": {port},",
        "  \"passwordMinLength\": 12,",
        "  \"tokenHeader\": \"X-Auth-Token\",",
        "  \"authUrl\": \"https://auth.example.com/oauth/token\",",
        "  \"buildSha\": \"{hex40}\",",
        "  \"tenantId\": \"{uuid}\",",
        "  \"secretsPath\": \"/run/secrets\",",
    ],
    tail: &["  \"version\": \"{ver}\"", "}"],
    ..snip("keys", &["config/default.json", "config/production.json", "src/config.json"])
}];

const CFG_TOML: &[Snip] = &[Snip {
    secrets: &[
        "[database]\nhost = \"{dbhost}\"\nuser = \"{user}\"\npassword = \"{@v}\"",
        "[api]\nsecret_key = \"{@tok}\"",
        "[mailer]\nsmtp_pass = \"{@v}\"",
        "[oauth]\nclient_id = \"orders\"\nclient_secret = \"{@tok}\"",
    ],
    decoys: &[
        "[server]\nport = {port}\nworkers = 8",
        "[auth]\ntoken_ttl = \"1h\"\npassword_hash = \"argon2id\"",
        "[build]\ncommit = \"{hex40}\"",
        "[paths]\nkey_file = \"/etc/app/tls.key\"",
    ],
    ..snip(
        "tables",
        &["config/production.toml", "settings.toml", "deploy/app.toml"],
    )
}];

const CFG_DOTNET: &[Snip] = &[
    Snip {
        head: &[
            "{",
            "  \"Logging\": { \"LogLevel\": { \"Default\": \"Information\" } },",
            "  \"ConnectionStrings\": {",
        ],
        secrets: &[
            "    \"DefaultConnection\": \"Server={dbhost};Database={db};User Id={user};Password={@cv};TrustServerCertificate=True\",",
        ],
        count: (1, 1),
        decoys: &[
            "    \"Redis\": \"cache.internal:6379,abortConnect=false\",",
            "    \"ReadOnly\": \"Server={dbhost};Database={db};Integrated Security=True\",",
        ],
        tail: &[
            "    \"Audit\": \"Server={dbhost};Database=audit;Trusted_Connection=True\"",
            "  },",
            "  \"Jwt\": { \"Issuer\": \"https://auth.example.com/\", \"Audience\": \"orders\" },",
            "  \"AllowedHosts\": \"*\"",
            "}",
        ],
        punct: P_XML,
        ..snip("appsettings", &["appsettings.json", "src/Example.Api/appsettings.Production.json"])
    },
    Snip {
        head: &[
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
            "<configuration>",
            "  <connectionStrings>",
        ],
        secrets: &[
            "    <add name=\"Main\" connectionString=\"Data Source={dbhost};Initial Catalog={db};User ID={user};Password={@cv};\" providerName=\"System.Data.SqlClient\" />",
        ],
        count: (1, 1),
        decoys: &[
            "    <add name=\"Reports\" connectionString=\"Data Source={dbhost};Initial Catalog=reports;Integrated Security=SSPI;\" providerName=\"System.Data.SqlClient\" />",
        ],
        tail: &[
            "  </connectionStrings>",
            "  <appSettings>",
            "    <add key=\"PasswordResetUrl\" value=\"https://app.example.com/reset\" />",
            "    <add key=\"TokenHeader\" value=\"X-Auth-Token\" />",
            "  </appSettings>",
            "</configuration>",
        ],
        punct: P_XML,
        ..snip("web-config", &["Web.config", "src/Example.Web/Web.Release.config"])
    },
    Snip {
        head: &["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<Context>"],
        secrets: &[
            "    <Resource name=\"jdbc/app\" auth=\"Container\" type=\"javax.sql.DataSource\"\n              username=\"{user}\" password=\"{@v}\"\n              url=\"jdbc:mysql://{dbhost}:3306/{db}\" maxTotal=\"20\" />",
        ],
        count: (1, 1),
        decoys: &[
            "    <WatchedResource>WEB-INF/web.xml</WatchedResource>",
            "    <Environment name=\"tokenHeader\" value=\"X-Auth-Token\" type=\"java.lang.String\" />",
        ],
        tail: &["</Context>"],
        punct: P_XML,
        ..snip("tomcat-context", &["src/main/webapp/META-INF/context.xml", "conf/context.xml"])
    },
];

const CFG_TERRAFORM: &[Snip] = &[Snip {
    secrets: &[
        "variable \"db_password\" {\n  type      = string\n  sensitive = true\n  default   = \"{@v}\"\n}",
        "variable \"admin_password\" {\n  description = \"Initial admin password\"\n  default     = \"{@v}\"\n}",
        "variable \"api_token\" {\n  type    = string\n  default = \"{@tok}\"\n}",
    ],
    decoys: &[
        "variable \"region\" {\n  type    = string\n  default = \"eu-west-1\"\n}",
        "variable \"db_password_secret_arn\" {\n  type    = string\n  default = \"arn:aws:secretsmanager:eu-west-1:{acct}:secret:prod/db-{b62_6}\"\n}",
        "variable \"token_ttl\" {\n  type    = number\n  default = 3600\n}",
        "variable \"instance_type\" {\n  default = \"t3.medium\"\n}",
    ],
    ..snip("variable-default", &["variables.tf", "infra/variables.tf", "modules/db/variables.tf"])
}];

const CFG_APACHE: &[Snip] = &[Snip {
    head: &[
        "<VirtualHost *:443>",
        "    ServerName app.example.com",
        "    DocumentRoot /var/www/app/public",
    ],
    secrets: &[
        "    SetEnv DB_PASSWORD {@v}",
        "    RequestHeader set Authorization \"Bearer {@tok}\"",
        "    SetEnv APP_SECRET \"{@tok}\"",
    ],
    decoys: &[
        "    <Location /admin>\n        AuthType Basic\n        AuthName \"Admin\"\n        AuthUserFile /etc/apache2/.htpasswd\n        Require valid-user\n    </Location>",
        "    SSLCertificateKeyFile /etc/ssl/private/app.key",
        "    SetEnv APP_ENV production",
        "    RequestHeader set X-Forwarded-Proto \"https\"",
        "    Header always set X-Frame-Options DENY",
        "    PassEnv API_TOKEN",
    ],
    tail: &["</VirtualHost>"],
    punct: "-_.~",
    ..snip(
        "vhost",
        &[
            "deploy/apache/app.conf",
            "apache2/sites-available/000-default.conf",
        ],
    )
}];

// ---------------------------------------------------------------- generic-code

const CODE_BRACKET: &[Snip] = &[
    Snip {
        head: &[
            "from flask import Flask",
            "",
            "app = Flask(__name__)",
            "config = {}",
        ],
        secrets: &[
            "app.config[\"SECRET_KEY\"] = \"{@tok}\"",
            "app.config['MAIL_PASSWORD'] = '{@v}'",
            "config['api_key'] = '{@tok}'",
        ],
        decoys: &[
            "app.config[\"SESSION_COOKIE_NAME\"] = \"sid\"",
            "app.config['MAIL_USERNAME'] = 'notifications@example.com'",
            "app.config[\"SECURITY_PASSWORD_HASH\"] = \"argon2\"",
            "config['api_key_header'] = 'X-Api-Key'",
            "app.config[\"JWT_TOKEN_LOCATION\"] = [\"headers\"]",
        ],
        ..snip("python", &["app/__init__.py", "src/app/factory.py"])
    },
    Snip {
        head: &[
            "const config = {};",
            "const headers = {};",
            "const settings = {};",
        ],
        secrets: &[
            "config[\"apiKey\"] = \"{@tok}\";",
            "headers[\"X-Api-Key\"] = \"{@tok}\";",
            "settings['dbPassword'] = '{@v}';",
        ],
        decoys: &[
            "headers[\"Content-Type\"] = \"application/json\";",
            "config[\"tokenHeader\"] = \"Authorization\";",
            "settings['passwordField'] = 'password';",
            "config[\"authUrl\"] = \"https://auth.example.com/oauth/token\";",
        ],
        ..snip("javascript", &["src/client.js", "lib/http.js"])
    },
    Snip {
        secrets: &[
            "ENV[\"API_TOKEN\"] ||= \"{@tok}\"",
            "Rails.application.config.x.payments[:secret_key] = \"{@tok}\"",
        ],
        decoys: &[
            "Rails.application.config.x.payments[:endpoint] = \"https://payments.example.com\"",
            "ENV[\"TOKEN_TTL\"] ||= \"3600\"",
            "Rails.application.config.x.payments[:secret_key_name] = \"payments_secret\"",
        ],
        ..snip(
            "ruby",
            &[
                "config/initializers/secrets.rb",
                "config/initializers/payments.rb",
            ],
        )
    },
];

const CODE_FALLBACK: &[Snip] = &[
    Snip {
        secrets: &[
            "const token = process.env.API_TOKEN || \"{@tok}\";",
            "const dbPassword = process.env.DB_PASSWORD || '{@v}';",
            "const secret = process.env.NODE_ENV === \"production\" ? \"{@tok}\" : \"dev-secret\";",
        ],
        decoys: &[
            "const port = process.env.PORT || 3000;",
            "const logLevel = process.env.LOG_LEVEL || \"info\";",
            "const authHeader = process.env.AUTH_HEADER || \"Authorization\";",
            "const secretName = process.env.SECRET_NAME || \"prod/api\";",
        ],
        ..snip("js-or", &["src/config.js", "server/env.js"])
    },
    Snip {
        head: &["import os", ""],
        secrets: &[
            "DB_PASSWORD = os.getenv(\"DB_PASSWORD\", \"{@v}\")",
            "SECRET_KEY = os.environ.get(\"SECRET_KEY\", \"{@tok}\")",
            "API_KEY = os.environ.get('API_KEY') or '{@tok}'",
        ],
        decoys: &[
            "DEBUG = os.getenv(\"DEBUG\", \"false\") == \"true\"",
            "PASSWORD_RESET_TIMEOUT = int(os.getenv(\"PASSWORD_RESET_TIMEOUT\", \"3600\"))",
            "TOKEN_HEADER = os.getenv(\"TOKEN_HEADER\", \"X-Auth-Token\")",
            "DATABASE_URL = os.getenv(\"DATABASE_URL\", \"postgres://localhost:5432/app\")",
        ],
        ..snip(
            "python-getenv",
            &["app/settings.py", "src/worker/config.py"],
        )
    },
    Snip {
        head: &["REDIS = Redis.new("],
        secrets: &[
            "  password: ENV.fetch(\"REDIS_PASSWORD\", \"{@v}\"),",
            "  token: ENV[\"SLACK_TOKEN\"] || \"{@tok}\",",
        ],
        decoys: &[
            "  host: ENV.fetch(\"REDIS_HOST\", \"cache.internal\"),",
            "  port: 6379,",
            "  db: 2,",
        ],
        tail: &[")"],
        ..snip("ruby-fetch", &["config/initializers/redis.rb"])
    },
];

const CODE_KWARG: &[Snip] = &[
    Snip {
        head: &["import psycopg2", "import redis", ""],
        secrets: &[
            "conn = psycopg2.connect(host=\"{dbhost}\", dbname=\"{db}\", user=\"{user}\", password=\"{@v}\")",
            "client = Client(api_key=\"{@tok}\", timeout=30)",
            "r = redis.Redis(host=\"cache.internal\", port=6379, password=\"{@v}\")",
        ],
        decoys: &[
            "replica = psycopg2.connect(host=\"{dbhost}\", dbname=\"{db}\", user=\"{user}\", password=os.environ[\"PGPASSWORD\"])",
            "session = requests.Session()",
            "session.headers.update({\"Authorization\": f\"Bearer {token}\"})",
            "field = forms.CharField(label=\"password\", widget=forms.PasswordInput())",
            "hasher = PasswordHasher(time_cost=3)",
        ],
        ..snip("python", &["scripts/migrate.py", "src/db.py", "jobs/nightly.py"])
    },
    Snip {
        secrets: &[
            "const pool = new Pool({ host: \"{dbhost}\", user: \"{user}\", password: \"{@v}\", database: \"{db}\" });",
            "const client = createClient({ apiKey: \"{@tok}\", region: \"eu\" });",
        ],
        decoys: &[
            "const replica = new Pool({ host: \"{dbhost}\", user: \"{user}\", password: process.env.PGPASSWORD });",
            "const form = { username: \"\", password: \"\" };",
            "app.use(session({ secret: process.env.SESSION_SECRET, resave: false }));",
        ],
        ..snip("javascript", &["src/db.js", "server/clients.js"])
    },
];

const CODE_DJANGO: &[Snip] = &[Snip {
    head: &[
        "import os",
        "from pathlib import Path",
        "",
        "BASE_DIR = Path(__file__).resolve().parent.parent",
    ],
    secrets: &["SECRET_KEY = '{@django}'", "EMAIL_HOST_PASSWORD = '{@v}'"],
    decoys: &[
        "DEBUG = False",
        "ALLOWED_HOSTS = [\"app.example.com\"]",
        "AUTH_PASSWORD_VALIDATORS = [\n    {\"NAME\": \"django.contrib.auth.password_validation.UserAttributeSimilarityValidator\"},\n    {\"NAME\": \"django.contrib.auth.password_validation.MinimumLengthValidator\"},\n]",
        "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.Argon2PasswordHasher\"]",
        "DATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.postgresql\",\n        \"NAME\": \"{db}\",\n        \"USER\": \"{user}\",\n        \"PASSWORD\": os.environ[\"DB_PASSWORD\"],\n    }\n}",
        "CSRF_COOKIE_SECURE = True",
        "SESSION_COOKIE_AGE = 1209600",
        "EMAIL_HOST_USER = \"notifications@example.com\"",
    ],
    ..snip(
        "settings",
        &[
            "mysite/settings.py",
            "src/config/settings/production.py",
            "backend/settings.py",
        ],
    )
}];

const CODE_JWT: &[Snip] = &[
    Snip {
        secrets: &[
            "const token = \"{@jwt}\";",
            "axios.defaults.headers.common[\"Authorization\"] = \"Bearer {@jwt}\";",
            "?const cached = \"{@jwt}\";",
        ],
        decoys: &[
            "const TOKEN_KEY = \"auth_token\";",
            "localStorage.setItem(TOKEN_KEY, token);",
            "const jwtHeader = \"Authorization\";",
            "const [header, payload] = token.split(\".\");",
        ],
        ..snip("javascript", &["src/api/client.js", "src/services/auth.js"])
    },
    Snip {
        secrets: &[
            "ACCESS_TOKEN = \"{@jwt}\"",
            "headers = {\"Authorization\": \"Bearer {@jwt}\"}",
            "?sample = \"{@jwt}\"",
        ],
        decoys: &[
            "JWT_ALGORITHM = \"HS256\"",
            "TOKEN_PREFIX = \"Bearer\"",
            "claims = jwt.decode(token, key, algorithms=[JWT_ALGORITHM])",
        ],
        ..snip("python", &["scripts/call_api.py", "tools/replay.py"])
    },
];

const CODE_GRADLE: &[Snip] = &[
    Snip {
        head: &["plugins {", "    id 'java-library'", "    id 'maven-publish'", "}", ""],
        secrets: &[
            "publishing {\n    repositories {\n        maven {\n            url \"https://nexus.example.com/repository/releases/\"\n            credentials {\n                username \"{user}\"\n                password \"{@v}\"\n            }\n        }\n    }\n}",
            "android {\n    signingConfigs {\n        release {\n            storeFile file(\"release.keystore\")\n            storePassword \"{@v}\"\n            keyAlias \"release\"\n            keyPassword \"{@v}\"\n        }\n    }\n}",
        ],
        decoys: &[
            "repositories {\n    mavenCentral()\n}",
            "dependencies {\n    implementation 'org.postgresql:postgresql:42.7.3'\n    testImplementation 'org.junit.jupiter:junit-jupiter:5.10.2'\n}",
            "ext {\n    nexusUser = findProperty('nexusUser') ?: System.getenv('NEXUS_USER')\n    nexusPassword = findProperty('nexusPassword') ?: System.getenv('NEXUS_PASSWORD')\n}",
            "version = '{ver}'",
        ],
        ..snip("groovy", &["build.gradle", "app/build.gradle"])
    },
    Snip {
        secrets: &[
            "publishing {\n    repositories {\n        maven {\n            url = uri(\"https://nexus.example.com/repository/releases/\")\n            credentials {\n                username = \"{user}\"\n                password = \"{@v}\"\n            }\n        }\n    }\n}",
        ],
        decoys: &[
            "repositories {\n    mavenCentral()\n}",
            "val nexusPassword: String? by project",
            "version = \"{ver}\"",
        ],
        ..snip("kotlin-dsl", &["build.gradle.kts", "library/build.gradle.kts"])
    },
];

const CODE_PHP_DEFINE: &[Snip] = &[Snip {
    head: &[
        "<?php",
        "define( 'DB_NAME', '{db}' );",
        "define( 'DB_USER', '{user}' );",
        "define( 'DB_HOST', 'localhost' );",
    ],
    secrets: &[
        "define( 'DB_PASSWORD', '{@v}' );",
        "define('AUTH_KEY',         '{@wpsalt}');",
        "define('SECURE_AUTH_KEY',  '{@wpsalt}');",
        "define('LOGGED_IN_SALT',   '{@wpsalt}');",
        "define('NONCE_KEY',        '{@wpsalt}');",
    ],
    count: (1, 3),
    decoys: &[
        "define( 'DB_CHARSET', 'utf8mb4' );",
        "define( 'WP_DEBUG', false );",
        "$table_prefix = 'wp_';",
        "define( 'FORCE_SSL_ADMIN', true );",
        "define( 'WP_CACHE_KEY_SALT', 'example.com:' );",
    ],
    ..snip(
        "wp-config",
        &[
            "wp-config.php",
            "public/wp-config.php",
            "config/constants.php",
        ],
    )
}];

const CODE_GO_MULTI: &[Snip] = &[Snip {
    head: &["package store", "", "import (", "\t\"database/sql\"", "\t\"errors\"", ")"],
    secrets: &[
        "const dbPassword string = \"{@v}\"",
        "const (\n\tapiToken   = \"{@tok}\"\n\tapiBaseURL = \"https://api.example.com/v1\"\n)",
        "func open() (*sql.DB, error) {\n\tuser, pass := \"{user}\", \"{@v}\"\n\treturn sql.Open(\"postgres\", \"user=\"+user+\" password=\"+pass+\" host={dbhost}\")\n}",
        "var smtpUser, smtpPassword = \"{user}\", \"{@v}\"",
    ],
    decoys: &[
        "const tokenHeader = \"X-Auth-Token\"",
        "var ErrBadPassword = errors.New(\"password does not match\")",
        "const passwordMinLen = 12",
        "type Credentials struct {\n\tUser     string `json:\"user\"`\n\tPassword string `json:\"password\"`\n}",
        "const secretPath = \"secret/data/store\"",
    ],
    ..snip("typed-and-multi", &["internal/store/db.go", "cmd/migrate/main.go", "pkg/notify/smtp.go"])
}];

const CODE_NULLISH: &[Snip] = &[
    Snip {
        secrets: &[
            "const apiKey = process.env.API_KEY ?? \"{@tok}\";",
            "export const signingSecret = isProd ? \"{@tok}\" : \"local-dev\";",
        ],
        decoys: &[
            "const baseUrl = process.env.API_URL ?? \"https://api.example.com\";",
            "const tokenStorageKey = \"session-token\";",
        ],
        ..snip(
            "typescript",
            &["src/env.ts", "packages/sdk/src/defaults.ts"],
        )
    },
    Snip {
        head: &["using System;", ""],
        secrets: &[
            "var password = Environment.GetEnvironmentVariable(\"DB_PASSWORD\") ?? \"{@v}\";",
            "var apiSecret = config[\"Api:Secret\"] ?? \"{@tok}\";",
        ],
        decoys: &[
            "var host = Environment.GetEnvironmentVariable(\"DB_HOST\") ?? \"localhost\";",
            "const string PasswordResetPurpose = \"ResetPassword\";",
        ],
        ..snip("csharp", &["src/Example.Worker/Program.cs", "Startup.cs"])
    },
    Snip {
        secrets: &[
            "let apiSecret = ProcessInfo.processInfo.environment[\"API_SECRET\"] ?? \"{@tok}\"",
        ],
        decoys: &[
            "let keychainService = \"com.example.app.token\"",
            "let baseURL = URL(string: \"https://api.example.com\")!",
        ],
        ..snip("swift", &["Sources/App/Environment.swift"])
    },
    Snip {
        secrets: &["val dbPassword = System.getenv(\"DB_PASSWORD\") ?: \"{@v}\""],
        decoys: &[
            "val dbUser = System.getenv(\"DB_USER\") ?: \"{user}\"",
            "val passwordField = \"password\"",
        ],
        ..snip("kotlin", &["src/main/kotlin/com/example/Db.kt"])
    },
    Snip {
        head: &["<?php", ""],
        secrets: &["$password = getenv('MAIL_PASSWORD') ?: '{@v}';"],
        decoys: &[
            "$user = getenv('MAIL_USER') ?: 'notifications@example.com';",
            "$tokenHeader = 'X-Auth-Token';",
        ],
        ..snip("php", &["src/Mail/Transport.php"])
    },
];

const CODE_POSITIONAL: &[Snip] = &[
    Snip {
        secrets: &["?Connection conn = DriverManager.getConnection(url, \"{user}\", \"{@v}\");"],
        decoys: &[
            "String url = \"jdbc:postgresql://{dbhost}:5432/{db}\";",
            "Connection ro = DriverManager.getConnection(url, props);",
        ],
        ..snip("java", &["src/main/java/com/example/Db.java"])
    },
    Snip {
        secrets: &["?db = pymysql.connect(\"{dbhost}\", \"{user}\", \"{@v}\", \"{db}\")"],
        decoys: &[
            "cursor = db.cursor()",
            "cursor.execute(\"SELECT password_hash FROM users WHERE id = %s\", (uid,))",
        ],
        ..snip("python", &["scripts/export_users.py"])
    },
    Snip {
        head: &["<?php", ""],
        secrets: &[
            "?$pdo = new PDO($dsn, '{user}', '{@v}');",
            "?$link = mysqli_connect('{dbhost}', '{user}', '{@v}', '{db}');",
        ],
        decoys: &[
            "$dsn = 'mysql:host={dbhost};dbname={db}';",
            "$stmt = $pdo->prepare('SELECT * FROM tokens WHERE user_id = ?');",
        ],
        ..snip("php", &["lib/db.php", "admin/connect.php"])
    },
    Snip {
        secrets: &["?var cred = new NetworkCredential(\"{user}\", \"{@v}\");"],
        decoys: &[
            "var client = new SmtpClient(\"smtp.example.com\", 587) { EnableSsl = true };",
            "client.Credentials = cred;",
        ],
        ..snip("csharp", &["src/Example.Mail/Sender.cs"])
    },
    Snip {
        secrets: &["?auth := smtp.PlainAuth(\"\", \"{user}\", \"{@v}\", \"smtp.example.com\")"],
        decoys: &[
            "addr := \"smtp.example.com:587\"",
            "err := smtp.SendMail(addr, auth, from, to, msg)",
        ],
        ..snip("go", &["internal/mail/send.go"])
    },
];

const CODE_JWT_HTTP: &[Snip] = &[
    Snip {
        secrets: &[
            "GET https://api.example.com/v1/orders\nAuthorization: Bearer {@jwt}",
            "POST https://api.example.com/v1/refunds\nContent-Type: application/json\nAuthorization: Bearer {@jwt}\n\n{\"order\": 42}",
        ],
        decoys: &[
            "GET https://api.example.com/v1/health",
            "GET https://api.example.com/v1/me\nAuthorization: Bearer {{token}}",
        ],
        ..snip("http-file", &["requests/orders.http", "api.http"])
    },
    Snip {
        head: &["package com.example.app", "", "object Fixtures {"],
        secrets: &["    const val SESSION_TOKEN = \"{@jwt}\"", "?    const val CACHED = \"{@jwt}\""],
        decoys: &["    const val TOKEN_KEY = \"session_token\"", "    const val ISSUER = \"https://auth.example.com/\""],
        tail: &["}"],
        ..snip("kotlin", &["app/src/main/java/com/example/app/DebugSession.kt"])
    },
];

// ---------------------------------------------------------------- hex-token

const HEX_ENV_40: &[Snip] = &[
    Snip {
        secrets: &[
            "CIRCLE_TOKEN={@hex40}",
            "GH_TOKEN={@hex40}",
            "DRONE_TOKEN={@hex40}",
            "BOT_TOKEN={@hex40}",
            "INTERNAL_API_TOKEN={@hex40}",
            "TRAVIS_TOKEN={@hex40}",
        ],
        decoys: &[
            "GIT_COMMIT={hex40}",
            "SOURCE_VERSION={hex40}",
            "BASE_SHA={hex40}",
            "CACHE_KEY=deps-{hex40}",
            "TOKEN_URL=https://auth.example.com/token",
            "BUILD_NUMBER={n}",
        ],
        pairs: Some("{k}={d}"),
        ..snip("dotenv", &[".env.ci", ".env", "ci/.env"])
    },
    Snip {
        head: &["ci:"],
        secrets: &["  deploy_token: {@hex40}", "  status_token: \"{@hex40}\""],
        decoys: &[
            "  commit: {hex40}",
            "  base_ref: main",
            "  cache_key: deps-{hex40}",
        ],
        ..snip("yaml", &["ci/settings.yml", ".ci/config.yml"])
    },
];

const HEX_RAILS: &[Snip] = &[Snip {
    head: &[
        "# Be sure to restart your server when you modify this file.",
        "",
    ],
    secrets: &[
        "production:\n  secret_key_base: {@hex128}",
        "?development:\n  secret_key_base: {@hex128}",
        "?test:\n  secret_key_base: {@hex128}",
    ],
    count: (1, 3),
    decoys: &["staging:\n  secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>"],
    ..snip("secrets-yml", &["config/secrets.yml"])
}];

const HEX_API_32: &[Snip] = &[
    Snip {
        secrets: &[
            "const API_KEY = \"{@hex32}\";",
            "const weatherApiKey = '{@hex32}';",
        ],
        decoys: &[
            "const ETAG = \"{hex32}\";",
            "const API_VERSION = \"2023-10-01\";",
            "const API_KEY_PARAM = \"appid\";",
        ],
        ..snip("javascript", &["src/weather.js", "src/services/geo.js"])
    },
    Snip {
        secrets: &["api_key = \"{@hex32}\"", "MAPS_APIKEY = '{@hex32}'"],
        decoys: &["checksum_md5 = \"{hex32}\"", "api_key_name = \"X-Api-Key\""],
        ..snip("python", &["integrations/maps.py", "src/clients/mailer.py"])
    },
    Snip {
        head: &["{"],
        secrets: &["  \"apikey\": \"{@hex32}\","],
        decoys: &["  \"request_id\": \"{hex32}\",", "  \"api_version\": 3,"],
        tail: &["  \"endpoint\": \"https://api.example.com\"", "}"],
        ..snip("json", &["config/integrations.json"])
    },
];

const HEX_HMAC_64: &[Snip] = &[
    Snip {
        secrets: &[
            "webhook_signing_secret = \"{@hex64}\"",
            "cookie_secret = \"{@hex64}\"",
        ],
        decoys: &[
            "sha256 = \"{hex64}\"",
            "artifact = \"dist/app-{ver}.tar.gz\"",
        ],
        ..snip("toml", &["config/webhooks.toml", "release.toml"])
    },
    Snip {
        head: &["webhooks:"],
        secrets: &["  hmac_key: {@hex64}", "  signing_key: \"{@hex64}\""],
        decoys: &[
            "  image: registry.example.com/api@sha256:{hex64}",
            "  digest: sha256:{hex64}",
        ],
        ..snip("yaml", &["deploy/app.yaml", "k8s/config.yaml"])
    },
    Snip {
        secrets: &["COOKIE_SECRET={@hex64}", "HMAC_SECRET={@hex64}"],
        decoys: &["ASSET_DIGEST={hex64}"],
        pairs: Some("{k}={d}"),
        ..snip("dotenv", &[".env.production", "deploy/prod.env"])
    },
];

// ---------------------------------------------------------------- url-creds

const URL_DB_ENV: &[Snip] = &[Snip {
    secrets: &[
        "DATABASE_URL=postgres://{user}:{@urlpw}@{dbhost}:5432/{db}",
        "DATABASE_URL=postgresql://{user}:{@urlpw}@{dbhost}/{db}?sslmode=require",
        "MYSQL_URL=mysql://{user}:{@urlpw}@{dbhost}:3306/{db}",
        "SQLALCHEMY_DATABASE_URI=mysql+pymysql://{user}:{@urlpw}@{dbhost}/{db}",
    ],
    count: (1, 1),
    decoys: &[
        "REDIS_URL=redis://cache.internal:6379/0",
        "DATABASE_REPLICA_URL=postgres://readonly@{dbhost}:5432/{db}",
        "TEST_DATABASE_URL=postgres://localhost/{db}_test",
        "DATABASE_POOL=10",
        "SENTRY_DSN=https://{hex32}@o{n}.ingest.sentry.io/{n}",
    ],
    pairs: Some("{k}={d}"),
    ..snip("dotenv", &[".env", ".env.production", "deploy/.env"])
}];

const URL_HTTP_CONFIG: &[Snip] = &[
    Snip {
        secrets: &[
            "repository_url: https://{user}:{@urlpw}@nexus.example.com/repository/releases/",
            "webhook_url: https://hooks:{@urlpw}@alerts.example.com/notify",
        ],
        decoys: &[
            "docs_url: https://docs.example.com/guide",
            "homepage: https://{user}@git.example.com/team/app",
            "mirror: https://mirror.example.com/pypi/simple",
            "callback: https://app.example.com/oauth/callback?state=login",
        ],
        ..snip("yaml", &["config/release.yml", "deploy/settings.yaml"])
    },
    Snip {
        head: &["[network]"],
        secrets: &["proxy = http://{user}:{@urlpw}@proxy.internal:3128"],
        decoys: &["no_proxy = localhost,127.0.0.1,.internal", "timeout = 30"],
        ..snip("ini", &["config/network.ini", "etc/agent.conf"])
    },
    Snip {
        head: &["{"],
        secrets: &["  \"registry\": \"https://{user}:{@urlpw}@registry.example.com/v2/\","],
        decoys: &[
            "  \"mirror\": \"https://mirror.gcr.io\",",
            "  \"insecure\": false,",
        ],
        tail: &["  \"debug\": false", "}"],
        ..snip("json", &["config/registry.json"])
    },
];

const URL_GIT_CREDENTIALS: &[Snip] = &[Snip {
    secrets: &[
        "https://{user}:{@tok}@github.com",
        "https://oauth2:{@tok}@gitlab.example.com",
        "https://{user}:{@urlpw}@bitbucket.org",
        "https://x-token-auth:{@tok}@bitbucket.example.com",
    ],
    count: (1, 3),
    punct: P_URL,
    ..snip("store", &[".git-credentials", "ci/.git-credentials"])
}];

const URL_BROKERS: &[Snip] = &[
    Snip {
        secrets: &[
            "CELERY_BROKER_URL = \"amqp://{user}:{@urlpw}@rabbitmq.internal:5672//\"",
            "CACHES = {\"default\": {\"BACKEND\": \"django_redis.cache.RedisCache\", \"LOCATION\": \"redis://:{@urlpw}@cache.internal:6379/1\"}}",
        ],
        decoys: &[
            "BROKER_HEARTBEAT = 30",
            "CELERY_RESULT_BACKEND = \"redis://cache.internal:6379/2\"",
            "CELERY_TASK_SERIALIZER = \"json\"",
        ],
        ..snip("python", &["proj/celery_settings.py", "config/settings/broker.py"])
    },
    Snip {
        secrets: &[
            "mongoose.connect(\"mongodb+srv://{user}:{@urlpw}@cluster0.{b62_5}.mongodb.net/{db}?retryWrites=true&w=majority\");",
            "const redis = new Redis(\"rediss://default:{@urlpw}@cache.example.com:6380\");",
        ],
        decoys: &[
            "const mongoUri = process.env.MONGO_URI;",
            "mongoose.set(\"strictQuery\", true);",
        ],
        ..snip("javascript", &["server/db.js", "src/lib/mongo.js"])
    },
    Snip {
        secrets: &["\tconn, err := amqp.Dial(\"amqp://{user}:{@urlpw}@rabbitmq.internal:5672/\")"],
        decoys: &["\tfallback := os.Getenv(\"AMQP_URL\")", "\tch, err := conn.Channel()"],
        head: &["package queue", "", "func connect() error {"],
        tail: &["\treturn err", "}"],
        ..snip("go", &["internal/queue/conn.go"])
    },
];

const URL_PACKAGES: &[Snip] = &[
    Snip {
        secrets: &["git+https://{user}:{@tok}@git.example.com/platform/shared-lib.git@v{ver}#egg=shared-lib"],
        decoys: &[
            "requests==2.32.3",
            "django>=4.2,<5",
            "git+https://github.com/example/tools.git@{hex40}#egg=tools",
            "-e ./libs/common",
        ],
        ..snip("requirements", &["requirements.txt", "requirements/prod.txt"])
    },
    Snip {
        head: &["[global]"],
        secrets: &["index-url = https://{user}:{@urlpw}@pypi.example.com/simple"],
        decoys: &["timeout = 60", "extra-index-url = https://pypi.org/simple", "trusted-host = pypi.example.com"],
        ..snip("pip-conf", &["pip.conf", "deploy/pip.conf"])
    },
    Snip {
        head: &["#!/bin/sh", "set -e"],
        secrets: &[
            "curl -T dist/app.tar.gz ftp://{user}:{@urlpw}@ftp.example.org/releases/",
            "git clone https://oauth2:{@tok}@gitlab.example.com/platform/infra.git",
            "export GOPROXY=https://{user}:{@tok}@goproxy.example.com,direct",
        ],
        decoys: &[
            "git clone https://gitlab.example.com/platform/docs.git",
            "curl -fsSL https://ftp.example.org/releases/latest.txt",
            "export GOFLAGS=-mod=readonly",
        ],
        punct: P_URL,
        ..snip("shell", &["scripts/release.sh", "ci/bootstrap.sh"])
    },
];

// ---------------------------------------------------------------- cred-files

const CRED_NETRC: &[Snip] = &[Snip {
    secrets: &[
        "machine {host}\n  login {user}\n  password {@pw}",
        "machine api.heroku.com\n  login {user}@example.com\n  password {@uuid}",
        "machine {host} login {user} password {@tok}",
    ],
    count: (1, 3),
    decoys: &["# managed by ops; see docs/access.md"],
    punct: P_SHELL,
    ..snip("netrc", &[".netrc", "ci/netrc", "docker/.netrc"])
}];

const CRED_PGPASS: &[Snip] = &[Snip {
    head: &["# hostname:port:database:username:password"],
    secrets: &[
        "{dbhost}:5432:{db}:{user}:{@cv}",
        "*:*:*:{user}:{@cv}",
        "localhost:5432:*:postgres:{@cv}",
    ],
    count: (1, 3),
    decoys: &["# the replica takes the same login"],
    punct: "!@%^&*-_+=.?~",
    ..snip(
        "pgpass",
        &[".pgpass", "deploy/pgpass", "docker/postgres/.pgpass"],
    )
}];

const CRED_DOCKER: &[Snip] = &[Snip {
    head: &["{", "  \"auths\": {"],
    secrets: &[
        "    \"registry.example.com\": {\n      \"auth\": \"{@basic}\"\n    },",
        "    \"https://index.docker.io/v1/\": {\n      \"auth\": \"{@basic}\"\n    },",
    ],
    decoys: &["    \"quay.io\": {},"],
    tail: &[
        "    \"ghcr.io\": {}",
        "  },",
        "  \"credsStore\": \"desktop\"",
        "}",
    ],
    ..snip(
        "auths",
        &[
            ".docker/config.json",
            "ci/docker-config.json",
            "deploy/registry-auth.json",
        ],
    )
}];

const CRED_NPMRC: &[Snip] = &[Snip {
    secrets: &[
        "//registry.npmjs.org/:_authToken={@uuid}",
        "//npm.example.com/repository/npm-private/:_auth={@basic}",
        "//npm.example.com/:_password={@b64pw}",
        "_auth={@basic}",
    ],
    decoys: &[
        "registry=https://registry.npmjs.org/",
        "always-auth=true",
        "save-exact=true",
        "@example:registry=https://npm.pkg.github.com",
        "//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}",
        "engine-strict=true",
        "//npm.example.com/:username={user}",
    ],
    ..snip("npmrc", &[".npmrc", "frontend/.npmrc"])
}];

const CRED_PYPIRC: &[Snip] = &[Snip {
    head: &[
        "[distutils]",
        "index-servers =",
        "    internal",
        "    testpypi",
        "",
    ],
    secrets: &[
        "[internal]\nrepository = https://pypi.example.com/\nusername = {user}\npassword = {@cv}",
    ],
    count: (1, 1),
    decoys: &["[testpypi]\nrepository = https://test.pypi.org/legacy/\nusername = __token__"],
    punct: "!@^&*-_+=.?~",
    ..snip("pypirc", &[".pypirc"])
}];

const CRED_CLI: &[Snip] = &[Snip {
    head: &["#!/bin/sh", "set -e"],
    secrets: &[
        "curl -fsS -u {user}:{@pw} https://{host}/api/v1/export -o export.json",
        "curl -u \"{user}:{@pw}\" -X POST https://ci.example.com/job/deploy/build",
        "mysqldump -u {user} -p{@pw} {db} > /backup/{db}.sql",
        "mysql -h {dbhost} -u{user} -p'{@pw}' {db} < schema.sql",
    ],
    decoys: &[
        "curl -fsS -u \"$API_USER:$API_PASSWORD\" https://{host}/api/v1/health",
        "mysql -u {user} -p {db}",
        "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/v1/me",
        "pg_dump --no-password -h {dbhost} -U {user} {db} > /backup/{db}.sql",
        "echo \"done: $(date -u +%FT%TZ)\"",
    ],
    punct: P_SHELL,
    ..snip(
        "curl-mysql",
        &[
            "scripts/backup.sh",
            "scripts/smoke-test.sh",
            "deploy/restore.sh",
        ],
    )
}];

const CRED_HTPASSWD_BCRYPT: &[Snip] = &[Snip {
    secrets: &["{user}:{@bcrypt}", "admin:{@bcrypt}", "ops:{@bcrypt}"],
    count: (1, 3),
    ..snip(
        "bcrypt",
        &[
            ".htpasswd",
            "deploy/nginx/.htpasswd",
            "docker/registry/htpasswd",
        ],
    )
}];

const CRED_NETRC_WIN: &[Snip] = &[Snip {
    secrets: &[
        "machine {host} login {user} password {@cv}",
        "machine files.example.com login {user}\npassword {@cv}",
    ],
    punct: P_SHELL,
    ..snip("one-line", &["_netrc", "tools/_netrc"])
}];

const CRED_S3CFG: &[Snip] = &[Snip {
    head: &["[default]"],
    secrets: &["?access_key = {@s3id}", "secret_key = {@aws}"],
    count: (2, 2),
    decoys: &[
        "host_base = s3.example.com",
        "host_bucket = %(bucket)s.s3.example.com",
        "use_https = True",
        "signature_v2 = False",
        "gpg_passphrase = ",
        "check_ssl_certificate = True",
        "bucket_location = EU",
    ],
    ..snip("s3cmd", &[".s3cfg", "ops/s3cfg"])
}];

const CRED_FILEZILLA: &[Snip] = &[Snip {
    head: &[
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
        "<FileZilla3 version=\"3.66.4\" platform=\"windows\">",
        "    <Servers>",
    ],
    secrets: &[
        "        <Server>\n            <Host>{host}</Host>\n            <Port>21</Port>\n            <Protocol>0</Protocol>\n            <Type>0</Type>\n            <User>{user}</User>\n            <Pass encoding=\"base64\">{@b64pw}</Pass>\n            <Logontype>1</Logontype>\n            <Name>{host}</Name>\n        </Server>",
    ],
    count: (1, 1),
    decoys: &[
        "        <Server>\n            <Host>ftp.example.org</Host>\n            <Port>21</Port>\n            <Protocol>0</Protocol>\n            <User>anonymous</User>\n            <Logontype>0</Logontype>\n            <Name>public mirror</Name>\n        </Server>",
    ],
    tail: &["    </Servers>", "</FileZilla3>"],
    ..snip("sitemanager", &["sitemanager.xml", "tools/filezilla/sitemanager.xml"])
}];

const CRED_CLI_HELD: &[Snip] = &[Snip {
    head: &["#!/usr/bin/env bash", "set -euo pipefail"],
    secrets: &[
        "wget --user={user} --password={@pw} https://{host}/exports/latest.tar.gz",
        "sshpass -p '{@pw}' ssh {user}@{host} 'systemctl restart app'",
        "smbclient //fileserver/share -U {user}%{@pw} -c 'get report.xlsx'",
        "lftp -u {user},{@pw} sftp://{host}",
        "redis-cli -h cache.internal -a {@pw} FLUSHDB",
    ],
    decoys: &[
        "wget --ask-password --user={user} https://{host}/exports/latest.tar.gz",
        "sshpass -e ssh {user}@{host} uptime",
        "ssh -i ~/.ssh/deploy_key {user}@{host}",
        "read -rsp 'Password: ' PASSWORD",
    ],
    punct: "@^-_+=.~",
    ..snip(
        "wget-sshpass",
        &["scripts/sync.sh", "bin/deploy", "ops/mirror.sh"],
    )
}];

const CRED_HTPASSWD_CRYPT: &[Snip] = &[Snip {
    secrets: &[
        "{user}:{@sha512crypt}",
        "admin:{@apr1}",
        "ops:{@sha512crypt}",
    ],
    count: (1, 3),
    ..snip(
        "crypt",
        &[
            "conf/htpasswd",
            "deploy/apache/.htpasswd",
            "monitoring/.htpasswd",
        ],
    )
}];

// ---------------------------------------------------------------- weak-name

const WEAK_AWS: &[Snip] = &[
    Snip {
        secrets: &["aws_key = \"{@aws}\"", "S3_KEY = '{@aws}'"],
        count: (1, 1),
        decoys: &[
            "s3_key = \"uploads/{year}/report.pdf\"",
            "aws_region = \"eu-west-1\"",
            "bucket = \"example-uploads\"",
            "aws_key_env = \"AWS_ACCESS_KEY_ID\"",
        ],
        ..snip("python", &["scripts/upload.py", "etl/s3_sync.py"])
    },
    Snip {
        secrets: &["const awsKey = \"{@aws}\";"],
        decoys: &[
            "const s3Key = `avatars/${userId}.png`;",
            "const region = \"eu-west-1\";",
        ],
        ..snip("javascript", &["src/upload.js"])
    },
    Snip {
        secrets: &["AWS_KEY={@aws}", "S3_KEY={@aws}"],
        count: (1, 1),
        decoys: &["S3_KEY_PREFIX=uploads/", "AWS_DEFAULT_REGION=eu-west-1"],
        pairs: Some("{k}={d}"),
        ..snip("dotenv", &[".env", "deploy/.env.s3"])
    },
];

const WEAK_GENERIC: &[Snip] = &[Snip {
    secrets: &[
        "?HMAC = \"{@tok}\"",
        "?sig = \"{@tok}\"",
        "?LICENSE_CODE = \"{@tok}\"",
        "?upstream = \"{@tok}\"",
    ],
    decoys: &[
        "HMAC_ALGORITHM = \"sha256\"",
        "sig_header = \"X-Signature\"",
        "LICENSE_URL = \"https://example.com/license\"",
        "upstream_host = \"api.partner.example.net\"",
    ],
    ..snip("python", &["src/partner.py", "integrations/vendor.py"])
}];

const WEAK_AWS_FILE: &[Snip] = &[Snip {
    secrets: &[
        "[default]\naws_access_key_id = {@akia}\naws_secret_access_key = {@aws}",
        "[deploy]\naws_access_key_id = {@akia}\naws_secret_access_key = {@aws}\nregion = eu-west-1",
    ],
    decoys: &[
        "[profile-sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = {acct}\nsso_role_name = ReadOnly",
    ],
    ..snip("credentials", &[".aws/credentials", "deploy/aws/credentials", "ci/aws-credentials"])
}];

const WEAK_AWS_PAIR: &[Snip] = &[
    Snip {
        secrets: &["AWSCredentials creds = new BasicAWSCredentials(System.getenv(\"AWS_KEY_ID\"), \"{@aws}\");"],
        count: (1, 1),
        decoys: &["String bucket = \"example-backups\";", "String key = \"backups/latest.tar.gz\";"],
        ..snip("java", &["src/main/java/com/example/Backup.java"])
    },
    Snip {
        secrets: &["session = boto3.Session(os.environ[\"AWS_KEY_ID\"], \"{@aws}\")"],
        count: (1, 1),
        decoys: &["key = \"exports/{year}/orders.csv\"", "s3 = session.client(\"s3\")"],
        ..snip("python", &["tools/export.py"])
    },
    Snip {
        secrets: &["s3:\n  id: {@akia}\n  key: {@aws}\n  bucket: example-backups"],
        count: (1, 1),
        decoys: &["logging:\n  level: info", "backup:\n  prefix: nightly/\n  key: backups/latest.tar.gz"],
        ..snip("yaml", &["config/backup.yml"])
    },
];

// ---------------------------------------------------------------- decoy

const fn decoys(variant: &'static str, paths: &'static [&'static str]) -> Snip {
    Snip {
        count: (0, 0),
        ..snip(variant, paths)
    }
}

const DECOY_PLACEHOLDERS: &[Snip] = &[
    Snip {
        decoys: &[
            "DB_PASSWORD=changeme",
            "API_KEY=your-api-key-here",
            "SECRET_KEY=<secret-key>",
            "AUTH_TOKEN=xxx",
            "SMTP_PASSWORD=",
            "JWT_SECRET=${JWT_SECRET}",
            "ADMIN_PASSWORD=password",
            "REDIS_PASSWORD=<redis-password>",
            "CLIENT_SECRET=REPLACE_ME",
            "ACCESS_TOKEN=TODO",
            "MYSQL_ROOT_PASSWORD=example",
            "DATABASE_URL=postgres://user:password@localhost:5432/app",
            "API_TOKEN=${API_TOKEN:-}",
            "SESSION_SECRET=please-change-me",
            "ENCRYPTION_KEY=0000000000000000",
            "WEBHOOK_SECRET=whsec_xxxxxxxxxxxxxxxx",
        ],
        pairs: Some("{k}={d}"),
        ..decoys(
            "env",
            &[
                ".env.example",
                ".env.sample",
                "config/.env.template",
                "docker/.env.dist",
            ],
        )
    },
    Snip {
        decoys: &[
            "  password: changeme",
            "  api_key: <YOUR_API_KEY>",
            "  secret: \"****\"",
            "  token: \"\"",
            "  client_secret: ${CLIENT_SECRET}",
            "  password: your-password-here",
        ],
        head: &["database:"],
        ..decoys(
            "yaml",
            &["config/settings.example.yml", "deploy/values.sample.yaml"],
        )
    },
];

const DECOY_REFERENCES: &[Snip] = &[
    Snip {
        head: &["import getpass", "import os", ""],
        decoys: &[
            "password = os.environ[\"DB_PASSWORD\"]",
            "api_key = settings.STRIPE_API_KEY",
            "token = get_secret(\"prod/api-token\")",
            "password = config.get(\"database\", \"password\")",
            "SECRET_KEY = env(\"DJANGO_SECRET_KEY\")",
            "auth_token = request.headers.get(\"X-Auth-Token\")",
            "password = getpass.getpass(\"DB password: \")",
            "client_secret = vault.read(\"secret/data/oauth\")[\"data\"][\"client_secret\"]",
        ],
        ..decoys("python", &["src/app/db.py", "app/services/auth.py"])
    },
    Snip {
        decoys: &[
            "password: $DB_PASS",
            "token: ${CI_JOB_TOKEN}",
            "api_key: !ENV ${API_KEY}",
            "secret: \"{{ lookup('env', 'APP_SECRET') }}\"",
            "password_file: /run/secrets/db_password",
            "client_secret: !secret oauth_client_secret",
        ],
        ..decoys(
            "yaml",
            &["config/app.yml", "homeassistant/configuration.yaml"],
        )
    },
    Snip {
        decoys: &[
            "const password = process.env.DB_PASSWORD;",
            "const { apiKey } = config;",
            "const token = await getToken(clientId, clientSecret);",
            "headers.Authorization = `Bearer ${accessToken}`;",
            "const secret = await secrets.get(\"stripe/webhook\");",
            "const password = req.body.password;",
        ],
        ..decoys("javascript", &["src/routes/login.js", "server/auth.js"])
    },
    Snip {
        head: &["package config", ""],
        decoys: &[
            "password := os.Getenv(\"DB_PASSWORD\")",
            "token, err := secrets.Get(ctx, \"api-token\")",
            "cfg.Password = viper.GetString(\"db.password\")",
            "apiKey := r.Header.Get(\"X-Api-Key\")",
        ],
        ..decoys("go", &["internal/config/load.go"])
    },
];

const DECOY_TYPES: &[Snip] = &[
    Snip {
        head: &[
            "class StripeClient(object):",
            "    def __init__(self, api_key: str, stripe_account: Optional[str] = None):",
            "        self._requestor = _APIRequestor(api_key=api_key)",
        ],
        decoys: &[
            "        self.confirmation_tokens: \"ConfirmationTokenService\" = ConfirmationTokenService(self._requestor)",
            "        self.payment_intents: \"PaymentIntentService\" = PaymentIntentService(self._requestor)",
            "        self.ephemeral_keys: \"EphemeralKeyService\" = EphemeralKeyService(self._requestor)",
            "        self.tokens: \"TokenService\" = TokenService(self._requestor)",
            "        self.setup_intents: \"SetupIntentService\" = SetupIntentService(self._requestor)",
            "        self.secret_management: \"SecretManagementService\" = SecretManagementService(self._requestor)",
            "        self.api_keys: \"ApiKeyService\" = ApiKeyService(self._requestor)",
        ],
        ..decoys("python-sdk", &["vendor/stripe/_stripe_client.py", "lib/payments_sdk/client.py"])
    },
    Snip {
        head: &["export interface AuthConfig {"],
        decoys: &[
            "  secretKey: string;",
            "  apiKey?: string | null;",
            "  password: PasswordPolicy;",
            "  accessToken: AccessTokenResponse;",
            "  authToken: components[\"schemas\"][\"AuthToken\"];",
            "  tokenType: \"bearer\" | \"mac\";",
            "  clientSecret: ClientSecret;",
        ],
        tail: &["}", "export type ClientSecret = string;"],
        ..decoys("typescript-types", &["types/api.d.ts", "src/generated/models.ts"])
    },
];

const DECOY_I18N: &[Snip] = &[
    Snip {
        head: &["{"],
        decoys: &[
            "  \"password_reset_token\": \"Password reset token\",",
            "  \"api_key_label\": \"API key\",",
            "  \"secret_question\": \"Secret question\",",
            "  \"token_expired\": \"Your session token has expired. Please sign in again.\",",
            "  \"password_too_short\": \"Password must be at least 12 characters\",",
            "  \"enter_password\": \"Enter your password\",",
            "  \"client_secret_help\": \"Paste the client secret from the provider console\",",
        ],
        tail: &["  \"title\": \"Account\"", "}"],
        ..decoys("json", &["locales/en.json", "src/i18n/en-US.json"])
    },
    Snip {
        head: &["de:", "  auth:"],
        decoys: &[
            "    password: Passwort",
            "    password_confirmation: Passwort bestätigen",
            "    secret_key: Geheimer Schlüssel",
            "    token: Zugangstoken",
            "    api_key_hint: Ihr API-Schlüssel wird nur einmal angezeigt",
        ],
        ..decoys("yaml", &["config/locales/de.yml"])
    },
];

const DECOY_LOCKS: &[Snip] = &[
    Snip {
        head: &["{", "  \"name\": \"web\",", "  \"lockfileVersion\": 3,", "  \"packages\": {"],
        decoys: &[
            "    \"node_modules/{pkg}\": {\n      \"version\": \"{ver}\",\n      \"resolved\": \"https://registry.npmjs.org/{pkg}/-/{pkg}-{ver}.tgz\",\n      \"integrity\": \"sha512-{sri}\"\n    },",
        ],
        tail: &["    \"node_modules/zod\": {", "      \"version\": \"3.23.8\"", "    }", "  }", "}"],
        repeat: true,
        ..decoys("package-lock", &["package-lock.json", "web/package-lock.json"])
    },
    Snip {
        decoys: &[
            "\"{pkg}@^{ver}\":\n  version \"{ver}\"\n  resolved \"https://registry.yarnpkg.com/{pkg}/-/{pkg}-{ver}.tgz#{hex40}\"\n  integrity sha512-{sri}\n",
        ],
        head: &["# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.", "# yarn lockfile v1", ""],
        repeat: true,
        ..decoys("yarn-lock", &["yarn.lock"])
    },
    Snip {
        head: &["version = 4", ""],
        decoys: &[
            "[[package]]\nname = \"{crate}\"\nversion = \"{ver}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{hex64}\"\n",
        ],
        repeat: true,
        ..decoys("cargo-lock", &["Cargo.lock"])
    },
    Snip {
        decoys: &["{gomod} v{ver} h1:{b64_43}=\n{gomod} v{ver}/go.mod h1:{b64_43}="],
        repeat: true,
        ..decoys("go-sum", &["go.sum"])
    },
];

const DECOY_FIXTURES: &[Snip] = &[
    Snip {
        head: &["import pytest", ""],
        decoys: &[
            "TEST_PASSWORD = \"test-password\"",
            "FAKE_API_KEY = \"fake-api-key-for-tests\"",
            "def test_login_rejects_wrong_password(client):\n    resp = client.post(\"/login\", data={\"user\": \"alice\", \"password\": \"wrong-password\"})\n    assert resp.status_code == 401",
            "DUMMY_TOKEN = \"dummy-token\"",
            "@pytest.fixture\ndef user(db):\n    return User.objects.create_user(\"alice\", password=\"test-pass-123\")",
            "EXAMPLE_SECRET = \"example-secret-do-not-use\"",
        ],
        ..decoys("pytest", &["tests/test_auth.py", "tests/conftest.py"])
    },
    Snip {
        head: &["FactoryBot.define do", "  factory :user do", "    email { \"alice@example.com\" }"],
        decoys: &[
            "    password { \"password123\" }",
            "    password_confirmation { \"password123\" }",
            "    api_token { \"test-token\" }",
        ],
        tail: &["  end", "end"],
        ..decoys("factory", &["spec/factories/users.rb"])
    },
    Snip {
        decoys: &[
            "alice:\n  email: alice@example.com\n  encrypted_password: <%= User.digest('password') %>",
            "bob:\n  email: bob@example.com\n  password: fixture-password",
            "service:\n  token: test-service-token",
        ],
        ..decoys("yaml-fixture", &["tests/fixtures/users.yml", "test/fixtures/accounts.yml"])
    },
];

const DECOY_DOCS: &[Snip] = &[Snip {
    head: &["# Configuration", ""],
    decoys: &[
        "Set `DATABASE_URL` to `postgres://USER:PASSWORD@HOST:5432/DB`.",
        "```\nAPI_KEY=<your api key>\n```",
        "The API token is a 40-character hexadecimal string, such as `0123456789abcdef0123456789abcdef01234567`.",
        "| `SECRET_KEY` | random string used to sign sessions | required |",
        "Run `curl -u USERNAME:TOKEN https://api.example.com/v1/me` to check your credentials.",
        "`password`: the password of the database user (default: none).",
        "```sh\nexport AWS_SECRET_ACCESS_KEY=...\n```",
        "```yaml\nauth:\n  client_secret: \"<client secret>\"\n```",
    ],
    ..decoys("markdown", &["docs/configuration.md", "README.md", "docs/deploy.md"])
}];

const DECOY_ENCRYPTED: &[Snip] = &[
    Snip {
        decoys: &[
            "db_password: ENC[AES256_GCM,data:{b64_24},iv:{b64_43}=,tag:{b64_22}==,type:str]",
            "api_token: ENC[AES256_GCM,data:{b64_40},iv:{b64_43}=,tag:{b64_22}==,type:str]",
            "smtp_pass: ENC[AES256_GCM,data:{b64_24},iv:{b64_43}=,tag:{b64_22}==,type:str]",
        ],
        tail: &[
            "sops:",
            "    kms: []",
            "    age:",
            "        - recipient: age1{b32_58}",
            "    lastmodified: \"{year}-03-02T10:11:12Z\"",
            "    mac: ENC[AES256_GCM,data:{b64_86}==,iv:{b64_43}=,tag:{b64_22}==,type:str]",
            "    version: 3.8.1",
        ],
        ..decoys("sops", &["secrets/prod.enc.yaml", "deploy/secrets.sops.yaml"])
    },
    // The payload of an `!vault` block is ciphertext: committing it is what
    // ansible-vault is for, so a finding there is a false alarm.
    Snip {
        decoys: &[
            "db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {hex64}\n  {hex64}\n  {hex64}\n  {hex16}",
            "api_token: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {hex64}\n  {hex64}\n  {hex40}",
            "db_user: {user}",
            "db_password_ref: vault:secret/data/app#db_password",
        ],
        ..decoys("ansible-vault", &["group_vars/prod/vault.yml", "inventories/prod/group_vars/all.yml"])
    },
    Snip {
        decoys: &[
            "DB_PASSWORD: arn:aws:secretsmanager:eu-west-1:{acct}:secret:prod/db-{b62_6}",
            "password: vault:secret/data/payments#password",
            "MasterUserPassword: '{{resolve:secretsmanager:prod/db:SecretString:password}}'",
            "api_key: ref+awsssm://prod/api/key",
        ],
        ..decoys("vault-refs", &["deploy/params.yaml", "cloudformation/db.yaml"])
    },
];

const DECOY_TEMPLATED: &[Snip] = &[
    Snip {
        head: &["apiVersion: v1", "kind: Secret", "metadata:", "  name: {{ include \"app.fullname\" . }}", "stringData:"],
        decoys: &[
            "  DB_PASSWORD: {{ .Values.db.password | quote }}",
            "  API_TOKEN: {{ required \"apiToken is required\" .Values.apiToken | quote }}",
            "  SECRET_KEY: {{ .Values.secretKey | b64enc }}",
            "  REDIS_PASSWORD: {{ .Values.redis.auth.password }}",
        ],
        ..decoys("helm", &["charts/app/templates/secret.yaml"])
    },
    Snip {
        head: &["doctrine:", "    dbal:"],
        decoys: &[
            "        password: '%env(DATABASE_PASSWORD)%'",
            "        url: '%env(resolve:DATABASE_URL)%'",
            "        user: '%env(DATABASE_USER)%'",
        ],
        ..decoys("symfony", &["config/packages/doctrine.yaml"])
    },
    Snip {
        decoys: &[
            "db_password = {{ db_password }}",
            "api_key = {{ vault_api_key }}",
            "password = \"{{ lookup('community.hashi_vault.hashi_vault', 'secret=secret/data/db:password') }}\"",
            "secret_key = <%= ENV['SECRET_KEY'] %>",
        ],
        ..decoys("jinja-erb", &["templates/app.ini.j2", "roles/app/templates/config.j2"])
    },
    Snip {
        decoys: &[
            "  password = var.db_password",
            "  master_password = random_password.db.result",
            "  token = data.vault_generic_secret.ci.data[\"token\"]",
            "  api_key = local.api_key",
        ],
        head: &["resource \"aws_db_instance\" \"main\" {", "  username = \"app\""],
        tail: &["}"],
        ..decoys("terraform", &["infra/db.tf"])
    },
    Snip {
        head: &["        env:"],
        decoys: &[
            "            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: db-credentials\n                  key: password",
            "            - name: API_TOKEN\n              valueFrom:\n                secretKeyRef:\n                  name: api\n                  key: token",
            "            - name: TOKEN_AUDIENCE\n              value: orders-api",
        ],
        ..decoys("k8s-secret-ref", &["k8s/deployment.yaml"])
    },
];

const DECOY_IDS: &[Snip] = &[
    Snip {
        head: &["repos:"],
        decoys: &[
            "  - repo: https://github.com/psf/black\n    rev: {hex40}  # frozen: 24.4.2\n    hooks:\n      - id: black",
            "  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: {hex40}\n    hooks:\n      - id: check-yaml",
            "  - repo: https://github.com/gitleaks/gitleaks\n    rev: {hex40}\n    hooks:\n      - id: gitleaks",
        ],
        ..decoys("pre-commit", &[".pre-commit-config.yaml"])
    },
    Snip {
        head: &["jobs:", "  test:", "    runs-on: ubuntu-latest", "    steps:"],
        decoys: &[
            "      - uses: actions/checkout@{hex40} # v4",
            "      - uses: actions/setup-node@{hex40} # v4",
            "      - uses: actions/cache@{hex40} # v4\n        with:\n          key: deps-${{ hashFiles('**/package-lock.json') }}",
            "      - uses: docker/login-action@{hex40}\n        with:\n          password: ${{ secrets.GITHUB_TOKEN }}",
        ],
        ..decoys("pinned-actions", &[".github/workflows/ci.yml"])
    },
    Snip {
        head: &["{"],
        decoys: &[
            "  \"tenantId\": \"{uuid}\",",
            "  \"subscriptionId\": \"{uuid}\",",
            "  \"clientId\": \"{uuid}\",",
            "  \"requestId\": \"{uuid}\",",
            "  \"correlation_id\": \"{uuid}\",",
            "  \"commit\": \"{hex40}\",",
        ],
        tail: &["  \"environment\": \"production\"", "}"],
        ..decoys("json-ids", &["deploy/azure.parameters.json", "data/tenants.json"])
    },
    Snip {
        decoys: &[
            "commit = \"{hex40}\"",
            "base_revision = \"{hex40}\"",
            "image_digest = \"sha256:{hex64}\"",
            "tarball_sha256 = \"{hex64}\"",
            "build_uuid = \"{uuid}\"",
        ],
        ..decoys("toml-ids", &["release/manifest.toml"])
    },
];

const DECOY_CONSTANTS: &[Snip] = &[
    Snip {
        head: &["package com.example.auth", "", "object AuthConstants {"],
        decoys: &[
            "    const val TOKEN_HEADER = \"X-Auth-Token\"",
            "    const val PASSWORD_FIELD = \"password\"",
            "    const val SECRET_NAME = \"prod/db-credentials\"",
            "    const val KEY_ALGORITHM = \"RSA\"",
            "    const val PASSWORD_PATTERN = \"^(?=.*[A-Z])(?=.*\\\\d).{12,}$\"",
            "    const val API_KEY_QUERY_PARAM = \"api_key\"",
        ],
        tail: &["}"],
        ..decoys(
            "kotlin",
            &["src/main/kotlin/com/example/auth/AuthConstants.kt"],
        )
    },
    Snip {
        head: &[
            "namespace Example.Auth",
            "{",
            "    public static class AuthDefaults",
            "    {",
        ],
        decoys: &[
            "        public const string ApiKeyHeaderName = \"X-Api-Key\";",
            "        public const string PasswordResetTokenPurpose = \"ResetPassword\";",
            "        public const string AuthenticationScheme = \"Bearer\";",
            "        public const string SecretStoreName = \"azure-keyvault\";",
        ],
        tail: &["    }", "}"],
        ..decoys("csharp", &["src/Example.Auth/AuthDefaults.cs"])
    },
    Snip {
        head: &["enum Keys {"],
        decoys: &[
            "    static let tokenKey = \"com.example.app.token\"",
            "    static let passwordKeychainService = \"com.example.app.password\"",
            "    static let apiKeyInfoPlistKey = \"API_KEY\"",
        ],
        tail: &["}"],
        ..decoys("swift", &["App/Support/Keys.swift"])
    },
    Snip {
        decoys: &[
            "pub const TOKEN_ENV: &str = \"API_TOKEN\";",
            "pub const SECRET_PATH: &str = \"/run/secrets/api\";",
            "pub const PASSWORD_PROMPT: &str = \"Password: \";",
            "pub const AUTH_HEADER: &str = \"authorization\";",
        ],
        ..decoys("rust", &["src/auth/consts.rs"])
    },
];

const DECOY_FIXTURES_HELD: &[Snip] = &[
    Snip {
        head: &["class AuthServiceTest {"],
        decoys: &[
            "    private static final String PASSWORD = \"test-password\";",
            "    private static final String FAKE_TOKEN = \"fake-token-123\";",
            "    @Test void rejectsWrongPassword() {\n        assertThrows(AuthException.class, () -> service.login(\"alice\", \"not-the-password\"));\n    }",
        ],
        tail: &["}"],
        ..decoys("junit", &["src/test/java/com/example/AuthServiceTest.java"])
    },
    Snip {
        decoys: &[
            "\tconst testToken = \"test-token\"",
            "\tpassword := \"example-password\" // fixture",
            "\twant := Credentials{User: \"alice\", Password: \"secret\"}",
        ],
        head: &["package auth", "", "func TestLogin(t *testing.T) {"],
        tail: &["}"],
        ..decoys("go-test", &["internal/auth/auth_test.go"])
    },
    Snip {
        decoys: &[
            "  const password = \"correct horse battery staple\"; // fixture",
            "  await page.fill(\"#password\", \"test-password\");",
            "  const mockToken = \"mock-jwt-token\";",
        ],
        head: &["test(\"login\", async ({ page }) => {"],
        tail: &["});"],
        ..decoys("playwright", &["__tests__/login.test.ts", "e2e/login.spec.ts"])
    },
];

const DECOY_DOCS_HELD: &[Snip] = &[
    Snip {
        head: &["Configuration", "=============", ""],
        decoys: &[
            "   DATABASE_URL=postgres://<user>:<password>@<host>/<db>",
            ".. code-block:: ini\n\n   [database]\n   password = <your password>",
            "``api_key``: your API key (a 32-character hex string).",
            "The ``.netrc`` line looks like ``machine api.example.com login <user> password <token>``.",
        ],
        ..decoys("rst", &["docs/configuration.rst", "docs/source/install.rst"])
    },
    Snip {
        head: &["= Deployment", ""],
        decoys: &[
            "Set `spring.datasource.password` to the value from the vault.",
            "[source,properties]\n----\nspring.datasource.password=${DB_PASSWORD}\n----",
            "NOTE: The token is shown once; store it in your password manager.",
        ],
        ..decoys("asciidoc", &["docs/deploy.adoc"])
    },
];
