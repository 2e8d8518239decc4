//! The generic credential model: credentials that carry no provider prefix.
//!
//! A keyword line (one holding `pass`, `secret`, `token`, `key`, `auth`, `://`,
//! ...) is read by an extractor that finds (name, value) pairs in any syntax:
//! `NAME=value` and `name: value` (env files, YAML, INI, properties, TOML, JSON),
//! `define('NAME', '…')`, `cfg['name'] = …`, keyword arguments, `||`/`??`/ternary
//! fallbacks and `getenv` defaults (every string literal of the right-hand side is
//! a candidate), `<password>…</password>`, a line ending in `name value`
//! (nginx/Apache directives, `.netrc`, Gradle, Dockerfile `ENV K V`), command
//! lines (`curl -u user:pass`, `mysql -pPASS`, `sshpass -p PASS`), htpasswd lines,
//! JWTs and `Authorization: Bearer|Basic …` wherever they are; the URL engine
//! reads `scheme://user:password@host`.
//!
//! Each pair is weighed on two axes, then the pipeline adds the third:
//!
//! - the **name** ([`name_strength`]): split into words in any case style; its
//!   head (last word) decides: `password`, `secret`, `token`, `api key` are
//!   strong; `key`, `auth`, `hmac`, `license`, plurals are medium; `file`, `url`,
//!   `header`, `name`, `ttl`, `hash`, `id`... make it not a secret at all
//!   (`SECRET_KEY_FILE`, `token_url`, `api_key_header`).
//! - the **value** ([`value_shape`]): placeholders, templates, references,
//!   paths, e-mail addresses, numbers, identifiers and prose are nothing;
//!   then a JWT, `user:password` in base64, a crypt hash, a UUID, hex, and a
//!   random token are recognised by shape, and anything else is scored as a
//!   person's password by its guessing cost in bits (dictionary words and years
//!   are cheap, random characters and mixed classes dear), so an 8-character
//!   `h7$Kq2p!` counts and `argon2id` does not. Randomness is measured against the
//!   value's own alphabet and length: the Shannon entropy a random string of that
//!   alphabet and length would have, and how often the character class changes.
//! - the **place** ([`place_adjustment`]): `.env`, CI files, docker and k8s
//!   manifests and credential files raise confidence; tests, fixtures, docs,
//!   examples, templates, vendored and generated files lower it. Provider rules
//!   never pass through here: a live key blocks wherever it is.
//!
//! Confidence is a number; the finding blocks from [`BLOCK`], warns from [`WARN`],
//! and is dropped below.
//!
//! Cost: the extractor walks the line once; every candidate costs a bounded
//! amount (a name is at most [`MAX_NAME`] bytes, a value at most [`MAX_VALUE`],
//! the right-hand side of an assignment is read up to the next statement
//! separator or [`MAX_RHS`] bytes, whichever is first, and only when the name is
//! secret-like), so a line of n bytes costs O(n) however it is built.

use std::ops::Range;

use super::filter::entropy;

/// Confidence from which a generic finding blocks.
pub const BLOCK: i32 = 75;
/// Confidence from which a generic finding is reported (warn).
pub const WARN: i32 = 50;

const MAX_NAME: usize = 80;
const MAX_VALUE: usize = 1024;
const MAX_RHS: usize = 512;
/// Lines longer than this are minified or data; the "line ends in `name value`"
/// and command-line shapes are not looked for there.
const SHORT_LINE: usize = 1024;

/// What the model concluded about one value: enough for a person to triage
/// without opening the file, and nothing of the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The name the value is assigned to, as written (or what stands for it:
    /// `curl -u`, `postgres URL for app@db.internal`).
    pub name: String,
    pub kind: Kind,
    /// Length of the value in characters.
    pub length: usize,
    /// Before the place is weighed.
    pub confidence: i32,
    /// Written as a string literal (or in a URL, a credential file's field):
    /// an unquoted value is a literal only outside source code.
    pub quoted: bool,
}

/// The kind of value, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Chosen by a person: words, digits, punctuation.
    Password,
    /// Dictionary words joined.
    Passphrase,
    /// Random characters (base62, base64, punctuation-heavy keys).
    Random,
    Hex,
    Jwt,
    /// base64 of `user:password` (HTTP Basic, docker `auth`, npm `_auth`).
    BasicAuth,
    Uuid,
    /// A password hash (crypt formats): crackable offline.
    Hash(&'static str),
}

impl Assessment {
    /// `DB_PASSWORD = 12-character password`, `API_TOKEN = 40 hex characters`.
    pub fn describe(&self) -> String {
        let n = self.length;
        let what = match self.kind {
            Kind::Password => format!("{n}-character password"),
            Kind::Passphrase => format!("{n}-character passphrase"),
            Kind::Random => format!("{n} random characters"),
            Kind::Hex => format!("{n} hex characters"),
            Kind::Jwt => format!("{n}-character JWT"),
            Kind::BasicAuth => format!("{n}-character base64 user:password"),
            Kind::Uuid => "UUID-shaped token".to_string(),
            Kind::Hash(alg) => format!("{alg} password hash ({n} characters)"),
        };
        if self.name.is_empty() {
            what
        } else {
            format!("{} = {what}", self.name)
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Password => "password",
            Kind::Passphrase => "passphrase",
            Kind::Random => "random",
            Kind::Hex => "hex",
            Kind::Jwt => "jwt",
            Kind::BasicAuth => "basic-auth",
            Kind::Uuid => "uuid",
            Kind::Hash(_) => "password-hash",
        }
    }
}

/// A value found in a line: its span within the line and the assessment.
#[derive(Debug, Clone)]
pub struct Found {
    pub span: Range<usize>,
    pub assessment: Assessment,
}

// ------------------------------------------------------------------ names

/// How secret a name sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Says it is not the secret itself (`password_file`, `token_url`).
    Not,
    /// No secret word.
    None,
    /// `key`, `auth`, `hmac`, `license`, plurals: a strong value is needed.
    Medium,
    /// `password`, `secret`, `token`, `api_key`...
    Strong,
}

/// Words that name a secret wherever they stand (exactly, or as the end of a
/// run-together word: `dbpassword`, `authtoken`, `apikey`).
const STRONG_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "apikey",
    "secretkey",
    "privatekey",
    "accesskey",
    "authkey",
    "credential",
    "credentials",
];

/// Strong only as whole words.
const STRONG_WORDS: &[&str] = &["pass", "pwd", "pw", "salt", "bearer"];

/// Medium as whole words.
const MEDIUM_WORDS: &[&str] = &[
    "key",
    "auth",
    "hmac",
    "license",
    "licence",
    "signature",
    "sig",
    "authorization",
    "tokens",
    "secrets",
    "passwords",
    "keys",
    "cred",
    "creds",
];

/// Before `key`: the key is a credential.
const KEY_STRONG_MODIFIERS: &[&str] = &[
    "api",
    "secret",
    "private",
    "access",
    "signing",
    "encryption",
    "decryption",
    "auth",
    "master",
    "hmac",
    "nonce",
    "shared",
    "consumer",
    "jwt",
    "webhook",
    "sign",
    "crypt",
    "app",
    "client",
    "session",
    "subscription",
    "admin",
    "service",
    "license",
];

/// Before `key`: a key in the data-structure sense.
const KEY_NOT_MODIFIERS: &[&str] = &[
    "cache",
    "sort",
    "primary",
    "foreign",
    "partition",
    "routing",
    "idempotency",
    "storage",
    "map",
    "lookup",
    "i18n",
    "translation",
    "object",
    "public",
    "publishable",
    "pub",
    "host",
    "dedup",
    "group",
    "shortcut",
    "hot",
    "keyboard",
    "unique",
    "index",
    "row",
    "column",
    "registry",
    "redis",
    "metadata",
    "tag",
    "label",
    "message",
    "locale",
    "dict",
    "hash",
    "sharding",
    "shard",
    "react",
    "list",
    "state",
    "query",
    "field",
    "event",
    "item",
    "entry",
    "component",
    "json",
    "yaml",
    "env",
    "config",
    "setting",
    "property",
    "prop",
    "attribute",
    "attr",
    "ssh",
    "gpg",
    "pgp",
    "verify",
    "verification",
    "pubkey",
];

/// A head word that says the name is about a secret, not the secret itself.
const NOT_HEADS: &[&str] = &[
    "file",
    "files",
    "path",
    "paths",
    "dir",
    "directory",
    "url",
    "uri",
    "endpoint",
    "header",
    "headers",
    "name",
    "names",
    "field",
    "fields",
    "label",
    "type",
    "types",
    "env",
    "var",
    "variable",
    "param",
    "parameter",
    "hint",
    "help",
    "prompt",
    "length",
    "len",
    "min",
    "max",
    "ttl",
    "expiry",
    "expires",
    "expired",
    "expiration",
    "timeout",
    "lifetime",
    "policy",
    "strength",
    "hasher",
    "hashers",
    "hash",
    "hashed",
    "digest",
    "algorithm",
    "alg",
    "template",
    "prefix",
    "suffix",
    "location",
    "realm",
    "scheme",
    "id",
    "ids",
    "count",
    "enabled",
    "required",
    "regex",
    "pattern",
    "format",
    "placeholder",
    "question",
    "reset",
    "confirmation",
    "validators",
    "validator",
    "message",
    "error",
    "title",
    "text",
    "description",
    "version",
    "username",
    "user",
    "login",
    "host",
    "port",
    "mode",
    "provider",
    "issuer",
    "service",
    "class",
    "module",
    "kind",
    "size",
    "days",
    "seconds",
    "secs",
    "minutes",
    "hours",
    "rotation",
    "store",
    "manager",
    "source",
    "storage",
    "cache",
    "flag",
    "mask",
    "masked",
    "visible",
    "input",
    "widget",
    "form",
    "route",
    "action",
    "short",
    "long",
    "changed",
    "check",
    "verify",
    "validation",
    "strategy",
    "generator",
    "factory",
    "limit",
    "attempts",
    "retries",
    "encoding",
    "charset",
    "level",
    "status",
    "state",
    "audience",
    "subject",
    "table",
    "column",
    "label",
    "hint",
    "key_id",
    "keyid",
    "ref",
    "reference",
    "arn",
    "vault",
    "policy",
    "length",
    "refresh",
    "request",
    "response",
    "callback",
    "handler",
    "client",
    "api",
    "model",
    "schema",
    "input",
    "output",
    "option",
    "options",
    "config",
    "settings",
    "event",
    "events",
    "list",
    "map",
    "dict",
    "set",
    "index",
    "idx",
    "len",
    "size",
    "bytes",
    "bits",
    "expire",
    "expires_in",
    "ttl",
    "age",
    "interval",
    "duration",
    "delay",
    "window",
    "at",
    "date",
    "time",
    "timestamp",
    "owner",
    "holder",
    "ui",
    "view",
    "page",
    "screen",
    "modal",
    "dialog",
    "button",
    "link",
    "icon",
    "color",
    "style",
    "css",
    "selector",
    "element",
    "property",
    "prop",
    "attr",
    "attribute",
    "method",
    "fn",
    "func",
    "function",
    "callback",
    "cb",
    "listener",
    "hook",
    "test",
    "spec",
    "mock",
    "stub",
    "fake",
    "dummy",
    "example",
    "sample",
    "demo",
    "exists",
    "present",
    "set",
    "provided",
    "valid",
    "invalid",
    "match",
    "matches",
    "mismatch",
    "error",
    "errors",
    "msg",
    "warning",
    "policy",
    "rules",
    "rule",
    "storage",
    "saved",
    "save",
    "load",
    "loaded",
    "fetch",
    "get",
    "read",
    "write",
    "parse",
    "parser",
    "lexer",
    "tokenizer",
    "split",
    "counter",
    "usage",
    "used",
    "pair",
    "public",
];

/// Name words that make hex a digest, not a secret (`commit_token` holding a SHA).
const DIGEST_WORDS: &[&str] = &[
    "commit",
    "sha",
    "sha1",
    "sha256",
    "hash",
    "digest",
    "checksum",
    "etag",
    "rev",
    "revision",
    "build",
    "version",
    "integrity",
    "fingerprint",
    "git",
    "head",
    "ref",
];

/// A name's words, lower-cased, held on the stack: names are split for every
/// candidate on every keyword line, and a `Vec<String>` cost an allocation per
/// word.
pub struct Words {
    bytes: [u8; MAX_NAME],
    /// Each word's start and end in `bytes`.
    spans: [(u8, u8); MAX_NAME],
    len: usize,
}

impl Words {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> &str {
        let (start, end) = self.spans[i];
        // Only ASCII letters and digits are ever written.
        std::str::from_utf8(&self.bytes[usize::from(start)..usize::from(end)]).unwrap_or("")
    }

    pub fn last(&self) -> Option<&str> {
        self.len.checked_sub(1).map(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len).map(|i| self.get(i))
    }

    fn close(&mut self, start: usize, end: usize) {
        if end > start {
            // Both are at most MAX_NAME (80), and a word is at least one byte.
            self.spans[self.len] = (start as u8, end as u8);
            self.len += 1;
        }
    }
}

/// Splits a name into lower-case words: `DB_PASSWORD`, `dbPassword`,
/// `db-password`, `spring.datasource.password`, `APIKey` all give their words.
pub fn name_words(name: &[u8]) -> Words {
    let mut words = Words {
        bytes: [0; MAX_NAME],
        spans: [(0, 0); MAX_NAME],
        len: 0,
    };
    let name = &name[..name.len().min(MAX_NAME)];
    // Bytes written, and where the word at hand starts.
    let mut at = 0;
    let mut start = 0;
    for (i, &b) in name.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            words.close(start, at);
            start = at;
            continue;
        }
        let prev = i.checked_sub(1).map(|j| name[j]);
        let next = name.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if p.is_ascii_alphanumeric() => {
                (p.is_ascii_lowercase() && b.is_ascii_uppercase())
                    || (p.is_ascii_uppercase()
                        && b.is_ascii_uppercase()
                        && next.is_some_and(|c| c.is_ascii_lowercase()))
                    || (p.is_ascii_digit() && b.is_ascii_alphabetic() && at - start > 1)
            }
            _ => false,
        };
        if boundary {
            words.close(start, at);
            start = at;
        }
        words.bytes[at] = b.to_ascii_lowercase();
        at += 1;
    }
    words.close(start, at);
    words
}

fn word_strength(w: &str) -> Strength {
    if STRONG_WORDS.contains(&w)
        || STRONG_SUFFIXES
            .iter()
            .any(|s| w == *s || (w.len() > s.len() + 1 && w.ends_with(s)))
    {
        return Strength::Strong;
    }
    if MEDIUM_WORDS.contains(&w) {
        return Strength::Medium;
    }
    Strength::None
}

/// How secret `name` sounds (see the module doc).
pub fn name_strength(name: &[u8]) -> Strength {
    let words = name_words(name);
    let Some(head) = words.last() else {
        return Strength::None;
    };
    if NOT_HEADS.contains(&head) {
        return Strength::Not;
    }
    let before = words.len().checked_sub(2).map(|i| words.get(i));
    if head == "key" || head == "keys" {
        return match before {
            Some(m) if KEY_NOT_MODIFIERS.contains(&m) => Strength::Not,
            Some(m) if KEY_STRONG_MODIFIERS.contains(&m) && head == "key" => Strength::Strong,
            Some(m) if word_strength(m) == Strength::Strong => Strength::Strong,
            _ => Strength::Medium,
        };
    }
    if head == "salt" && before.is_some() {
        return Strength::Strong;
    }
    let own = word_strength(head);
    if own != Strength::None {
        return own;
    }
    // `SECRET_KEY_BASE`, `DB_PASSWORD_PROD`: the head says nothing, an earlier
    // word does.
    words
        .iter()
        .take(words.len() - 1)
        .map(|w| match word_strength(w) {
            Strength::Strong => Strength::Strong,
            Strength::Medium if !w.ends_with('s') => Strength::Medium,
            _ => Strength::None,
        })
        .max()
        .unwrap_or(Strength::None)
}

fn name_has(name: &[u8], set: &[&str]) -> bool {
    name_words(name).iter().any(|w| set.contains(&w))
}

// ------------------------------------------------------------------ values

/// What a value is, before the name is weighed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Not a credential: placeholder, template, reference, path, prose, ...
    Nothing,
    Random,
    Hex,
    Jwt,
    BasicAuth,
    Uuid,
    Hash(&'static str, bool),
    /// A person's password and its estimated guessing cost in bits.
    Password(f64),
    Passphrase,
}

/// Words that mark a value as a placeholder or a test value when they stand as
/// a segment of it (`your-api-key`, `test-password`, `dev-secret`).
const PLACEHOLDER_SEGMENTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "test",
    "testing",
    "tests",
    "dev",
    "local",
    "dummy",
    "fake",
    "sample",
    "example",
    "changeme",
    "changeit",
    "change",
    "placeholder",
    "xxx",
    "xxxx",
    "todo",
    "tbd",
    "fixme",
    "your",
    "yours",
    "mock",
    "demo",
    "foo",
    "bar",
    "baz",
    "default",
    "none",
    "null",
    "nil",
    "undefined",
    "insecure",
    "unsafe",
    "fixture",
    "here",
    "replace",
    "redacted",
    "hidden",
    "masked",
    "notasecret",
    "secretkey",
    "apikey",
    "pass",
    "pwd",
    "admin",
    "root",
    "guest",
    "user",
    "username",
    "qwerty",
    "letmein",
    "abc",
    "abcd",
    "abcdef",
    "hunter",
    "key",
    "value",
    "string",
    "str",
    "true",
    "false",
    "yes",
    "no",
    "empty",
    "blank",
    "unset",
    "missing",
    "required",
    "optional",
    "enter",
    "please",
    "ignore",
    "ignored",
    "invalid",
    "wrong",
    "bad",
    "good",
    "correct",
    "same",
    "env",
    "var",
    "prod",
    "production",
    "staging",
    "stage",
    "development",
];

/// Prefixes of references to a secret kept elsewhere.
const REFERENCE_PREFIXES: &[&str] = &[
    "vault:",
    "arn:",
    "ref+",
    "sm://",
    "op://",
    "env:",
    "file:",
    "secret:",
    "secrets:",
    "gcp:",
    "azure:",
    "awssm:",
    "ssm:",
    "kms:",
    "projects/",
    "keyvault:",
    "http://",
    "https://",
];

/// Template and interpolation markers, anywhere in a value.
const TEMPLATE_MARKERS: &[&str] = &[
    "${", "{{", "}}", "<%", "%>", "#{", "%(", "$(", "{%", "ENC[", "%env(", "[[", "]]", "<<", ">>",
    "...", "\u{2026}",
];

fn class_of(b: u8) -> u8 {
    if b.is_ascii_lowercase() {
        0
    } else if b.is_ascii_uppercase() {
        1
    } else if b.is_ascii_digit() {
        2
    } else {
        3
    }
}

/// Shannon entropy per character.
/// Whether `v` reads as machine-generated: its entropy close to what a random
/// string of its own alphabet and length would have, and character classes
/// changing often (words change class rarely: `ConfirmationTokenService`).
pub fn random_like(v: &[u8]) -> bool {
    let n = v.len();
    if n < 16 {
        return false;
    }
    let mut classes = [false; 4];
    let mut switches = 0usize;
    for (i, &b) in v.iter().enumerate() {
        classes[class_of(b) as usize] = true;
        if i > 0 && class_of(b) != class_of(v[i - 1]) {
            switches += 1;
        }
    }
    let alphabet: f64 = [26.0, 26.0, 10.0, 20.0]
        .iter()
        .zip(classes)
        .filter(|(_, on)| *on)
        .map(|(a, _)| a)
        .sum();
    // n draws from an alphabet of a symbols show about a(1 - (1 - 1/a)^n)
    // distinct ones, unevenly: the entropy of a random string of this alphabet
    // and length is about log2 of that, less 0.3 bit; half a bit of slack more.
    let distinct = alphabet * (1.0 - (1.0 - 1.0 / alphabet).powi(n as i32));
    let expected = distinct.log2() - 0.3;
    let h = entropy(v);
    let ratio = switches as f64 / n as f64;
    h >= expected - 0.5 && (ratio >= 0.25 || h >= 4.3) && wordy_fraction(v) < 0.6
}

fn is_hex(v: &[u8]) -> bool {
    v.iter().all(u8::is_ascii_hexdigit)
}

fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `eyJ….eyJ….sig`: a JWT's three base64url parts, the first two JSON objects.
pub fn jwt_len(v: &[u8]) -> Option<usize> {
    if !v.starts_with(b"eyJ") {
        return None;
    }
    let mut i = 0;
    let mut dots = 0;
    let mut part_start = 0;
    while i < v.len() && i < 8192 {
        let b = v[i];
        if b == b'.' {
            if i - part_start < 8 || dots == 2 {
                break;
            }
            dots += 1;
            part_start = i + 1;
            if dots == 1 && !v[i + 1..].starts_with(b"eyJ") {
                return None;
            }
        } else if !is_b64url(b) && b != b'=' {
            break;
        }
        i += 1;
    }
    (dots == 2 && i - part_start >= 16).then_some(i)
}

const CRYPT: &[(&str, &str, bool)] = &[
    // (prefix, name, slow): slow hashes warn, fast ones block (see `hash_confidence`).
    ("$2a$", "bcrypt", true),
    ("$2b$", "bcrypt", true),
    ("$2y$", "bcrypt", true),
    ("$2x$", "bcrypt", true),
    ("$argon2", "argon2", true),
    ("$scrypt$", "scrypt", true),
    ("$7$", "scrypt", true),
    ("$y$", "yescrypt", true),
    ("$6$", "sha512-crypt", true),
    ("$5$", "sha256-crypt", true),
    ("$apr1$", "apr1-md5", false),
    ("$1$", "md5-crypt", false),
    ("{SHA}", "unsalted SHA-1", false),
    ("{SSHA}", "salted SHA-1", false),
];

fn crypt_hash(v: &[u8]) -> Option<(&'static str, bool)> {
    let (prefix, name, slow) = CRYPT.iter().find(|(p, _, _)| v.starts_with(p.as_bytes()))?;
    let body = &v[prefix.len()..];
    let ok = body.len() >= 20
        && body.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'$' | b'+' | b'=' | b',')
        });
    ok.then_some((name, *slow))
}

fn b64_value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    } as u32)
}

/// base64 that decodes to `user:password`, both printable and non-empty.
fn basic_auth(v: &[u8]) -> bool {
    let body = v.strip_suffix(b"==").or(v.strip_suffix(b"=")).unwrap_or(v);
    if body.len() < 8 || body.len() > 512 {
        return false;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in body {
        let Some(x) = b64_value(b) else { return false };
        acc = (acc << 6) | x;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    let Some(colon) = out.iter().position(|&b| b == b':') else {
        return false;
    };
    colon > 0 && colon + 1 < out.len() && out.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
}

/// Splits into segments at separators and case/class changes: `coffee_Mug_813`
/// → coffee, mug, 813; `Summer2024!` → summer, 2024.
fn segments(v: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for (i, &b) in v.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&p) = i.checked_sub(1).and_then(|j| v.get(j)) {
            let split = (p.is_ascii_alphabetic() != b.is_ascii_alphabetic())
                || (p.is_ascii_lowercase() && b.is_ascii_uppercase());
            if split && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(b.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The share of a value's letters that stand in word-like runs (three or more
/// letters, pronounceable): high for identifiers, paths and prose, low for
/// random characters.
pub fn wordy_fraction(v: &[u8]) -> f64 {
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 {
        return 0.0;
    }
    let mut wordy = 0;
    let mut i = 0;
    while i < v.len() {
        if !v[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < v.len()
            && v[i].is_ascii_alphabetic()
            && !(v[i].is_ascii_uppercase() && v[i - 1].is_ascii_lowercase())
        {
            i += 1;
        }
        let run = &v[start..i];
        let upper = run.iter().all(u8::is_ascii_uppercase);
        if pronounceable(run)
            || (upper && run.len() >= 3 && pronounceable(&run.to_ascii_lowercase()))
        {
            wordy += run.len();
        }
    }
    wordy as f64 / letters as f64
}

fn is_email(v: &[u8]) -> bool {
    let Some(at) = v.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&v[..at], &v[at + 1..]);
    let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let tld = &domain[dot + 1..];
    !local.is_empty()
        && local
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(b))
        && dot > 0
        && domain[..dot]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(b))
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
}

fn pronounceable(w: &[u8]) -> bool {
    if w.len() < 3 || !w.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let vowels = w.iter().filter(|b| b"aeiouyAEIOUY".contains(b)).count();
    let ratio = vowels as f64 / w.len() as f64;
    if !(0.2..=0.7).contains(&ratio) {
        return false;
    }
    // No run of four consonants.
    let mut run = 0;
    for b in w {
        if b"aeiouyAEIOUY".contains(b) {
            run = 0;
        } else {
            run += 1;
            if run >= 4 {
                return false;
            }
        }
    }
    true
}

/// Guessing cost of a person's password, in bits: a dictionary-like word costs
/// about 11 bits whatever its length, a year 7, random characters their
/// alphabet's log2 each; using three or four character classes adds 8.
pub fn password_bits(v: &[u8]) -> f64 {
    let mut bits = 0.0;
    let mut classes = [false; 4];
    let mut i = 0;
    while i < v.len() {
        let b = v[i];
        classes[class_of(b) as usize] = true;
        let start = i;
        if b.is_ascii_alphabetic() {
            // A capital may open a word: `Summer`.
            i += 1;
            while i < v.len()
                && v[i].is_ascii_alphabetic()
                && !(v[i].is_ascii_uppercase() && v[i - 1].is_ascii_lowercase())
            {
                classes[class_of(v[i]) as usize] = true;
                i += 1;
            }
            let run = &v[start..i];
            let mixed =
                run.iter().any(u8::is_ascii_uppercase) && run.iter().any(u8::is_ascii_lowercase);
            let capitalised =
                run[0].is_ascii_uppercase() && run[1..].iter().all(u8::is_ascii_lowercase);
            if pronounceable(run) && (!mixed || capitalised) {
                bits += 11.0 + if capitalised { 1.0 } else { 0.0 };
            } else {
                bits += run.len() as f64 * if mixed { 5.7 } else { 4.7 };
            }
        } else if b.is_ascii_digit() {
            while i < v.len() && v[i].is_ascii_digit() {
                i += 1;
            }
            let run = &v[start..i];
            let year = run.len() == 4 && (run.starts_with(b"19") || run.starts_with(b"20"));
            bits += if year { 7.0 } else { run.len() as f64 * 3.3 };
        } else {
            i += 1;
            // A lone separator between words is cheap; other symbols are not.
            let separator = matches!(b, b'-' | b'_' | b'.')
                && start > 0
                && i < v.len()
                && v[start - 1].is_ascii_alphanumeric()
                && v[i].is_ascii_alphanumeric();
            bits += if separator { 2.0 } else { 5.0 };
        }
    }
    if classes.iter().filter(|c| **c).count() >= 3 {
        bits += 8.0;
    }
    bits
}

fn is_placeholder_value(v: &[u8]) -> bool {
    if super::filter::is_placeholder(v) {
        return true;
    }
    let segs = segments(v);
    if segs
        .iter()
        .any(|s| PLACEHOLDER_SEGMENTS.contains(&std::str::from_utf8(s).unwrap_or("")))
    {
        // A long random token may hold a short word by chance; a word that
        // short is a placeholder only where the value is not random.
        return !random_like(v)
            || segs.iter().any(|s| {
                s.len() >= 6 && PLACEHOLDER_SEGMENTS.contains(&std::str::from_utf8(s).unwrap_or(""))
            });
    }
    // `x`, `X`, `*`, `#` runs: `xxxx-xxxx`, `****`.
    v.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .all(|&b| b == b'x' || b == b'X' || b == b'0')
}

/// How many printf conversions (`%s`, `%d`, `%.*s`, `%-10lu`, `%%` aside) a
/// value holds.
fn printf_conversions(v: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < v.len() {
        if v[i] != b'%' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < v.len() && b"-+ #0123456789.*hlLqjzt".contains(&v[j]) {
            j += 1;
        }
        if j < v.len() && b"sdiuxXofeEgGcp".contains(&v[j]) && j - i <= 8 {
            count += 1;
        }
        i = j.max(i + 1);
    }
    count
}

/// The shape of a value (module doc). `quoted`: it was a string literal, so
/// parentheses and spaces may be part of it.
pub fn value_shape(v: &[u8], quoted: bool) -> Shape {
    let n = v.len();
    if !(4..=MAX_VALUE).contains(&n) || !v.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return Shape::Nothing;
    }
    if !v.iter().any(u8::is_ascii_alphanumeric) {
        return Shape::Nothing;
    }
    if let Some(len) = jwt_len(v) {
        if len == n {
            return Shape::Jwt;
        }
    }
    if let Some((name, slow)) = crypt_hash(v) {
        return Shape::Hash(name, slow);
    }
    let text = std::str::from_utf8(v).unwrap_or("");
    // A long random value (a WordPress salt, a Django key) holds `{{` or `$(`
    // by chance; a template is not random.
    let long_random = n >= 32 && random_like(v);
    if !long_random && TEMPLATE_MARKERS.iter().any(|m| text.contains(m)) {
        return Shape::Nothing;
    }
    // A printf-style format (`"%.*s4%s"`, `"%s:%d"`) is filled in at run time:
    // the credential, if any, is an argument, not this text.
    if !long_random && printf_conversions(v) >= 2 {
        return Shape::Nothing;
    }
    let lower = text.to_ascii_lowercase();
    if REFERENCE_PREFIXES.iter().any(|p| lower.starts_with(p))
        || v[0] == b'$'
        || v[0] == b'<'
        || v.starts_with(b"@@")
    {
        return Shape::Nothing;
    }
    // Keys a provider publishes by design (Stripe's publishable keys).
    if v.starts_with(b"pk_live_") || v.starts_with(b"pk_test_") {
        return Shape::Nothing;
    }
    // A sigil before a word: a YAML tag or alias (`!secret`, `*default`), a
    // variable (`%APPDATA%`, `@var`), a home path (`~/x`).
    if b"!*&%@~#".contains(&v[0]) && (wordy_fraction(&v[1..]) >= 0.6 || v.get(1) == Some(&b'/')) {
        return Shape::Nothing;
    }
    if v.contains(&b' ') {
        // Prose, or a list; a salt may hold a space, but not two words.
        let words = v
            .split(|&b| b == b' ')
            .filter(|w| w.len() >= 2 && w.iter().all(u8::is_ascii_alphabetic))
            .count();
        if words >= 1 || !random_like(v) {
            return Shape::Nothing;
        }
    }
    if !quoted
        && (v.iter().any(|b| b"()[]{}<>\"'`".contains(b))
            || super::filter::find(v, b"::").is_some()
            || super::filter::find(v, b"__").is_some())
    {
        return Shape::Nothing;
    }
    // Dotted references (`settings.STRIPE_KEY`, `process.env.TOKEN`).
    let identifier = |s: &[u8]| {
        !s.is_empty()
            && (s[0].is_ascii_alphabetic() || s[0] == b'_' || s[0] == b'$')
            && s.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$')
            && s.iter().filter(|b| b.is_ascii_digit()).count() * 3 < s.len()
            && (s.len() <= 3 && s.iter().all(u8::is_ascii_lowercase) || wordy_fraction(s) >= 0.6)
    };
    if v.contains(&b'.') && v.split(|&b| b == b'.').all(identifier) {
        return Shape::Nothing;
    }
    if is_uuid(v) {
        return if v.starts_with(b"123e4567") || is_placeholder_value(&v[..8]) {
            Shape::Nothing
        } else {
            Shape::Uuid
        };
    }
    if is_placeholder_value(v) {
        return Shape::Nothing;
    }
    // Code written into a string or a message: a call or a subscript
    // (`credential_read()`, `wwwauth[]`, `items[0]`), named, not a value.
    if code_reference(v) {
        return Shape::Nothing;
    }
    // Numbers, dates, versions, IP addresses, durations.
    if v.iter()
        .all(|b| b.is_ascii_digit() || b".:-_/,+ ".contains(b))
    {
        return Shape::Nothing;
    }
    if is_hex(v) && n >= 16 {
        return if random_like(v) || entropy(v) >= 3.0 {
            Shape::Hex
        } else {
            Shape::Nothing
        };
    }
    if basic_auth(v) && random_like(v) {
        return Shape::BasicAuth;
    }
    let random = random_like(v);
    // e-mail addresses and paths, unless the whole is random (an AWS secret
    // holds `/`).
    if !random {
        if is_email(v) {
            return Shape::Nothing;
        }
        // Paths: `uploads/2021/report.pdf`, `prod/db-credentials`, `C:\\x`.
        if v.contains(&b'/') || v.contains(&b'\\') || is_file_name(v) {
            return Shape::Nothing;
        }
    }
    if random {
        return Shape::Random;
    }
    // UPPER_SNAKE: the name of an environment variable or a constant.
    if v.iter()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && v.contains(&b'_')
    {
        return Shape::Nothing;
    }
    // Letters only (and separators): an identifier, a word, a type name, or
    // words joined into a passphrase. A colon separates words as the others do:
    // namespaced names (`urn:uuid:`, `xlink:href`, `std::string`).
    if v.iter()
        .all(|b| b.is_ascii_alphabetic() || b"-_.:".contains(b))
    {
        let segs = segments(v);
        let separated = v.iter().any(|b| b"-_.:".contains(b));
        let wordy = segs.iter().all(|s| pronounceable(s));
        if separated && segs.len() >= 3 && wordy && v.iter().all(|b| !b.is_ascii_uppercase()) {
            return Shape::Passphrase;
        }
        let average = v.len() as f64 / segs.len().max(1) as f64;
        if wordy || average >= 3.0 {
            return Shape::Nothing;
        }
    }
    Shape::Password(password_bits(v))
}

/// An identifier (dotted or scoped) followed by one call or subscript:
/// `credential_read()`, `os.getenv("X")`, `wwwauth[]`, `items[0]`.
fn code_reference(v: &[u8]) -> bool {
    let Some(open) = v.iter().position(|&b| b == b'(' || b == b'[') else {
        return false;
    };
    let close = if v[open] == b'(' { b')' } else { b']' };
    let head = &v[..open];
    !head.is_empty()
        && (head[0].is_ascii_alphabetic() || head[0] == b'_')
        && head
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:".contains(b))
        && wordy_fraction(head) >= 0.6
        && v.last() == Some(&close)
        && !v[open + 1..v.len() - 1].contains(&close)
}

/// Confidence of a (name, value) pair, before the place.
fn confidence(name: &[u8], strength: Strength, shape: Shape, len: usize) -> Option<(Kind, i32)> {
    let digest_name = name_has(name, DIGEST_WORDS);
    let strong = strength == Strength::Strong;
    let medium = strength == Strength::Medium;
    let aws_like =
        len == 40 && name_has(name, &["aws", "s3", "secret", "iam"]) && (medium || strong);
    let (kind, c) = match shape {
        Shape::Nothing => return None,
        Shape::Jwt if strong => (Kind::Jwt, 90),
        Shape::Jwt => (Kind::Jwt, 55),
        Shape::Hash(alg, slow) => (Kind::Hash(alg), hash_confidence(strength, slow)),
        Shape::Hex if digest_name => return None,
        Shape::Hex if strong && len >= 16 => (Kind::Hex, 85),
        Shape::Hex if medium && len >= 32 => (Kind::Hex, 55),
        Shape::BasicAuth if strong || medium => (Kind::BasicAuth, 85),
        Shape::Uuid if strong => (Kind::Uuid, 80),
        Shape::Random if aws_like => (Kind::Random, 85),
        Shape::Random if strong => (Kind::Random, 90),
        Shape::Random if medium => (Kind::Random, 60),
        Shape::Password(bits) if strong && bits >= 28.0 && len >= 6 => (Kind::Password, 80),
        Shape::Password(bits) if strong && bits >= 20.0 => (Kind::Password, 55),
        Shape::Passphrase if strong => (Kind::Passphrase, 55),
        _ => return None,
    };
    Some((kind, c))
}

/// A password hash is not a usable credential, but it can be cracked offline.
/// Slow hashes (bcrypt, sha-crypt, argon2, scrypt) cost an attacker enough per
/// guess that a good password survives: reported, not blocked. Fast ones
/// (apr1/md5-crypt, `{SHA}`) fall to a GPU for any human password: blocked, like
/// the password itself.
fn hash_confidence(strength: Strength, slow: bool) -> i32 {
    match (slow, strength) {
        (_, Strength::Not) => 0,
        (true, _) => 55,
        (false, _) => 80,
    }
}

// ------------------------------------------------------------------ lexing

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$' | b'@')
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// End (exclusive) of the string literal opening at `at`, and whether it was closed.
fn string_end(line: &[u8], at: usize) -> (usize, bool) {
    let q = line[at];
    let mut i = at + 1;
    let limit = line.len().min(at + 1 + MAX_VALUE + 64);
    while i < limit {
        match line[i] {
            b'\\' => i += 2,
            b if b == q => return (i + 1, true),
            _ => i += 1,
        }
    }
    (limit.min(line.len()), false)
}

/// The name that ends at `end` (exclusive), looking back over spaces, a closing
/// quote, `]`, and a trailing `?`/`!` (TypeScript optionals): its span.
fn name_before(line: &[u8], end: usize) -> Option<Range<usize>> {
    let mut e = end;
    while e > 0
        && matches!(line[e - 1], b' ' | b'\t' | b'?' | b'!' | b'|' | b'+' | b'&')
        && end - e < 8
    {
        e -= 1;
    }
    let mut closing = 0;
    while e > 0 && line[e - 1] == b']' && closing < 2 {
        e -= 1;
        closing += 1;
    }
    if e == 0 {
        return None;
    }
    if is_quote(line[e - 1]) {
        let q = line[e - 1];
        let stop = e.saturating_sub(MAX_NAME + 1);
        let open = (stop..e - 1).rev().find(|&i| line[i] == q)?;
        let name = open + 1..e - 1;
        return (!name.is_empty()).then_some(name);
    }
    let stop = e.saturating_sub(MAX_NAME);
    let mut s = e;
    while s > stop
        && (is_name_byte(line[s - 1]) || line[s - 1] == b':' && s >= 2 && line[s - 2] == b':')
    {
        s -= 1;
    }
    let name = s..e;
    (!name.is_empty() && line[name.clone()].iter().any(u8::is_ascii_alphabetic)).then_some(name)
}

/// A value candidate on the right of an assignment.
struct Value {
    span: Range<usize>,
    quoted: bool,
}

/// The value(s) right of an operator ending at `at`: a string literal, an
/// unquoted scalar, or, for an expression, each string literal in it up to the
/// end of the statement (`process.env.X || "…"`, `getenv("X", "…")`, `c ? "…" :
/// "…"`).
fn values_after(line: &[u8], at: usize, out: &mut Vec<Value>) {
    let mut i = at;
    while i < line.len() && matches!(line[i], b' ' | b'\t') {
        i += 1;
    }
    if i >= line.len() {
        return;
    }
    // `Bearer abc`, `"Basic abc"`: the scheme names what follows.
    if is_quote(line[i]) {
        let (end, closed) = string_end(line, i);
        if closed {
            out.push(Value {
                span: i + 1..end - 1,
                quoted: true,
            });
            // A string followed by more expression (`"a" + b`, `"x" if c else "y"`)
            // is handled by the expression walk below.
            let rest = skip_ws(line, end);
            if rest >= line.len() || b",;)}]#".contains(&line[rest]) {
                return;
            }
        } else {
            return;
        }
    } else if is_scalar_start(line[i]) {
        // An unquoted scalar: to the end of the line for env files and YAML
        // (a comment cut off), or to a separator in code.
        let mut end = i;
        while end < line.len() && !matches!(line[end], b' ' | b'\t' | b'\r') && end - i < MAX_VALUE
        {
            end += 1;
        }
        let mut e = end;
        while e > i && matches!(line[e - 1], b';' | b',') {
            e -= 1;
        }
        // `name: Type,` `x = other_name;`: an identifier ended by a separator
        // is code.
        let ident = line[i..e]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
            && !line[i].is_ascii_digit();
        if e < end && ident {
            return;
        }
        let rest = skip_ws(line, end);
        let whole_line =
            rest >= line.len() || line[rest] == b'#' || line[rest..].starts_with(b"//");
        // `Bearer <token>` unquoted (HTTP files, YAML).
        let scheme = &line[i..e];
        if (scheme.eq_ignore_ascii_case(b"bearer")
            || scheme.eq_ignore_ascii_case(b"basic")
            || scheme.eq_ignore_ascii_case(b"token"))
            && rest < line.len()
        {
            let mut v = rest;
            while v < line.len()
                && !matches!(line[v], b' ' | b'\t' | b'\r' | b';' | b',' | b'"' | b'\'')
            {
                v += 1;
            }
            out.push(Value {
                span: rest..v,
                quoted: false,
            });
            return;
        }
        if whole_line
            || line[i..e]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_+/=.~!@%^&*?#$".contains(b))
        {
            out.push(Value {
                span: i..e,
                quoted: false,
            });
        }
        if whole_line {
            return;
        }
    }
    // A list (`["Win32_Security"]`, `["headers"]`) holds names, hosts, features;
    // not a credential assigned to this name.
    if line[i] == b'[' {
        return;
    }
    // The expression: its string literals to the end of the statement.
    let limit = line.len().min(i + MAX_RHS);
    let mut depth = 0i32;
    let mut j = i;
    let mut literals = 0;
    while j < limit && literals < 4 {
        let b = line[j];
        if is_quote(b) {
            let (end, closed) = string_end(line, j);
            if !closed {
                return;
            }
            if j > i || !out.iter().any(|v| v.span.start == j + 1) {
                out.push(Value {
                    span: j + 1..end - 1,
                    quoted: true,
                });
            }
            literals += 1;
            j = end;
            continue;
        }
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < 0 {
                    return;
                }
            }
            b';' | b'#' => return,
            b',' if depth == 0 => return,
            b'=' if depth == 0
                && line.get(j + 1) != Some(&b'=')
                && j > 0
                && !b"=!<>".contains(&line[j - 1]) =>
            {
                return
            }
            _ => {}
        }
        j += 1;
    }
}

fn skip_ws(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && matches!(line[i], b' ' | b'\t' | b'\r') {
        i += 1;
    }
    i
}

fn is_scalar_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_+/=.~!@%^&*?".contains(&b)
}

/// The bytes `assignments` acts on: quotes (`is_quote`), the first byte of an
/// operator (`operator_at`) and of `</` (`xml_element`).
const STARTS: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'`' as usize] = true;
    t[b'=' as usize] = true;
    t[b':' as usize] = true;
    t[b'<' as usize] = true;
    t
};

/// Finds every assessed value on one line (assignment engine).
pub fn assignments(line: &[u8], out: &mut Vec<Found>) {
    let mut seen: Vec<Range<usize>> = Vec::new();
    let mut push = |name: &[u8],
                    label: Option<String>,
                    v: Range<usize>,
                    quoted: bool,
                    out: &mut Vec<Found>| {
        if v.is_empty() || seen.iter().any(|s| s.start < v.end && v.start < s.end) {
            return;
        }
        if let Some(f) = assess(name, label, line, v.clone(), quoted) {
            seen.push(v);
            out.push(f);
        }
    };
    let mut values = Vec::new();
    let mut i = 0;
    let n = line.len();
    while i < n {
        // Only a quote, an operator or `</` starts anything below: the bytes
        // between are passed over by one table lookup each.
        match line[i..].iter().position(|&b| STARTS[usize::from(b)]) {
            Some(k) => i += k,
            None => break,
        }
        let b = line[i];
        if is_quote(b) {
            // `"name": value`, `'NAME', 'value'` (define, getenv defaults) and
            // string literals in general: the name may be inside.
            let (end, closed) = string_end(line, i);
            if !closed {
                break;
            }
            // `"Server=db;User Id=app;Password=…;"`, `"user=app password=…"`,
            // `?password=…&`: pairs inside a string.
            let inner = i + 1..end - 1;
            if memchr::memchr(b'=', &line[inner.clone()]).is_some() {
                pairs_inside(line, inner, &mut push, out);
            }
            let after = skip_ws(line, end);
            if after < n && line[after] == b',' && end - i - 2 <= MAX_NAME {
                // `define('DB_PASSWORD', '…')`, `getenv("X", "default")`: a
                // name-like literal followed by a literal.
                let name = &line[i + 1..end - 1];
                let next = skip_ws(line, after + 1);
                if next < n
                    && is_quote(line[next])
                    && name.iter().all(|b| is_name_byte(*b) || *b == b':')
                    && name_strength(name) >= Strength::Medium
                {
                    let (vend, vclosed) = string_end(line, next);
                    if vclosed {
                        push(name, None, next + 1..vend - 1, true, out);
                    }
                }
            }
            i = end;
            continue;
        }
        let op_len = operator_at(line, i);
        if op_len > 0 {
            if let Some(name) = name_before(line, i).map(|n| past_type(line, n)) {
                // `key="DbPassword" value="…"` (.NET appSettings, Ant, XML
                // properties): the name is the other attribute's value.
                let name = if is_value_word(&line[name.clone()]) {
                    named_attribute(line, name.start).unwrap_or(name)
                } else {
                    name
                };
                // `user, pass := "u", "p"`: names and values paired by position.
                if !(line[i] == b':' && op_len == 1)
                    && multi_assign(line, name.clone(), i + op_len, &mut push, out)
                {
                    i += op_len;
                    continue;
                }
                let name_bytes = &line[name.clone()];
                let strength = name_strength(name_bytes);
                if strength >= Strength::Medium || (i + op_len < n && rhs_has_jwt(line, i + op_len))
                {
                    values.clear();
                    values_after(line, i + op_len, &mut values);
                    // An operator inside a value just read (`KEY=abc=def`) starts
                    // no assignment: skipping past it keeps a line linear.
                    let read_to = values
                        .iter()
                        .map(|v| v.span.end + usize::from(v.quoted))
                        .max();
                    for v in values.drain(..) {
                        push(name_bytes, None, v.span, v.quoted, out);
                    }
                    if let Some(end) = read_to {
                        i = end.max(i + op_len);
                        continue;
                    }
                }
            }
            i += op_len;
            continue;
        }
        if b == b'<' && i + 1 < n && line[i + 1] == b'/' {
            if let Some((name, value)) = xml_element(line, i) {
                push(&line[name], None, value, true, out);
            }
        }
        i += 1;
    }
    if n <= SHORT_LINE {
        trailing_pair(line, &mut push, out);
        command_line(line, &mut push, out);
        positional(line, &mut push, out);
        htpasswd(line, out);
    }
    // JWTs and `Bearer`/`Basic` credentials wherever they are.
    loose_tokens(line, out);
}

/// Type words between a name and its `=` (`const dbPassword string = …`,
/// `pub const KEY: &str = …`, `val pw: String = …`): the name is before them.
fn past_type(line: &[u8], name: Range<usize>) -> Range<usize> {
    const TYPES: &[&str] = &[
        "string", "str", "static", "char", "byte", "bytes", "text", "const", "final", "readonly",
    ];
    let words = name_words(&line[name.clone()]);
    if words.is_empty() || !words.iter().all(|w| TYPES.contains(&w)) {
        return name;
    }
    let mut e = name.start;
    while e > 0
        && matches!(
            line[e - 1],
            b' ' | b'\t' | b':' | b'&' | b'\'' | b'*' | b'[' | b']'
        )
    {
        e -= 1;
    }
    name_before(line, e).unwrap_or(name)
}

fn is_value_word(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"value")
}

/// For `key="X" value="…"`: the span of X, the nearest `key=`/`name=` attribute
/// before `at`.
fn named_attribute(line: &[u8], at: usize) -> Option<Range<usize>> {
    let start = at.saturating_sub(MAX_NAME + 16);
    let before = &line[start..at];
    for attr in [&b"key="[..], b"name=", b"Key=", b"Name="] {
        if let Some(k) = super::filter::rfind(before, attr) {
            let q = start + k + attr.len();
            if q < line.len() && is_quote(line[q]) {
                let (end, closed) = string_end(line, q);
                if closed && end <= at {
                    return Some(q + 1..end - 1);
                }
            }
        }
    }
    None
}

/// `a, b = "x", "y"` and `a, b := …`: pairs names and literals by position.
/// Returns whether the left side was a list (then it is handled here).
fn multi_assign(
    line: &[u8],
    last: Range<usize>,
    rhs: usize,
    push: &mut Push<'_>,
    out: &mut Vec<Found>,
) -> bool {
    let mut names = vec![last.clone()];
    let mut s = last.start;
    while names.len() < 8 {
        let mut e = s;
        while e > 0 && line[e - 1] == b' ' {
            e -= 1;
        }
        if e == 0 || line[e - 1] != b',' {
            break;
        }
        match name_before(line, e - 1) {
            // Bare identifiers only: `"a", b = …` is not a list of names.
            Some(n) if !is_quote(line[n.end]) => {
                s = n.start;
                names.push(n);
            }
            _ => break,
        }
    }
    if names.len() < 2 {
        return false;
    }
    names.reverse();
    let mut values = Vec::new();
    let mut j = skip_ws(line, rhs);
    while values.len() < names.len() && j < line.len() && is_quote(line[j]) {
        let (end, closed) = string_end(line, j);
        if !closed {
            break;
        }
        values.push(j + 1..end - 1);
        j = skip_ws(line, end);
        if j < line.len() && line[j] == b',' {
            j = skip_ws(line, j + 1);
        } else {
            break;
        }
    }
    if values.len() != names.len() {
        return true;
    }
    for (n, v) in names.into_iter().zip(values) {
        let name = line[n].to_vec();
        if name_strength(&name) >= Strength::Medium {
            push(&name, None, v, true, out);
        }
    }
    true
}

/// `k=v` pairs inside a string, separated by `;`, `&` or spaces.
fn pairs_inside(line: &[u8], inner: Range<usize>, push: &mut Push<'_>, out: &mut Vec<Found>) {
    let mut k = inner.start;
    while k < inner.end {
        let end = line[k..inner.end]
            .iter()
            .position(|b| matches!(b, b';' | b'&' | b'?' | b' ' | b'\t'))
            .map_or(inner.end, |p| k + p);
        if let Some(eq) = memchr::memchr(b'=', &line[k..end]) {
            let name = &line[k..k + eq];
            // Only a name is a name: the text before `=` here may be a whole URL
            // (`https://user:pw@host/api?token=…`), and a name is printed whole.
            if !name.is_empty()
                && name.len() <= MAX_NAME
                && name.iter().all(|&b| is_name_byte(b))
                && name_strength(name) == Strength::Strong
            {
                push(name, None, k + eq + 1..end, true, out);
            }
        }
        k = end + 1;
    }
}

/// Literals passed by position to a call that takes credentials
/// (`getConnection(url, "app", "…")`, `new NetworkCredential("u", "…")`,
/// `BasicAWSCredentials(id, "…")`): the callee names them. Reported, not
/// blocked: nothing says which argument is the password.
fn positional(line: &[u8], push: &mut Push<'_>, out: &mut Vec<Found>) {
    const CALLEES: &[&str] = &[
        "connect",
        "connection",
        "credential",
        "credentials",
        "auth",
        "login",
        "authenticate",
        "session",
    ];
    for open in memchr::memchr_iter(b'(', line) {
        let Some(callee) = name_before(line, open) else {
            continue;
        };
        let words = name_words(&line[callee.clone()]);
        if !words
            .iter()
            .any(|w| CALLEES.contains(&w) || w.ends_with("auth") || w.ends_with("credentials"))
        {
            continue;
        }
        let mut j = open + 1;
        let mut literals = 0;
        let mut depth = 0;
        while j < line.len() && j - open < MAX_RHS {
            let b = line[j];
            if is_quote(b) {
                let (end, closed) = string_end(line, j);
                if !closed {
                    break;
                }
                if depth == 0 && literals >= 1 {
                    push(
                        b"(positional)",
                        Some(format!(
                            "argument {} of {}",
                            literals + 1,
                            printable(&line[callee.clone()])
                        )),
                        j + 1..end - 1,
                        true,
                        out,
                    );
                }
                literals += 1;
                j = end;
                continue;
            }
            match b {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                b',' if depth == 0 => literals = literals.max(1),
                _ => {}
            }
            j += 1;
        }
    }
}

fn rhs_has_jwt(line: &[u8], at: usize) -> bool {
    let end = line.len().min(at + 16);
    super::filter::find(&line[at..end], b"eyJ").is_some()
}

/// Length of an assignment operator at `i`, or 0: `=`, `:`, `:=`, `=>`, `?=`,
/// `||=`, `??=`; not `==`, `!=`, `<=`, `>=`, `::`, or `:` of `://`.
fn operator_at(line: &[u8], i: usize) -> usize {
    let b = line[i];
    let next = line.get(i + 1).copied();
    let prev = i.checked_sub(1).map(|j| line[j]);
    match b {
        b'=' => {
            if next == Some(b'=') || next == Some(b'~') {
                return 0;
            }
            if matches!(prev, Some(b'=' | b'!' | b'<' | b'>')) {
                return 0;
            }
            if next == Some(b'>') {
                2
            } else {
                1
            }
        }
        b':' => {
            if next == Some(b':') || prev == Some(b':') {
                return 0;
            }
            if next == Some(b'/') && line.get(i + 2) == Some(&b'/') {
                return 0;
            }
            if next == Some(b'=') {
                2
            } else {
                1
            }
        }
        _ => 0,
    }
}

/// `<password>value</password>`, `<Pass encoding="base64">value</Pass>`: the
/// element closing at `close` (the `<` of `</`), its tag and text.
fn xml_element(line: &[u8], close: usize) -> Option<(Range<usize>, Range<usize>)> {
    let tag_start = close + 2;
    let mut tag_end = tag_start;
    while tag_end < line.len()
        && tag_end - tag_start < MAX_NAME
        && (line[tag_end].is_ascii_alphanumeric() || b"_-.:".contains(&line[tag_end]))
    {
        tag_end += 1;
    }
    if tag_end == tag_start || line.get(tag_end) != Some(&b'>') {
        return None;
    }
    let tag = &line[tag_start..tag_end];
    if name_strength(tag) < Strength::Medium {
        return None;
    }
    let gt = memchr::memrchr(b'>', &line[close.saturating_sub(MAX_VALUE)..close])?
        + close.saturating_sub(MAX_VALUE);
    let text = gt + 1..close;
    let open = memchr::memrchr(b'<', &line[..gt])?;
    let open_tag = &line[open + 1..gt];
    (open_tag.len() >= tag.len() && &open_tag[..tag.len()] == tag)
        .then_some((tag_start..tag_end, text))
}

type Push<'a> = dyn FnMut(&[u8], Option<String>, Range<usize>, bool, &mut Vec<Found>) + 'a;

/// A short line ending in `name value` (nginx and Apache directives, `.netrc`,
/// Gradle's `password "…"`, Dockerfile `ENV K V`): the last two words.
fn trailing_pair(line: &[u8], push: &mut Push<'_>, out: &mut Vec<Found>) {
    let mut words: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while i < line.len() {
        i = skip_ws(line, i);
        if i >= line.len() {
            break;
        }
        let start = i;
        if is_quote(line[i]) {
            let (end, closed) = string_end(line, i);
            if !closed {
                return;
            }
            i = end;
        } else {
            while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r') {
                i += 1;
            }
        }
        words.push(start..i);
        if words.len() > 8 {
            return;
        }
    }
    if words.last().is_some_and(|w| &line[w.clone()] == b";") {
        words.pop();
    }
    if words.len() < 2 {
        return;
    }
    let mut value = words[words.len() - 1].clone();
    let name = words[words.len() - 2].clone();
    if line[value.clone()].ends_with(b";") {
        value.end -= 1;
    }
    let name_bytes = &line[name];
    if !name_bytes.iter().all(|b| is_name_byte(*b))
        || name_strength(name_bytes) < Strength::Strong
        || in_a_sentence(line, &words[..words.len() - 2])
    {
        return;
    }
    let quoted =
        value.len() >= 2 && is_quote(line[value.start]) && line[value.end - 1] == line[value.start];
    if quoted {
        value = value.start + 1..value.end - 1;
    }
    push(name_bytes, None, value, quoted, out);
}

/// File extensions a value names a file by: `server.key`, `config.yml`,
/// `t0070-fundamental.sh` (a test script named in a commit message).
const FILE_EXTENSIONS: &[&[u8]] = &[
    b"sh", b"bash", b"py", b"rb", b"pl", b"js", b"ts", b"go", b"rs", b"c", b"h", b"cc", b"cpp",
    b"java", b"php", b"txt", b"md", b"adoc", b"json", b"yml", b"yaml", b"toml", b"ini", b"cfg",
    b"conf", b"xml", b"html", b"css", b"lock", b"log", b"sql", b"csv", b"pem", b"key", b"crt",
    b"cer", b"p12", b"pfx", b"jks", b"der", b"pub", b"gpg",
];

/// `stem.ext`, one dot, a stem of letters, digits, `-` and `_`, and a known
/// extension: the name of a file, whose contents are scanned where they are.
fn is_file_name(v: &[u8]) -> bool {
    let Some(dot) = memchr::memrchr(b'.', v) else {
        return false;
    };
    let (stem, ext) = (&v[..dot], &v[dot + 1..]);
    !stem.is_empty()
        && stem
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        && FILE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
}

/// Words that hold an English sentence together. A directive, a `.netrc` line
/// or `ENV K V` has none of them; a commit message's "merge does not pass
/// t7604." has two before its "name".
const FUNCTION_WORDS: &[&[u8]] = &[
    b"a", b"an", b"the", b"to", b"of", b"not", b"no", b"does", b"do", b"did", b"is", b"are",
    b"was", b"were", b"be", b"will", b"would", b"should", b"can", b"could", b"must", b"may", b"we",
    b"it", b"this", b"that", b"these", b"those", b"now", b"still", b"also", b"when", b"if", b"so",
    b"but", b"and", b"or",
];

/// Whether the words before a trailing `name value` read as a sentence: two or
/// more function words among them.
fn in_a_sentence(line: &[u8], before: &[Range<usize>]) -> bool {
    before
        .iter()
        .filter(|w| {
            let word = &line[(*w).clone()];
            FUNCTION_WORDS.iter().any(|f| word.eq_ignore_ascii_case(f))
        })
        .nth(1)
        .is_some()
}

/// `curl -u user:pass`, `mysql -pPASS`, `sshpass -p PASS`, `--password PASS`.
fn command_line(line: &[u8], push: &mut Push<'_>, out: &mut Vec<Found>) {
    let words: Vec<Range<usize>> = {
        let mut w = Vec::new();
        let mut i = 0;
        while i < line.len() && w.len() < 64 {
            i = skip_ws(line, i);
            let start = i;
            if i < line.len() && is_quote(line[i]) {
                i = string_end(line, i).0;
            } else {
                while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r') {
                    if is_quote(line[i]) {
                        i = string_end(line, i).0;
                    } else {
                        i += 1;
                    }
                }
            }
            if i > start {
                w.push(start..i);
            }
        }
        w
    };
    let text = |r: &Range<usize>| &line[r.clone()];
    let has = |word: &[u8]| words.iter().any(|w| text(w).ends_with(word));
    let unquote = |r: Range<usize>| -> (Range<usize>, bool) {
        let s = &line[r.clone()];
        if s.len() >= 2 && is_quote(s[0]) && s[s.len() - 1] == s[0] {
            (r.start + 1..r.end - 1, true)
        } else {
            (r, false)
        }
    };
    // Asked once per line, not once per word: a line of 64 words asked it 64
    // times over 64 words (stripe-python's history: 1.75 s before, 1.53 s after).
    let curl = has(b"curl");
    let mysql = has(b"mysql") || has(b"mysqldump") || has(b"mysqladmin");
    let sshpass = has(b"sshpass");
    for (k, w) in words.iter().enumerate() {
        let t = text(w);
        // curl -u / --user user:pass
        if curl && (t == b"-u" || t == b"--user") {
            if let Some(next) = words.get(k + 1) {
                let (r, q) = unquote(next.clone());
                if let Some(colon) = memchr::memchr(b':', &line[r.clone()]) {
                    push(
                        b"curl -u",
                        Some("curl -u".into()),
                        r.start + colon + 1..r.end,
                        q,
                        out,
                    );
                }
            }
        }
        // mysql -pPASS (a separate word after -p is a database name)
        if mysql && t.len() > 2 && t.starts_with(b"-p") {
            let (r, q) = unquote(w.start + 2..w.end);
            push(b"mysql -p", Some("mysql -p".into()), r, q, out);
        }
        if sshpass && t == b"-p" {
            if let Some(next) = words.get(k + 1) {
                let (r, q) = unquote(next.clone());
                push(b"sshpass -p", Some("sshpass -p".into()), r, q, out);
            }
        }
        if t.starts_with(b"--") && !t.contains(&b'=') && name_strength(t) == Strength::Strong {
            if let Some(next) = words.get(k + 1) {
                if !text(next).starts_with(b"-") {
                    let (r, q) = unquote(next.clone());
                    push(t, None, r, q, out);
                }
            }
        }
    }
}

/// Terraform's `variable "db_password" {` with its `default = "…"` on one of
/// the next lines: `rest` is the input after this line; the span returned is
/// within `rest`. True when it read `rest`: the line names a secret-sounding
/// variable, so what it finds depends on more than the line.
pub fn terraform_default(line: &[u8], rest: &[u8], out: &mut Vec<Found>) -> bool {
    let t = line.trim_ascii_start();
    let Some(after) = t.strip_prefix(b"variable") else {
        return false;
    };
    let after = after.trim_ascii_start();
    if after.first() != Some(&b'"') {
        return false;
    }
    let Some(close) = memchr::memchr(b'"', &after[1..]) else {
        return false;
    };
    let name = &after[1..1 + close];
    if name_strength(name) != Strength::Strong {
        return false;
    }
    let window = &rest[..rest.len().min(1024)];
    let mut at = 0;
    for (k, l) in window.split(|&b| b == b'\n').enumerate() {
        if k >= 8 || l.trim_ascii_start().starts_with(b"}") && !l.contains(&b'{') {
            break;
        }
        let trimmed = l.trim_ascii_start();
        if let Some(r) = trimmed.strip_prefix(b"default") {
            let r0 = l.len() - r.len();
            let eq = skip_ws(l, r0);
            if l.get(eq) == Some(&b'=') {
                let q = skip_ws(l, eq + 1);
                if q < l.len() && l[q] == b'"' {
                    let (end, closed) = string_end(l, q);
                    if closed {
                        let v = &l[q + 1..end - 1];
                        if let Some((kind, c)) =
                            confidence(name, Strength::Strong, value_shape(v, true), v.len())
                        {
                            out.push(Found {
                                span: at + q + 1..at + end - 1,
                                assessment: Assessment {
                                    name: format!("variable {} default", printable(name)),
                                    kind,
                                    length: v.len(),
                                    confidence: c,
                                    quoted: true,
                                },
                            });
                        }
                    }
                }
            }
        }
        at += l.len() + 1;
    }
    true
}

/// `user:$2y$10$…` (htpasswd and shadow-style lines).
fn htpasswd(line: &[u8], out: &mut Vec<Found>) {
    let Some(colon) = memchr::memchr(b':', line) else {
        return;
    };
    let user = &line[..colon];
    if user.is_empty() || user.len() > 64 || !user.iter().all(|b| is_name_byte(*b)) {
        return;
    }
    let rest = &line[colon + 1..];
    let end = rest
        .iter()
        .position(|&b| b == b':' || b == b' ' || b == b'\r')
        .unwrap_or(rest.len());
    let hash = &rest[..end];
    if let Some((alg, slow)) = crypt_hash(hash) {
        if out.iter().any(|f| f.span.start == colon + 1) {
            return;
        }
        out.push(Found {
            span: colon + 1..colon + 1 + end,
            assessment: Assessment {
                name: format!("{} (htpasswd entry)", printable(user)),
                kind: Kind::Hash(alg),
                length: end,
                confidence: hash_confidence(Strength::Strong, slow),
                quoted: true,
            },
        });
    }
}

/// JWTs anywhere, and `Bearer …`/`Basic …` inside strings.
fn loose_tokens(line: &[u8], out: &mut Vec<Found>) {
    // Built once: a searcher costs more to build than a line takes to search.
    static JWT: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"eyJ"));
    let found_before = out.len();
    let mut jwt_end = 0;
    for at in JWT.find_iter(line) {
        if at > 0 && is_b64url(line[at - 1]) {
            continue;
        }
        let Some(len) = jwt_len(&line[at..]) else {
            continue;
        };
        let span = at..at + len;
        // A JWT's payload starts with `eyJ` too: skipped by where the last one
        // ended, in O(1). Only what other engines found before this loop is
        // searched, so a line of thousands of JWTs stays linear.
        if at < jwt_end
            || out[..found_before]
                .iter()
                .any(|f| f.span.start < span.end && span.start < f.span.end)
        {
            continue;
        }
        jwt_end = span.end;
        let before = line[..at].trim_ascii_end();
        let bearer =
            before.len() >= 6 && before[before.len() - 6..].eq_ignore_ascii_case(b"bearer");
        out.push(Found {
            span,
            assessment: Assessment {
                name: if bearer {
                    "Bearer".into()
                } else {
                    String::new()
                },
                kind: Kind::Jwt,
                length: len,
                confidence: if bearer { 90 } else { 55 },
                quoted: true,
            },
        });
    }
    static SCHEMES: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 4]> =
        std::sync::LazyLock::new(|| {
            [&b"Bearer "[..], b"Basic ", b"bearer ", b"Token "].map(memchr::memmem::Finder::new)
        });
    for finder in SCHEMES.iter() {
        let scheme = finder.needle();
        for at in finder.find_iter(line) {
            if at > 0 && line[at - 1].is_ascii_alphanumeric() {
                continue;
            }
            let start = at + scheme.len();
            let mut end = start;
            while end < line.len()
                && end - start < MAX_VALUE
                && (line[end].is_ascii_alphanumeric() || b"-_.+/=~".contains(&line[end]))
            {
                end += 1;
            }
            let span = start..end;
            if span.is_empty()
                || out
                    .iter()
                    .any(|f| f.span.start < span.end && span.start < f.span.end)
            {
                continue;
            }
            let v = &line[span.clone()];
            let shape = value_shape(v, true);
            let kind = match shape {
                Shape::BasicAuth => Kind::BasicAuth,
                Shape::Random => Kind::Random,
                Shape::Hex => Kind::Hex,
                Shape::Jwt => Kind::Jwt,
                Shape::Uuid => Kind::Uuid,
                _ => continue,
            };
            out.push(Found {
                span,
                assessment: Assessment {
                    name: String::from_utf8_lossy(scheme.trim_ascii_end()).into_owned(),
                    kind,
                    length: v.len(),
                    confidence: 85,
                    quoted: true,
                },
            });
        }
    }
}

fn assess(
    name: &[u8],
    label: Option<String>,
    line: &[u8],
    v: Range<usize>,
    quoted: bool,
) -> Option<Found> {
    let mut span = v;
    // `"Bearer abc"`: the scheme is not the secret.
    for scheme in [&b"Bearer "[..], b"Basic ", b"bearer ", b"Token ", b"token "] {
        if line[span.clone()].starts_with(scheme) {
            span.start += scheme.len();
        }
    }
    let value = &line[span.clone()];
    let positional = name == b"(positional)";
    let strength = if label.is_some() {
        Strength::Strong
    } else {
        name_strength(name)
    };
    if strength == Strength::Not {
        return None;
    }
    let shape = value_shape(value, quoted);
    let (kind, mut c) = confidence(name, strength, shape, value.len())?;
    if positional {
        // Only a person's password or a random token, and only reported.
        if !matches!(kind, Kind::Password | Kind::Random) || (kind == Kind::Password && c < 80) {
            return None;
        }
        c = 55;
    }
    Some(Found {
        span,
        assessment: Assessment {
            name: label.unwrap_or_else(|| printable(name)),
            kind,
            length: value.len(),
            confidence: c,
            quoted,
        },
    })
    .filter(|f| f.assessment.confidence >= WARN)
}

/// A name as it may be printed: graphic ASCII, at most 64 characters.
fn printable(name: &[u8]) -> String {
    let mut s: String = name
        .iter()
        .take(64)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    if name.len() > 64 {
        s.push('…');
    }
    s
}

// ------------------------------------------------------------------ URLs

/// `scheme://user:password@host` on one line (URL engine): the passwords.
pub fn url_passwords(line: &[u8], out: &mut Vec<Found>) {
    static SCHEME_END: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"://"));
    for at in SCHEME_END.find_iter(line) {
        let mut s = at;
        while s > 0
            && at - s < 24
            && (line[s - 1].is_ascii_alphanumeric() || b"+.-".contains(&line[s - 1]))
        {
            s -= 1;
        }
        let scheme = &line[s..at];
        if scheme.is_empty() || !scheme[0].is_ascii_alphabetic() {
            continue;
        }
        let start = at + 3;
        let mut end = start;
        let mut colon = None;
        let mut amp = None;
        while end < line.len() && end - start < 512 {
            let b = line[end];
            if b == b'@' {
                amp = Some(end);
            }
            if b == b'/'
                || b == b'?'
                || b == b'#'
                || b.is_ascii_whitespace()
                || b"\"'<>`{}|\\[]".contains(&b)
            {
                break;
            }
            if b == b':' && colon.is_none() {
                colon = Some(end);
            }
            end += 1;
        }
        let (Some(colon), Some(amp)) = (colon, amp) else {
            continue;
        };
        if colon > amp {
            continue;
        }
        let user = &line[start..colon];
        let pw = colon + 1..amp;
        let host_start = amp + 1;
        let mut host_end = host_start;
        while host_end < line.len()
            && (line[host_end].is_ascii_alphanumeric() || b".-_".contains(&line[host_end]))
        {
            host_end += 1;
        }
        let host = &line[host_start..host_end];
        if host.is_empty() || pw.is_empty() {
            continue;
        }
        let p = &line[pw.clone()];
        let Some((kind, c)) = url_password(user, p) else {
            continue;
        };
        let scheme_text = printable(scheme);
        let host_text = printable(host);
        out.push(Found {
            span: pw.clone(),
            // Never the user: the user slot may hold a token itself
            // (`https://ghp_…:x-oauth-basic@github.com`), and the name is
            // printed whole.
            assessment: Assessment {
                name: format!("{scheme_text} URL password for {host_text}"),
                kind,
                length: pw.len(),
                confidence: c,
                quoted: true,
            },
        });
    }
}

/// A URL's password slot says what the value is: anything but a placeholder, a
/// reference or a default equal to the user name counts.
fn url_password(user: &[u8], p: &[u8]) -> Option<(Kind, i32)> {
    if p.len() < 4 || p.eq_ignore_ascii_case(user) {
        return None;
    }
    let text = std::str::from_utf8(p).ok()?;
    if TEMPLATE_MARKERS.iter().any(|m| text.contains(m))
        || p.starts_with(b"$")
        || p.starts_with(b"%")
        || p.starts_with(b"<")
        || p.starts_with(b"*")
        || p.starts_with(b"{")
    {
        return None;
    }
    // `USER:PASSWORD`, `PASS`: upper-case words are placeholders in docs.
    if p.iter().all(|b| b.is_ascii_uppercase() || *b == b'_') {
        return None;
    }
    if is_placeholder_value(p) {
        return None;
    }
    let shape = value_shape(p, true);
    let kind = match shape {
        Shape::Random => Kind::Random,
        Shape::Hex => Kind::Hex,
        Shape::Uuid => Kind::Uuid,
        Shape::Jwt => Kind::Jwt,
        _ => Kind::Password,
    };
    let weak = match shape {
        Shape::Password(bits) => bits < 20.0,
        Shape::Nothing => p.iter().all(u8::is_ascii_alphabetic) && p.len() < 12,
        _ => false,
    };
    Some((kind, if weak { 55 } else { 85 }))
}

// ------------------------------------------------------------------ place

/// How a path moves the confidence of a generic finding: up where credentials
/// are meant to live or get pasted (env files, CI, container and cluster
/// manifests, credential files), down where values are examples by purpose
/// (tests, fixtures, docs, templates) or not the project's own (vendored,
/// generated, minified).
pub fn place_adjustment(path: &[u8]) -> i32 {
    let lower = path.to_ascii_lowercase();
    let p = lower.as_slice();
    let base = p.rsplit(|&b| b == b'/').next().unwrap_or(p);
    let dirs: Vec<&[u8]> = p.split(|&b| b == b'/').collect();
    let dirs = &dirs[..dirs.len().saturating_sub(1)];
    let in_dir = |names: &[&[u8]]| dirs.iter().any(|d| names.contains(d));
    let ends = |s: &[u8]| base.ends_with(s);
    let has = |s: &[u8]| super::filter::find(base, s).is_some();

    // Templates of configuration: values there are meant to be replaced.
    if [
        &b".example"[..],
        b".sample",
        b".template",
        b".dist",
        b".tmpl",
        b".tpl",
    ]
    .iter()
    .any(|s| ends(s) || has(&[*s, b"."].concat()))
        || has(b"example")
        || has(b"sample")
    {
        return -40;
    }
    let lowered = in_dir(&[
        b"test",
        b"tests",
        b"spec",
        b"specs",
        b"__tests__",
        b"testdata",
        b"test-data",
        b"fixtures",
        b"fixture",
        b"__fixtures__",
        b"mocks",
        b"__mocks__",
        b"testing",
        b"e2e",
        b"docs",
        b"doc",
        b"documentation",
        b"examples",
        b"example",
        b"samples",
        b"vendor",
        b"node_modules",
        b"third_party",
        b"third-party",
        b"thirdparty",
        b"external",
        b"dist",
        b"generated",
        b"gen",
        b"benches",
        b"bench",
        b"demo",
        b"demos",
    ]) || ends(b".md")
        || ends(b".rst")
        || ends(b".adoc")
        || ends(b".txt")
        || ends(b".html")
        || ends(b".ipynb")
        || ends(b".min.js")
        || ends(b".map")
        || ends(b".lock")
        || ends(b"-lock.json")
        || ends(b".sum")
        || ends(b".pb.go")
        || ends(b"_pb2.py")
        || ends(b"_test.go")
        || ends(b"_test.py")
        || ends(b"_spec.rb")
        || ends(b"_test.rb")
        || base.starts_with(b"test_")
        || base.starts_with(b"conftest")
        || has(b".test.")
        || has(b".spec.")
        || has(b"test.java")
        || has(b"tests.cs")
        || has(b"test.kt")
        || has(b"mock")
        || has(b"fixture")
        || has(b".generated.");
    if lowered {
        return -30;
    }
    let credential_file = base.starts_with(b".env")
        || ends(b".env")
        || [
            &b".netrc"[..],
            b"_netrc",
            b"netrc",
            b".pgpass",
            b"pgpass",
            b".npmrc",
            b".pypirc",
            b".git-credentials",
            b".s3cfg",
            b"s3cfg",
            b".htpasswd",
            b"htpasswd",
            b"credentials",
            b".dockercfg",
            b"sitemanager.xml",
            b"settings.xml",
            b"wp-config.php",
            b"database.yml",
            b"secrets.yml",
            b"secrets.yaml",
            b".gitlab-ci.yml",
            b"jenkinsfile",
            b".travis.yml",
            b"bitbucket-pipelines.yml",
            b"azure-pipelines.yml",
            b"dockerfile",
        ]
        .contains(&base)
        || ends(b".tfvars")
        || ends(b".dockerfile")
        || base.starts_with(b"dockerfile")
        || base.starts_with(b"docker-compose")
        || base.starts_with(b"compose.")
        || ends(b".gitlab-ci.yml")
        || (base == b"config.json" && in_dir(&[b".docker"]))
        || in_dir(&[
            b"workflows",
            b".circleci",
            b"k8s",
            b"kubernetes",
            b"helm",
            b"charts",
            b"manifests",
            b".aws",
            b".docker",
            b"secrets",
        ]);
    if credential_file {
        20
    } else {
        0
    }
}

/// Source code, where an unquoted value is an expression (a type, a variable),
/// never a literal.
pub fn is_source_code(path: &[u8]) -> bool {
    const EXTENSIONS: &[&[u8]] = &[
        b"rs", b"c", b"h", b"cc", b"cpp", b"cxx", b"hpp", b"hh", b"hxx", b"m", b"mm", b"go",
        b"java", b"kt", b"kts", b"scala", b"swift", b"cs", b"fs", b"vb", b"py", b"pyi", b"rb",
        b"php", b"js", b"mjs", b"cjs", b"jsx", b"ts", b"tsx", b"dart", b"lua", b"pl", b"pm", b"r",
        b"jl", b"ex", b"exs", b"erl", b"hs", b"ml", b"clj", b"groovy", b"gradle", b"zig", b"nim",
        b"sol", b"vue", b"svelte",
    ];
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    base.rsplit(|&b| b == b'.')
        .next()
        .filter(|ext| ext.len() < base.len())
        .is_some_and(|ext| EXTENSIONS.contains(&ext.to_ascii_lowercase().as_slice()))
}

/// Severity of a generic finding at a place: block, warn, or nothing.
pub fn decide(assessment: &Assessment, path: &[u8]) -> Option<crate::rules::Severity> {
    if !assessment.quoted && is_source_code(path) {
        return None;
    }
    let c = assessment.confidence + place_adjustment(path);
    if c >= BLOCK {
        Some(crate::rules::Severity::Block)
    } else if c >= WARN {
        Some(crate::rules::Severity::Warn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
