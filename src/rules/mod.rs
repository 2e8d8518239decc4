//! The rule catalogue: rules are data (an embedded TOML file), each carrying its own
//! positive and negative examples. This module parses and validates rules and
//! compiles each rule's regex the first time a keyword of that rule is seen, so a
//! commit that touches no candidate pays for no regex compilation.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("builtin.toml");

/// Compiled-program limit for one rule's regex. Generous for real credential
/// patterns, small enough that a pathological pattern fails to compile instead of
/// exhausting memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 2 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the commit (exit 1).
    Block,
    /// Reported, but the commit goes through.
    Warn,
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
    pub keywords: Vec<String>,
    pub regex: String,
    /// Capture group holding the secret; the rest of the pattern is context.
    #[serde(default = "default_group")]
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    pub severity: Severity,
    /// The conventional environment variable to load this credential from.
    #[serde(default)]
    pub env_var: Option<String>,
    /// Provider-specific steps: where to roll or revoke, what to use instead.
    pub remediation: String,
    /// Whether a match may span lines (PEM blocks).
    #[serde(default)]
    pub multiline: bool,
    #[serde(default)]
    pub examples: Vec<Example>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

fn default_group() -> usize {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    rules: Vec<RuleSpec>,
}

#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    regex: OnceLock<Regex>,
}

impl Rule {
    pub fn new(spec: RuleSpec) -> Result<Rule> {
        let rule = Rule {
            spec,
            regex: OnceLock::new(),
        };
        rule.validate()?;
        Ok(rule)
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::Rule {
            id: self.spec.id.clone(),
            message: message.into(),
        }
    }

    fn validate(&self) -> Result<()> {
        let spec = &self.spec;
        if spec.id.is_empty()
            || !spec
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(self.fail("id must be non-empty and use only letters, digits and '-'"));
        }
        if spec.keywords.is_empty() || spec.keywords.iter().any(|k| k.len() < 3) {
            return Err(self.fail(
                "needs at least one keyword, each of 3 or more characters, for the prefilter",
            ));
        }
        if let Some(e) = spec.min_entropy {
            if !(0.0..=8.0).contains(&e) {
                return Err(self.fail("min_entropy must be between 0 and 8 bits per byte"));
            }
        }
        Ok(())
    }

    /// Compiles on first use; later calls are a pointer read.
    pub fn regex(&self) -> Result<&Regex> {
        if let Some(re) = self.regex.get() {
            return Ok(re);
        }
        let re = self.compile()?;
        Ok(self.regex.get_or_init(|| re))
    }

    /// Compiles now, checking that the secret group exists: for rules from files
    /// people edit, where an error must surface at load time, not at the first hit.
    pub fn compile(&self) -> Result<Regex> {
        let re = RegexBuilder::new(&self.spec.regex)
            .unicode(false)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_DFA_LIMIT)
            .build()
            .map_err(|e| self.fail(format!("invalid regex: {e}")))?;
        if self.spec.secret_group >= re.captures_len() {
            return Err(self.fail(format!(
                "secret_group {} does not exist in the regex ({} groups)",
                self.spec.secret_group,
                re.captures_len() - 1
            )));
        }
        Ok(re)
    }

    /// Length of the keyword the secret starts with (`sk_live_`): the part of a
    /// secret that names its kind and may be shown.
    pub fn visible_prefix(&self, secret: &[u8]) -> usize {
        self.spec
            .keywords
            .iter()
            .filter(|k| secret.starts_with(k.as_bytes()))
            .map(|k| k.len())
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug)]
pub struct Catalogue {
    pub rules: Vec<Rule>,
}

impl Catalogue {
    pub fn builtin() -> Result<Catalogue> {
        Catalogue::parse(BUILTIN).map_err(|e| Error::Catalogue(e.to_string()))
    }

    pub fn parse(text: &str) -> Result<Catalogue> {
        let file: CatalogueFile =
            toml::from_str(text).map_err(|e| Error::Catalogue(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for spec in file.rules {
            if !seen.insert(spec.id.clone()) {
                return Err(Error::Rule {
                    id: spec.id,
                    message: "defined twice".into(),
                });
            }
            rules.push(Rule::new(spec)?);
        }
        Ok(Catalogue { rules })
    }

    pub fn get(&self, index: usize) -> &Rule {
        &self.rules[index]
    }
}
