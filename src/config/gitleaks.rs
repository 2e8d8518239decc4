//! Reading a gitleaks TOML config, so a team can switch without rewriting its
//! custom rules. What maps onto keyward is converted; what does not is named in a
//! warning, never dropped silently. Anything that would widen what is allowed
//! without keyward being able to honour it exactly is left out (and named), so an
//! import can add findings but never hide one.

use serde::Deserialize;

use super::{AllowlistSpec, ConfigFile};
use crate::rules::{RuleSpec, Severity};

/// Keys only gitleaks configs have.
pub fn looks_like_gitleaks(table: &toml::Table) -> bool {
    if ["title", "extend", "allowlists"]
        .iter()
        .any(|k| table.contains_key(*k))
    {
        return true;
    }
    if let Some(toml::Value::Table(a)) = table.get("allowlist") {
        if ["regexes", "regexTarget", "commits", "description"]
            .iter()
            .any(|k| a.contains_key(*k))
        {
            return true;
        }
    }
    let gitleaks_rule_keys = [
        "secretGroup",
        "entropy",
        "path",
        "tags",
        "allowlist",
        "allowlists",
    ];
    match table.get("rules") {
        Some(toml::Value::Array(rules)) => rules.iter().any(|r| {
            r.as_table()
                .is_some_and(|t| gitleaks_rule_keys.iter().any(|k| t.contains_key(*k)))
        }),
        _ => false,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<GRule>,
    #[serde(default)]
    allowlist: Option<GAllowlist>,
    #[serde(default)]
    allowlists: Vec<GAllowlist>,
    #[serde(flatten)]
    other: toml::Table,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extend {
    #[serde(default)]
    use_default: bool,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    disabled_rules: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<toml::Spanned<String>>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    allowlist: Option<GAllowlist>,
    #[serde(default)]
    allowlists: Vec<GAllowlist>,
    #[serde(flatten)]
    other: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GAllowlist {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<toml::Spanned<String>>,
    #[serde(default)]
    paths: Vec<toml::Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    commits: Vec<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    target_rules: Vec<String>,
    #[serde(flatten)]
    other: toml::Table,
}

fn unknown(other: &toml::Table, place: &str, warnings: &mut Vec<String>) {
    for key in other.keys() {
        warnings.push(format!(
            "gitleaks config: {place}{key} is not supported; ignored"
        ));
    }
}

/// Converts the text of a gitleaks config; errors are (byte offset, message).
pub fn convert(text: &str, warnings: &mut Vec<String>) -> Result<ConfigFile, (usize, String)> {
    let file: File = toml::from_str(text).map_err(|e| {
        (
            e.span().map_or(0, |s| s.start),
            format!("gitleaks config: {}", e.message().trim()),
        )
    })?;
    let _ = file.title;
    unknown(&file.other, "", warnings);
    let mut out = ConfigFile::default();
    match file.extend {
        Some(extend) => {
            out.use_default_rules = Some(extend.use_default);
            if extend.path.is_some() || extend.url.is_some() {
                warnings.push(
                    "gitleaks config: [extend] path/url is not supported; only this file is read"
                        .into(),
                );
            }
            out.disabled_rules = extend.disabled_rules;
        }
        None => {
            // gitleaks' own rule: a config without [extend] useDefault replaces the
            // defaults. Said out loud, since keyward's defaults are what go.
            out.use_default_rules = Some(false);
            warnings.push(
                "gitleaks config without [extend] useDefault = true: only its own rules run and \
                 keyward's built-in rules are off (add [extend] useDefault = true to keep them)"
                    .into(),
            );
        }
    }
    for rule in file.rules {
        if let Some(spec) = convert_rule(rule, warnings) {
            out.rules.push(spec);
        }
    }
    let mut global: Vec<GAllowlist> = file.allowlists;
    global.extend(file.allowlist);
    for list in global {
        merge_allowlist(&mut out.allowlist, list, "[allowlist]", warnings);
    }
    Ok(out)
}

fn convert_rule(rule: GRule, warnings: &mut Vec<String>) -> Option<RuleSpec> {
    let place = format!("rule '{}': ", rule.id);
    unknown(&rule.other, &place, warnings);
    let _ = rule.tags;
    let Some(regex) = rule.regex else {
        warnings.push(format!(
            "gitleaks config: {place}has no regex (a path-only rule); not imported"
        ));
        return None;
    };
    if let Some(path) = rule.path {
        warnings.push(format!(
            "gitleaks config: {place}path = '{path}' (a regex) is not supported; the rule applies to every path"
        ));
    }
    let mut stopwords = Vec::new();
    let mut lists = rule.allowlists;
    lists.extend(rule.allowlist);
    for list in lists {
        stopwords.extend(list.stopwords.iter().cloned());
        let dropped =
            !list.regexes.is_empty() || !list.paths.is_empty() || !list.commits.is_empty();
        if dropped {
            warnings.push(format!(
                "gitleaks config: {place}allowlist regexes/paths/commits are not supported per rule; \
                 not applied (the rule may report more)"
            ));
        }
        unknown(&list.other, &place, warnings);
    }
    let keywords: Vec<String> = rule.keywords.into_iter().filter(|k| k.len() >= 3).collect();
    if keywords.is_empty() {
        warnings.push(format!(
            "gitleaks config: {place}has no keywords of 3+ characters, so its regex runs on every line"
        ));
    }
    Some(RuleSpec {
        description: rule.description.unwrap_or_else(|| rule.id.clone()),
        id: rule.id,
        keywords,
        regex,
        engine: None,
        secret_group: rule.secret_group.unwrap_or(0),
        min_entropy: rule.entropy,
        severity: Severity::Block,
        env_var: None,
        remediation: String::new(),
        multiline: false,
        paths: Vec::new(),
        stopwords,
        allow: Vec::new(),
        placeholder_filter: true,
        boundary: false,
        shape: None,
        fallback: false,
        examples: Vec::new(),
        negative_examples: Vec::new(),
    })
}

fn merge_allowlist(
    into: &mut AllowlistSpec,
    list: GAllowlist,
    place: &str,
    warnings: &mut Vec<String>,
) {
    let _ = list.description;
    unknown(&list.other, &format!("{place} "), warnings);
    if !list.target_rules.is_empty() || list.condition.as_deref() == Some("AND") {
        warnings.push(format!(
            "gitleaks config: {place} targetRules/condition = \"AND\" are not supported; that allowlist was not applied"
        ));
        return;
    }
    if !list.commits.is_empty() {
        warnings.push(format!(
            "gitleaks config: {place} commits are not supported; not applied"
        ));
    }
    match list.regex_target.as_deref() {
        None | Some("secret") => into.secrets.extend(list.regexes),
        Some(other) => {
            if !list.regexes.is_empty() {
                warnings.push(format!(
                    "gitleaks config: {place} regexTarget = \"{other}\" is not supported; those regexes were not applied"
                ));
            }
        }
    }
    into.path_regexes.extend(list.paths);
    into.stopwords.extend(list.stopwords);
}
