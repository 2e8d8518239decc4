//! The rule catalogue: rules are data (an embedded TOML file, extended by a
//! project's `.keyward.toml`), each carrying its own positive and negative examples.
//! This module parses and validates rules, and compiles each rule's regex the first
//! time one of its keywords is seen, so a commit that touches no candidate pays for
//! no regex compilation.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("builtin.toml");
pub const BUILTIN_NAME: &str = "built-in rules";

/// Compiled-program limit for one rule's regex. Generous for real credential
/// patterns, small enough that a pathological pattern fails to compile instead of
/// exhausting memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 2 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the commit (exit 1).
    #[default]
    Block,
    /// Reported, but the commit goes through.
    Warn,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Block => "block",
            Severity::Warn => "warn",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// A line as it would appear in a file.
    pub input: String,
    /// The secret the rule must extract from it.
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub description: String,
    /// Literals for the prefilter, matched ASCII-case-insensitively. A rule's regex
    /// only ever runs on a line holding one of them.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The pattern a keyword line is confirmed with; group `secret_group` is the
    /// secret. Empty for a rule with an `engine`.
    #[serde(default = "no_pattern")]
    pub regex: toml::Spanned<String>,
    /// Confirms keyword lines with a built-in extractor and scorer instead of a
    /// regex (see `scan::generic`): the rule's keywords still feed the one
    /// keyword pass, its examples still run through the checker, and its
    /// severity is a ceiling on what the model decides per match.
    #[serde(default)]
    pub engine: Option<Engine>,
    /// Capture group holding the secret; the rest of the pattern is context.
    #[serde(default = "default_group")]
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    #[serde(default)]
    pub severity: Severity,
    /// The conventional environment variable to load this credential from.
    #[serde(default)]
    pub env_var: Option<String>,
    /// Provider-specific steps: where to roll or revoke, what to use instead.
    #[serde(default)]
    pub remediation: String,
    /// Whether a match may span lines (PEM blocks).
    #[serde(default)]
    pub multiline: bool,
    /// Path globs the rule is limited to; empty means every path.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Words that, inside a secret (ignoring ASCII case), mark it as not one.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Whether the generic placeholder filter applies (runs of one character,
    /// `example`, ...). Off for key blocks, whose base64 of binary structures
    /// holds long runs of `A` by nature; their entropy floor does that job.
    #[serde(default = "yes")]
    pub placeholder_filter: bool,
    /// A catch-all rule (the generic assignment rule): its match is dropped where
    /// a specific rule matched the same bytes, so one secret is one finding,
    /// reported under the rule whose remediation fits it.
    #[serde(default)]
    pub fallback: bool,
    /// The secret must not continue an identifier: the byte before it is not a
    /// letter, digit or `_`, unless it ends an escape or an encoding (`\n`,
    /// `%22`, `\u0022`, `\x22`), which is where keys sit in logs, JSON and URLs.
    /// So `risk_live_…` is not a Stripe key, and `\nsk_live_…` still is.
    #[serde(default)]
    pub boundary: bool,
    /// A structural check of the secret beyond its regex.
    #[serde(default)]
    pub shape: Option<Shape>,
    /// Regexes over the secret that mark it as not one (hashes, UUIDs).
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub examples: Vec<Example>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn no_pattern() -> toml::Spanned<String> {
    toml::Spanned::new(0..0, String::new())
}

/// The built-in confirm steps a rule may use instead of a regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// A value assigned to a name, in any syntax (code, config, env files,
    /// credential files, command lines), weighed by the generic model.
    Assignment,
    /// The password of a URL's `user:password@` part, any scheme.
    Url,
}

fn default_group() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// Structural checks a rule can ask for, where a regex alone cannot tell a key
/// from its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// A PEM block in any layout: between its BEGIN and END lines, once layout
    /// (whitespace, `\n` escapes, quotes, concatenation) is set aside, a body of
    /// base64 long and random enough to be a key, not `...` or `XXXX`.
    Pem,
}

/// A key published in a provider's documentation: matching it is worth a warning
/// (someone copied the docs) but never a block.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicExample {
    pub secret: String,
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    rules: Vec<RuleSpec>,
    #[serde(default)]
    public_examples: Vec<PublicExample>,
}

#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    /// Where the rule came from (a config path, or the built-in catalogue), and
    /// that file's text, to place errors at a line and column.
    origin: std::sync::Arc<Origin>,
    regex: OnceLock<Regex>,
}

#[derive(Debug)]
pub struct Origin {
    pub name: String,
    pub text: String,
}

impl Origin {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> std::sync::Arc<Origin> {
        std::sync::Arc::new(Origin {
            name: name.into(),
            text: text.into(),
        })
    }

    /// 1-based line and column of a byte offset in the file.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text.as_bytes()[..offset.min(self.text.len())];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = 1 + String::from_utf8_lossy(&before[start..]).chars().count();
        (line, column)
    }
}

impl Rule {
    pub fn new(spec: RuleSpec, origin: std::sync::Arc<Origin>) -> Rule {
        Rule {
            spec,
            origin,
            regex: OnceLock::new(),
        }
    }

    /// The same rule with a changed spec (an override that keeps the pattern).
    pub fn with_spec(self, spec: RuleSpec) -> Rule {
        Rule::new(spec, self.origin)
    }

    /// An error placed at this rule's pattern in the file it came from.
    pub fn fail(&self, message: impl Into<String>) -> Error {
        // An engine rule has no pattern: its id's line places the error.
        let at = if self.spec.regex.get_ref().is_empty() {
            self.origin
                .text
                .find(&format!("\"{}\"", self.spec.id))
                .or_else(|| self.origin.text.find(&format!("'{}'", self.spec.id)))
                .unwrap_or(0)
        } else {
            self.spec.regex.span().start
        };
        let (line, column) = self.origin.line_col(at);
        Error::Rule {
            origin: self.origin.name.clone(),
            builtin: self.origin.name == BUILTIN_NAME,
            line,
            column,
            id: self.spec.id.clone(),
            message: message.into(),
        }
    }

    /// Checks what can be checked without compiling. `require_keywords` is off only
    /// for imported rules that never had keywords (they then run on every line).
    pub fn validate(&self, require_keywords: bool) -> Result<()> {
        let spec = &self.spec;
        if spec.id.is_empty()
            || !spec
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            return Err(
                self.fail("id must be non-empty and use only letters, digits, '-', '_' and '.'")
            );
        }
        if require_keywords && spec.keywords.is_empty() {
            return Err(self.fail("needs at least one keyword for the prefilter"));
        }
        match (spec.engine, spec.regex.get_ref().is_empty()) {
            (None, true) => return Err(self.fail("needs a regex (or an engine)")),
            (Some(_), false) => {
                return Err(self.fail("a rule with an engine has no regex: drop one of them"))
            }
            _ => {}
        }
        if spec.keywords.iter().any(|k| k.len() < 3) {
            return Err(self.fail("keywords must be 3 or more characters long"));
        }
        if spec.keywords.iter().any(|k| k.contains('\n')) {
            return Err(self.fail("keywords cannot span lines"));
        }
        if let Some(e) = spec.min_entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(self.fail("min_entropy must be between 0 and 8 bits per byte"));
            }
        }
        Ok(())
    }

    /// Compiles on first use, once; later calls are a pointer read. Rules from
    /// files people edit are compiled at load time through this too, so an error
    /// surfaces then, and the regex is not compiled a second time at the first hit.
    pub fn regex(&self) -> Result<&Regex> {
        if let Some(re) = self.regex.get() {
            return Ok(re);
        }
        let re = build_regex(self.spec.regex.get_ref())
            .map_err(|e| self.fail(format!("invalid regex: {e}")))?;
        if self.spec.secret_group >= re.captures_len() {
            return Err(self.fail(format!(
                "secret_group {} does not exist in the regex ({})",
                self.spec.secret_group,
                crate::text::plural(re.captures_len() - 1, "group", "groups")
            )));
        }
        Ok(self.regex.get_or_init(|| re))
    }

    /// Compiles what the rule confirms with: its regex, or nothing for a rule
    /// with an engine (built into keyward).
    pub fn compile(&self) -> Result<()> {
        if self.spec.engine.is_none() {
            self.regex()?;
        }
        Ok(())
    }

    /// Where the rule came from: the built-in catalogue or a configuration path.
    pub fn origin(&self) -> &str {
        &self.origin.name
    }

    /// The service whose credential this rule finds: the first word of the rule
    /// id, by the catalogue's naming convention (`stripe-live-secret-key`), with
    /// the few ids that abbreviate the name spelled out. None for rules about a
    /// kind of secret rather than a service (private keys, passwords in URLs and
    /// connection strings, generic assignments).
    pub fn provider(&self) -> Option<&str> {
        const NONE: &[&str] = &[
            "private",
            "putty",
            "generic",
            "url",
            "database",
            "pgpass",
            "jdbc",
            "connection",
        ];
        const SPELLED: &[(&str, &str)] = &[
            ("gcp", "google"),
            ("npmrc", "npm"),
            ("fly", "fly.io"),
            ("crates", "crates.io"),
        ];
        let first = self.spec.id.split(['-', '_', '.']).next().unwrap_or("");
        if first.is_empty() || self.spec.engine.is_some() || NONE.contains(&first) {
            return None;
        }
        Some(
            SPELLED
                .iter()
                .find(|(short, _)| *short == first)
                .map_or(first, |(_, name)| name),
        )
    }

    /// Length of the keyword the secret starts with (`sk_live_`): the part of a
    /// secret that names its kind and may be shown.
    pub fn visible_prefix(&self, secret: &[u8]) -> usize {
        self.spec
            .keywords
            .iter()
            .filter(|k| {
                secret.len() >= k.len() && secret[..k.len()].eq_ignore_ascii_case(k.as_bytes())
            })
            .map(|k| k.len())
            .max()
            .unwrap_or(0)
    }
}

/// Every regex keyward runs (rule patterns, rule allow lists, configuration
/// allowlists) is built here: bytes, not Unicode (keys are ASCII and files need not
/// be UTF-8), with size limits, so a hostile pattern fails to compile instead of
/// exhausting memory. The error is one line, ready to be placed at a file position.
pub fn build_regex(pattern: &str) -> std::result::Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| one_line(&e.to_string()))
}

/// regex errors are multi-line drawings; the error report wants one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Default)]
pub struct Catalogue {
    pub rules: Vec<Rule>,
    pub public_examples: Vec<PublicExample>,
}

impl Catalogue {
    pub fn builtin() -> Result<Catalogue> {
        let origin = Origin::new(BUILTIN_NAME, BUILTIN);
        let file: CatalogueFile =
            toml::from_str(BUILTIN).map_err(|e| Error::Catalogue(e.to_string()))?;
        let mut catalogue = Catalogue {
            rules: Vec::new(),
            public_examples: file.public_examples,
        };
        for spec in file.rules {
            catalogue.add(Rule::new(spec, origin.clone()), true)?;
        }
        Ok(catalogue)
    }

    /// Adds a rule, refusing a second rule with the same id.
    pub fn add(&mut self, rule: Rule, require_keywords: bool) -> Result<()> {
        rule.validate(require_keywords)?;
        if self.position(&rule.spec.id).is_some() {
            return Err(
                rule.fail("a rule with this id already exists (use [[override]] to change it)")
            );
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Adds a rule from a file people edit: its regex is compiled now, so a bad
    /// one is an error at load time rather than at its first keyword hit.
    pub fn add_checked(&mut self, rule: Rule, require_keywords: bool) -> Result<()> {
        rule.compile()?;
        self.add(rule, require_keywords)
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.spec.id == id)
    }

    pub fn get(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    pub fn is_public_example(&self, secret: &[u8]) -> Option<&PublicExample> {
        self.public_examples
            .iter()
            .find(|p| p.secret.as_bytes() == secret)
    }
}
