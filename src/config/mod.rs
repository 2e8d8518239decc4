//! `.keyward.toml`: a project's rules, overrides of the built-ins, allowlists and
//! limits. A committed config is untrusted input: it is parsed strictly (unknown
//! fields are errors), every regex in it is compiled at load time with size limits,
//! and any error names the file, line and column. A config that cannot be read
//! stops keyward (exit 2); it is never skipped silently.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::{Catalogue, Origin, Rule, RuleSpec, Severity};

mod gitleaks;

pub const FILE_NAME: &str = ".keyward.toml";

/// Default size above which a file is named as not scanned instead of read. A
/// check holds one blob in memory at a time, so this is also its memory bound.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024 * 1024;

/// Bounds on what a config may ask for, so a hostile one cannot make every
/// commit slow or exhaust memory.
const MAX_RULES: usize = 2_000;
const MAX_KEYWORDS: usize = 20_000;
const MAX_PATTERN_LEN: usize = 4_096;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// Whether the built-in rules stay on (the default) or only this file's count.
    #[serde(default)]
    pub(crate) use_default_rules: Option<bool>,
    #[serde(default)]
    pub(crate) disabled_rules: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pub(crate) rules: Vec<RuleSpec>,
    #[serde(default, rename = "override")]
    overrides: Vec<Override>,
    #[serde(default)]
    pub(crate) allowlist: AllowlistSpec,
    #[serde(default)]
    limits: LimitsSpec,
    #[serde(default)]
    fix: FixSpec,
    /// Read by `keyward pre-receive` only (see [`ServerPolicy`]).
    #[serde(default)]
    server: ServerSpec,
}

/// `[fix]`: where `keyward fix` moves keys.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FixSpec {
    /// The env file, relative to the top of the work tree (default `.env`).
    env_file: Option<toml::Spanned<String>>,
}

/// The `[server]` table: what a git server lets a pusher do.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ServerSpec {
    allow_bypass: Option<bool>,
    audit_log: Option<toml::Spanned<String>>,
    time_limit: Option<toml::Spanned<f64>>,
    on_timeout: Option<OnTimeout>,
    inline_markers: Option<bool>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum OnTimeout {
    Reject,
    Accept,
}

/// What `keyward pre-receive` lets a pusher do. Only the server's own config
/// (`git config keyward.config`, or `--config`) sets it; nothing in a pushed
/// tree is read on the server. Every default is the closed one.
#[derive(Debug, Clone)]
pub struct ServerPolicy {
    /// Whether `git push -o keyward.allow=<fingerprint>` lets a named finding
    /// through (each one written to `audit_log`).
    pub allow_bypass: bool,
    /// Where bypasses and accepted timeouts are appended, one JSON line each.
    pub audit_log: Option<PathBuf>,
    /// How long a check may take before the push is decided without it.
    pub time_limit: std::time::Duration,
    /// Whether a push whose check overran is accepted (and audited) rather
    /// than rejected.
    pub accept_on_timeout: bool,
    /// Whether `keyward:allow` markers in pushed content count.
    pub inline_markers: bool,
}

/// The default time limit of a pre-receive check: far above what a push of
/// thousands of commits takes, below the point where a pusher gives up.
pub const DEFAULT_TIME_LIMIT_SECS: f64 = 60.0;

impl Default for ServerPolicy {
    fn default() -> ServerPolicy {
        ServerPolicy {
            allow_bypass: false,
            audit_log: None,
            time_limit: std::time::Duration::from_secs_f64(DEFAULT_TIME_LIMIT_SECS),
            accept_on_timeout: false,
            inline_markers: false,
        }
    }
}

/// Changes to a built-in rule, by id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Override {
    id: toml::Spanned<String>,
    severity: Option<Severity>,
    min_entropy: Option<f64>,
    remediation: Option<String>,
    env_var: Option<String>,
    paths: Option<Vec<String>>,
    keywords: Option<Vec<String>>,
    regex: Option<toml::Spanned<String>>,
    secret_group: Option<usize>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AllowlistSpec {
    /// Globs of paths never scanned (`tests/fixtures/**`).
    #[serde(default)]
    pub paths: Vec<toml::Spanned<String>>,
    /// Regexes over the path, for configs imported from gitleaks.
    #[serde(default)]
    pub path_regexes: Vec<toml::Spanned<String>>,
    /// Regexes: a secret any of them matches is not reported.
    #[serde(default)]
    pub secrets: Vec<toml::Spanned<String>>,
    /// Words: a secret containing one (ignoring ASCII case) is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsSpec {
    /// Bytes; larger files are named as not scanned. 0 means no limit.
    max_file_size: Option<u64>,
    /// What content keyward could not check does to the verdict: `block` (the
    /// default: exit 2) or `warn` (named in the report, let through).
    unscanned: Option<Unscanned>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Unscanned {
    Block,
    Warn,
}

#[derive(Debug)]
pub struct Allowlist {
    paths: GlobSet,
    path_regexes: Vec<Regex>,
    secrets: Vec<Regex>,
    stopwords: Vec<Vec<u8>>,
}

impl Default for Allowlist {
    fn default() -> Allowlist {
        Allowlist {
            paths: GlobSet::empty(),
            path_regexes: Vec::new(),
            secrets: Vec::new(),
            stopwords: Vec::new(),
        }
    }
}

impl Allowlist {
    pub fn path_allowed(&self, path: &[u8]) -> bool {
        (!self.paths.is_empty()
            && self
                .paths
                .is_match(Path::new(std::ffi::OsStr::from_bytes(path))))
            || self.path_regexes.iter().any(|re| re.is_match(path))
    }

    pub fn secret_allowed(&self, secret: &[u8]) -> bool {
        if self.secrets.iter().any(|re| re.is_match(secret)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords
            .iter()
            .any(|w| memchr::memmem::find(&lower, w).is_some())
    }
}

#[derive(Debug)]
pub struct Config {
    pub catalogue: Catalogue,
    pub allowlist: Allowlist,
    pub max_file_size: u64,
    /// Whether content that could not be checked blocks (exit 2).
    pub unscanned_blocks: bool,
    /// The file this came from, if any.
    pub path: Option<PathBuf>,
    /// Things worth saying that do not stop the check (unsupported gitleaks fields).
    pub warnings: Vec<String>,
    /// `[fix] env_file`: where `keyward fix` moves keys, relative to the root.
    pub fix_env_file: Option<PathBuf>,
    /// Whether inline `keyward:allow` markers let a key through (the server's
    /// policy decides this for pushed content).
    pub honour_markers: bool,
    /// The `[server]` table, for `keyward pre-receive`.
    pub server: ServerPolicy,
}

impl Config {
    /// The built-in rules and nothing else.
    pub fn builtin() -> Result<Config> {
        Ok(Config {
            catalogue: Catalogue::builtin()?,
            allowlist: Allowlist::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            unscanned_blocks: true,
            path: None,
            warnings: Vec::new(),
            fix_env_file: None,
            honour_markers: true,
            server: ServerPolicy::default(),
        })
    }

    /// `explicit` (from `--config`) must exist; otherwise `.keyward.toml` at the
    /// repository root is read when present. Nothing else is searched for, so a
    /// clean commit costs one `stat`.
    pub fn load(root: Option<&Path>, explicit: Option<&Path>) -> Result<Config> {
        Config::load_from(root, explicit, &|path| read_if_file(path))
    }

    /// As `load`, with `.keyward.toml` read through `read` (the index, for a
    /// commit: what is being committed decides, not an untracked file).
    pub fn load_from(
        root: Option<&Path>,
        explicit: Option<&Path>,
        read: &dyn Fn(&Path) -> Result<Option<String>>,
    ) -> Result<Config> {
        if let Some(path) = explicit {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            return Config::parse(path, &text);
        }
        let Some(path) = root.map(|r| r.join(FILE_NAME)) else {
            return Config::builtin();
        };
        match read(&path)? {
            Some(text) => Config::parse(&path, &text),
            None => Config::builtin(),
        }
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let origin = Origin::new(path.display().to_string(), text);
        let at = |offset: usize, message: String| {
            let (line, column) = origin.line_col(offset);
            Error::Config {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            at(
                e.span().map_or(0, |s| s.start),
                e.message().trim().to_string(),
            )
        })?;
        let mut warnings = Vec::new();
        let file: ConfigFile = if gitleaks::looks_like_gitleaks(&table) {
            gitleaks::convert(text, &mut warnings)
                .map_err(|(offset, message)| at(offset, message))?
        } else {
            toml::from_str(text).map_err(|e| {
                at(
                    e.span().map_or(0, |s| s.start),
                    e.message().trim().to_string(),
                )
            })?
        };
        let mut config = Config::builtin()?;
        config.path = Some(path.to_path_buf());
        config.warnings = warnings;
        if file.use_default_rules == Some(false) {
            config.catalogue.rules.clear();
        }
        let imported = gitleaks::looks_like_gitleaks(&table);
        let mut disabled = std::collections::HashSet::new();
        for id in &file.disabled_rules {
            match config.catalogue.position(id.get_ref()) {
                Some(_) => {
                    disabled.insert(id.get_ref().as_str());
                }
                None if imported => config.warnings.push(format!(
                    "disabledRules: '{}' is a gitleaks rule id keyward does not have; ignored",
                    id.get_ref()
                )),
                None => {
                    return Err(at(
                        id.span().start,
                        format!(
                            "disabled_rules: no rule '{}'{}",
                            id.get_ref(),
                            did_you_mean(&config.catalogue, id.get_ref())
                        ),
                    ));
                }
            }
        }
        config
            .catalogue
            .rules
            .retain(|r| !disabled.contains(r.spec.id.as_str()));
        for o in file.overrides {
            let index = config.catalogue.position(o.id.get_ref()).ok_or_else(|| {
                at(
                    o.id.span().start,
                    format!(
                        "[[override]]: no rule '{}'{}",
                        o.id.get_ref(),
                        did_you_mean(&config.catalogue, o.id.get_ref())
                    ),
                )
            })?;
            let old = config.catalogue.rules.remove(index);
            let mut spec = old.spec.clone();
            let replaces_pattern = o.regex.is_some() || o.secret_group.is_some();
            if let Some(v) = o.severity {
                spec.severity = v;
            }
            if let Some(v) = o.min_entropy {
                spec.min_entropy = Some(v);
            }
            if let Some(v) = o.remediation {
                spec.remediation = v;
            }
            if let Some(v) = o.env_var {
                spec.env_var = Some(v);
            }
            if let Some(v) = o.paths {
                spec.paths = v;
            }
            if let Some(v) = o.keywords {
                spec.keywords = v;
            }
            if let Some(v) = o.secret_group {
                spec.secret_group = v;
            }
            if let Some(v) = o.regex {
                spec.regex = v;
            } else if replaces_pattern {
                // The span must point into this file for errors to be placed.
                spec.regex = toml::Spanned::new(o.id.span(), spec.regex.into_inner());
            }
            let rule = if replaces_pattern {
                Rule::new(spec, origin.clone())
            } else {
                old.with_spec(spec)
            };
            rule.validate(true)?;
            rule.compile()?;
            config.catalogue.rules.insert(index, rule);
        }
        for spec in file.rules {
            if let Some(i) = config.catalogue.position(&spec.id) {
                if imported {
                    // A gitleaks config that extends the defaults redefines rules by
                    // id; its version wins, as in gitleaks.
                    config.catalogue.rules.remove(i);
                }
            }
            let rule = Rule::new(spec, origin.clone());
            config.catalogue.add_checked(rule, !imported)?;
        }
        check_bounds(&config.catalogue, &origin)?;
        config.allowlist = build_allowlist(file.allowlist, &at)?;
        if let Some(max) = file.limits.max_file_size {
            config.max_file_size = if max == 0 { u64::MAX } else { max };
        }
        if file.limits.unscanned == Some(Unscanned::Warn) {
            config.unscanned_blocks = false;
            config.warnings.push(
                "limits.unscanned = \"warn\": content keyward cannot check is let through".into(),
            );
        }
        config.fix_env_file = file
            .fix
            .env_file
            .map(|f| {
                inside_work_tree(f.get_ref())
                    .map_err(|why| at(f.span().start, format!("fix.env_file: {why}")))
            })
            .transpose()?;
        config.server = server_policy(file.server, path, &at)?;
        config.warnings.extend(switched_off(&config));
        Ok(config)
    }
}

fn server_policy(
    spec: ServerSpec,
    path: &Path,
    at: &dyn Fn(usize, String) -> Error,
) -> Result<ServerPolicy> {
    let mut policy = ServerPolicy {
        allow_bypass: spec.allow_bypass.unwrap_or(false),
        accept_on_timeout: spec.on_timeout == Some(OnTimeout::Accept),
        inline_markers: spec.inline_markers.unwrap_or(false),
        ..ServerPolicy::default()
    };
    if let Some(limit) = spec.time_limit {
        let secs = *limit.get_ref();
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
            return Err(at(
                limit.span().start,
                format!("server.time_limit: {secs} is not a number of seconds between 0 and 86400"),
            ));
        }
        policy.time_limit = std::time::Duration::from_secs_f64(secs);
    }
    // Relative to the config file, so the policy means the same wherever git
    // runs the hook from.
    policy.audit_log = spec.audit_log.as_ref().map(|log| {
        let log = Path::new(log.get_ref());
        match path.parent() {
            Some(dir) if log.is_relative() => dir.join(log),
            _ => log.to_path_buf(),
        }
    });
    // A way past the check that leaves no trace is not offered.
    if policy.audit_log.is_none() && (policy.allow_bypass || policy.accept_on_timeout) {
        return Err(at(
            0,
            "[server]: allow_bypass = true and on_timeout = \"accept\" need audit_log, the file \
             that records each use"
                .into(),
        ));
    }
    Ok(policy)
}

/// Settings that switch keyward off, wholly or for everything: legal, since a team
/// may mean it, but said on every run so nobody is covered without knowing it.
fn switched_off(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let name = config
        .path
        .as_deref()
        .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
    if config.catalogue.rules.is_empty() {
        out.push(format!(
            "{name}: no rules are left (use_default_rules = false, and none of its own): nothing is checked"
        ));
    }
    // Paths of every kind a repository holds: an allowlist that takes them all
    // leaves nothing to scan.
    let samples: [&[u8]; 5] = [
        b"a",
        b"src/main.rs",
        b".env",
        b"deploy/k8s/secret.yaml",
        b".github/workflows/ci.yml",
    ];
    if samples.iter().all(|p| config.allowlist.path_allowed(p)) {
        out.push(format!(
            "{name}: allowlist.paths takes every path: no file is scanned"
        ));
    }
    // Secrets of every shape: an allowlist (regex or stopword) that takes them
    // all lets every key through.
    let secrets: [&[u8]; 4] = [
        b"Zq8xW2pL9mK4vR7tYb3n",
        b"hunter2",
        b"0f1e2d3c4b5a69788796a5b4",
        b"Ab-Cd_Ef.Gh/Ij+Kl=",
    ];
    if secrets.iter().all(|s| config.allowlist.secret_allowed(s)) {
        out.push(format!(
            "{name}: allowlist.secrets or allowlist.stopwords take every secret: no key blocks"
        ));
    }
    out
}

/// `; did you mean 'x'?` for the rule id nearest to an unknown one, when one is
/// near (a typo, not another rule).
fn did_you_mean(catalogue: &Catalogue, unknown: &str) -> String {
    let nearest = catalogue
        .rules
        .iter()
        .map(|r| (edit_distance(unknown, &r.spec.id), &r.spec.id))
        .min();
    match nearest {
        Some((d, id)) if d <= 3.max(unknown.len() / 4) => format!("; did you mean '{id}'?"),
        _ => "; `keyward rules list` lists them".to_string(),
    }
}

/// Levenshtein distance, on bytes; ids are short, so quadratic is fine.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A file's text, or `None` when there is no such file.
pub fn read_if_file(path: &Path) -> Result<Option<String>> {
    if !path.is_file() {
        return Ok(None);
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn check_bounds(catalogue: &Catalogue, origin: &Arc<Origin>) -> Result<()> {
    let keywords: usize = catalogue.rules.iter().map(|r| r.spec.keywords.len()).sum();
    let too_long = catalogue
        .rules
        .iter()
        .flat_map(|r| r.spec.keywords.iter())
        .any(|k| k.len() > MAX_PATTERN_LEN);
    if catalogue.rules.len() > MAX_RULES || keywords > MAX_KEYWORDS || too_long {
        return Err(Error::Config {
            path: PathBuf::from(&origin.name),
            line: 1,
            column: 1,
            message: format!(
                "too much to check on every commit: {} rules and {keywords} keywords \
                 (at most {MAX_RULES} rules, {MAX_KEYWORDS} keywords of {MAX_PATTERN_LEN} bytes)",
                catalogue.rules.len()
            ),
        });
    }
    Ok(())
}

fn build_allowlist(spec: AllowlistSpec, at: &dyn Fn(usize, String) -> Error) -> Result<Allowlist> {
    let mut globs = GlobSetBuilder::new();
    for p in &spec.paths {
        let glob = Glob::new(p.get_ref())
            .map_err(|e| at(p.span().start, format!("allowlist.paths: {e}")))?;
        globs.add(glob);
    }
    let paths = globs
        .build()
        .map_err(|e| at(0, format!("allowlist.paths: {e}")))?;
    let compile = |list: &[toml::Spanned<String>], field: &str| -> Result<Vec<Regex>> {
        list.iter()
            .map(|s| {
                crate::rules::build_regex(s.get_ref()).map_err(|e| {
                    at(
                        s.span().start,
                        format!("allowlist.{field}: invalid regex: {e}"),
                    )
                })
            })
            .collect()
    };
    let secrets = compile(&spec.secrets, "secrets")?;
    let path_regexes = compile(&spec.path_regexes, "path_regexes")?;
    let stopwords = spec
        .stopwords
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase().into_bytes())
        .collect();
    Ok(Allowlist {
        paths,
        path_regexes,
        secrets,
        stopwords,
    })
}

/// Compiles a list of globs (rule path filters).
pub fn globset(patterns: &[String]) -> std::result::Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p)?);
    }
    b.build()
}

/// `[fix] env_file`, checked: a committed config is written by whoever last
/// changed it, and `keyward fix` writes the full key to this file, so the setting
/// may only name a file inside the work tree (relative to its top, no `..` out of
/// it). Only `--env-file`, typed by the person running the command, reaches
/// further. The path comes back with `.` and inner `..` taken out.
fn inside_work_tree(value: &str) -> std::result::Result<PathBuf, String> {
    use std::path::Component;
    const FIX: &str = "name a file inside the work tree, relative to its top (keyward fix \
                       --env-file <path> names one elsewhere for a single run)";
    let mut out = PathBuf::new();
    for part in Path::new(value).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            // `pop` is false at the top: this `..` would leave the work tree.
            Component::ParentDir => {
                if !out.pop() {
                    return Err(format!("{value:?} leads out of the work tree: {FIX}"));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("{value:?} is an absolute path: {FIX}"));
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(format!("{value:?} names no file: {FIX}"));
    }
    Ok(out)
}
