//! The plan: everything `keyward fix` would write, worked out by reading only.
//! Each file is planned whole or not at all; a file that cannot be fixed safely is
//! listed with the reason and left alone. Names are settled against the env file
//! as it is, so a name already there with another value is never overwritten.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::lang::{platform, Language, Platform};
use super::rewrite;
use crate::error::{Error, Result};
use crate::finding::{Finding, Location};
use crate::git::{IndexEntry, Repo};
use crate::report::human::is_env_file;
use crate::report::idiom::language;
use crate::rules::Catalogue;
use crate::secret::Secret;
use crate::text::printable_path;

/// Where the findings were read from, which is what gets fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The index (and the working file where it holds the same key).
    Index,
    /// Files on disk only.
    WorkingTree,
}

/// A file's content before and after.
pub struct Version {
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

pub struct Working {
    pub path: PathBuf,
    /// Permission bits, kept.
    pub mode: u32,
    pub version: Version,
}

pub enum Action {
    /// The keys in it become reads from the environment.
    Rewrite {
        staged: Option<(IndexEntry, Version)>,
        working: Option<Working>,
        /// Why the working file is left as it is, when it is.
        working_left: Option<&'static str>,
    },
    /// An env file: out of the index, ignored, left on disk.
    Untrack { in_index: bool },
}

pub struct FileFix {
    /// Relative to the top of the work tree.
    pub path: Vec<u8>,
    pub action: Action,
    /// (variable, the key redacted, how the code now reads it)
    pub keys: Vec<(String, String)>,
}

/// A whole file written: the env file or `.gitignore`.
pub struct FileWrite {
    pub path: PathBuf,
    pub shown: String,
    pub old: Option<Vec<u8>>,
    pub new: Vec<u8>,
    pub mode: u32,
}

pub struct Refused {
    pub place: String,
    pub key: String,
    pub reason: String,
}

#[derive(Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
    pub refused: Vec<Refused>,
    pub env: Option<FileWrite>,
    /// (variable, key redacted) appended to the env file.
    pub appended: Vec<(String, String)>,
    pub ignore: Option<FileWrite>,
    pub ignored: Vec<String>,
    pub notes: Vec<String>,
    /// Every key the plan touches, to redact whatever is shown.
    pub secrets: Vec<Secret>,
}

impl Plan {
    /// Whether applying this plan fixes every blocking finding.
    pub fn complete(&self) -> bool {
        !self.files.is_empty() && self.refused.is_empty()
    }
}

/// The env file as it is: its variables, in order.
fn env_vars(text: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut out = HashMap::new();
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = line.strip_prefix(b"export ").unwrap_or(line);
        let Some(eq) = memchr::memchr(b'=', line) else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..eq]).trim().to_string();
        let mut value = line[eq + 1..].trim_ascii();
        for q in [b'"', b'\''] {
            if value.len() >= 2 && value[0] == q && value[value.len() - 1] == q {
                value = &value[1..value.len() - 1];
            }
        }
        out.insert(name, value.to_vec());
    }
    out
}

/// `NAME=value` as an env file line, quoted when it must be; `None` when no
/// quoting holds it safely for every reader of env files.
fn env_line(name: &str, value: &[u8]) -> Option<Vec<u8>> {
    let plain = value
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"_-./+=:@~,%".contains(b));
    let mut line = format!("{name}=").into_bytes();
    if plain && !value.is_empty() {
        line.extend_from_slice(value);
    } else if value
        .iter()
        .all(|&b| b != b'\'' && b != b'\n' && b != b'\r' && b >= 0x20)
    {
        line.push(b'\'');
        line.extend_from_slice(value);
        line.push(b'\'');
    } else {
        return None;
    }
    line.push(b'\n');
    Some(line)
}

fn read_optional(path: &Path) -> Result<Option<(Vec<u8>, u32)>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            let data = std::fs::read(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Ok(Some((data, meta.permissions().mode() & 0o7777)))
        }
        Ok(_) => Err(Error::Usage(format!(
            "{} is not a regular file, so keyward fix will not write it",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Terraform variables declared in the other `.tf` files of a module.
fn declared_elsewhere(file: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    let Some(dir) = file.parent() else {
        return all;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return all;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p != file && p.extension().is_some_and(|x| x == "tf") {
            if let Ok(text) = std::fs::read(&p) {
                all.extend_from_slice(&text);
            }
        }
    }
    all
}

struct Names {
    /// The env file's variables and those this plan adds.
    taken: HashMap<String, Vec<u8>>,
}

impl Names {
    fn take(&mut self, var: String, value: &[u8]) {
        self.taken.insert(var, value.to_vec());
    }

    /// The variable a key goes to: `base`, or `base_2`, `base_3`... past names
    /// the env file (or this plan) already gives another value. The second of
    /// the pair says whether it must be appended.
    fn settle(
        &self,
        base: &str,
        value: &[u8],
        terraform: Option<&[u8]>,
        notes: &mut Vec<String>,
        env_shown: &str,
    ) -> (String, bool) {
        for n in 1.. {
            let name = if n == 1 {
                base.to_string()
            } else {
                format!("{base}_{n}")
            };
            let var = match terraform {
                Some(_) => format!("TF_VAR_{}", rewrite::terraform_var(&name)),
                None => name.clone(),
            };
            let declared = terraform.is_some_and(|others| {
                let d = format!("variable \"{}\"", rewrite::terraform_var(&name));
                memchr::memmem::find(others, d.as_bytes()).is_some()
            });
            match self.taken.get(&var) {
                Some(v) if v.as_slice() == value && !declared => return (name, false),
                None if !declared => {
                    if n > 1 {
                        notes.push(format!(
                            "{base} is already taken in {env_shown} or the module with another value: this key is {name}"
                        ));
                    }
                    return (name, true);
                }
                _ => continue,
            }
        }
        unreachable!("some suffix is always free")
    }
}

/// The plan for the blocking `findings`, read from `source`. `base` is the
/// directory finding paths are relative to.
pub fn plan(
    repo: &Repo,
    catalogue: &Catalogue,
    findings: &[&Finding],
    source: Source,
    base: &Path,
    env_file: &Path,
) -> Result<Plan> {
    let root = repo.root().to_path_buf();
    let mut plan = Plan::default();
    let env_rel = env_file
        .strip_prefix(&root)
        .ok()
        .map(|p| p.as_os_str().as_bytes().to_vec());
    let env_shown = match &env_rel {
        Some(rel) => printable_path(rel),
        None => env_file.display().to_string(),
    };
    let env_now = read_optional(env_file)?;
    let mut names = Names {
        taken: env_now
            .as_ref()
            .map(|(text, _)| env_vars(text))
            .unwrap_or_default(),
    };
    let mut appended: Vec<u8> = Vec::new();
    let mut ignore: Vec<Vec<u8>> = Vec::new();

    // The findings of each file, in order.
    let mut order: Vec<&[u8]> = Vec::new();
    let mut by_path: HashMap<&[u8], Vec<&Finding>> = HashMap::new();
    for f in findings {
        let group = by_path.entry(&f.path).or_default();
        if group.is_empty() {
            order.push(&f.path);
        }
        group.push(f);
        plan.secrets.push(f.secret.clone());
    }
    // Where each path is in the index (and the env file, to refuse a tracked one).
    let mut asked: Vec<Vec<u8>> = order
        .iter()
        .filter_map(|p| {
            base.join(std::ffi::OsStr::from_bytes(p))
                .strip_prefix(&root)
                .ok()
                .map(|r| r.as_os_str().as_bytes().to_vec())
        })
        .collect();
    asked.extend(env_rel.clone());
    let index = repo.index_entries(&asked.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
    let mut untracking_env_file = false;
    for path in order {
        let group = &by_path[path];
        let abs = base.join(std::ffi::OsStr::from_bytes(path));
        let shown = printable_path(path);
        let refuse = |plan: &mut Plan, reason: String| {
            for f in group {
                plan.refused.push(Refused {
                    place: match f.line() {
                        Some(l) => format!("{shown}:{l}"),
                        None => shown.clone(),
                    },
                    key: f.secret.redacted(),
                    reason: reason.clone(),
                });
            }
        };
        let Ok(rel) = abs.strip_prefix(&root) else {
            refuse(&mut plan, "outside the work tree".into());
            continue;
        };
        let rel = rel.as_os_str().as_bytes().to_vec();
        let rel_text = printable_path(&rel);
        if let Some(why) = group.iter().find_map(|f| not_plain(f)) {
            refuse(&mut plan, why);
            continue;
        }
        if is_env_file(&rel) {
            let in_index = index.contains_key(&rel);
            if Some(&rel) == env_rel.as_ref() {
                untracking_env_file = true;
            }
            if !repo.is_ignored(&rel)? {
                ignore.push(rel.clone());
            }
            if in_index && repo.head_file(&rel).is_some() {
                plan.notes.push(format!(
                    "{rel_text} is in earlier commits: this takes it out of the next one only, and \
                     the keys in it stay in history; if that history has left this machine, roll them"
                ));
            }
            plan.files.push(FileFix {
                path: rel,
                action: Action::Untrack { in_index },
                keys: Vec::new(),
            });
            continue;
        }
        let Some(lang) = language(&rel_text) else {
            refuse(
                &mut plan,
                "keyward knows no safe way to read the environment in this kind of file".into(),
            );
            continue;
        };
        let staged = match source {
            Source::Index => match index.get(&rel).copied() {
                Some(e) if e.mode == 0o120000 => {
                    refuse(&mut plan, "a symbolic link".into());
                    continue;
                }
                Some(e) => Some((e, repo.read_blob(e.id, &rel)?.to_vec())),
                None => {
                    refuse(&mut plan, "not in the index".into());
                    continue;
                }
            },
            Source::WorkingTree => None,
        };
        let working = match std::fs::symlink_metadata(&abs) {
            Ok(m) if m.is_file() => {
                let mode = m.permissions().mode() & 0o7777;
                let text = std::fs::read(&abs).map_err(|source| Error::Io {
                    path: abs.clone(),
                    source,
                })?;
                Some((mode, text))
            }
            Ok(_) => {
                refuse(&mut plan, "not a regular file in the working tree".into());
                continue;
            }
            Err(_) => None,
        };
        let primary: &[u8] = match (&staged, &working) {
            (Some((_, text)), _) => text,
            (None, Some((_, text))) => text,
            (None, None) => {
                refuse(&mut plan, "not found in the working tree".into());
                continue;
            }
        };
        let working_has_key = working.as_ref().is_some_and(|(_, w)| {
            group
                .iter()
                .any(|f| memchr::memmem::find(w, f.secret.expose()).is_some())
        });
        if let Some((mode, _)) = &working {
            if working_has_key && mode & 0o200 == 0 {
                refuse(
                    &mut plan,
                    format!(
                        "read-only (mode {mode:o}): keyward does not write over that; make it \
                         writable (chmod u+w) and run keyward fix again"
                    ),
                );
                continue;
            }
        }
        // Names, settled against the env file and this plan.
        let others = (lang == Language::Terraform).then(|| declared_elsewhere(&abs));
        // Settled on a copy, kept only if the whole file can be fixed.
        let mut file_names = Names {
            taken: names.taken.clone(),
        };
        let mut keys: Vec<(Vec<u8>, String)> = Vec::new();
        let mut to_append = Vec::new();
        let mut failed = None;
        let mut notes = Vec::new();
        for f in group {
            let located = match rewrite::locate(lang, primary, f.secret.expose()) {
                Ok(l) => l,
                Err(why) => {
                    failed = Some(why);
                    break;
                }
            };
            let rule_env = catalogue.get(f.rule).spec.env_var.as_deref();
            let mut base_name = match (located.code_name, rule_env) {
                (Some(code), Some(rule)) if rewrite::is_generic(&code) => rule.to_string(),
                (Some(code), _) => code,
                (None, Some(rule)) => rule.to_string(),
                (None, None) => "API_KEY".to_string(),
            };
            if lang == Language::Yaml && platform(&rel_text) == Platform::GitHubActions {
                // GitHub reserves secret names starting GITHUB_.
                if let Some(rest) = base_name.strip_prefix("GITHUB_") {
                    base_name = format!("GH_{rest}");
                }
            }
            let (name, append) = file_names.settle(
                &base_name,
                f.secret.expose(),
                others.as_deref(),
                &mut notes,
                &env_shown,
            );
            let var = if lang == Language::Terraform {
                format!("TF_VAR_{}", rewrite::terraform_var(&name))
            } else {
                name.clone()
            };
            if append {
                let Some(line) = env_line(&var, f.secret.expose()) else {
                    failed = Some(
                        "its value holds quotes or control characters no env file line holds safely"
                            .to_string(),
                    );
                    break;
                };
                file_names.take(var.clone(), f.secret.expose());
                to_append.push((var.clone(), line, f.secret.redacted()));
            }
            keys.push((f.secret.expose().to_vec(), name));
        }
        if let Some(why) = failed {
            refuse(&mut plan, why);
            continue;
        }
        let pairs: Vec<(&[u8], &str)> = keys
            .iter()
            .map(|(s, n)| (s.as_slice(), n.as_str()))
            .collect();
        let new_primary = match rewrite::rewrite(lang, &rel_text, primary, &pairs) {
            Ok(t) => t,
            Err(why) => {
                refuse(&mut plan, why);
                continue;
            }
        };
        let (staged_fix, working_fix, working_left) = match (staged, working) {
            (Some((entry, old)), Some((mode, text))) => {
                let (w, left) = if text == old {
                    (
                        Some(Working {
                            path: abs.clone(),
                            mode,
                            version: Version {
                                old: text,
                                new: new_primary.clone(),
                            },
                        }),
                        None,
                    )
                } else if working_has_key {
                    let present: Vec<(&[u8], &str)> = pairs
                        .iter()
                        .copied()
                        .filter(|(s, _)| memchr::memmem::find(&text, s).is_some())
                        .collect();
                    match rewrite::rewrite(lang, &rel_text, &text, &present) {
                        Ok(new) => (
                            Some(Working {
                                path: abs.clone(),
                                mode,
                                version: Version { old: text, new },
                            }),
                            None,
                        ),
                        Err(why) => {
                            refuse(&mut plan, format!("in the working tree: {why}"));
                            continue;
                        }
                    }
                } else {
                    (None, Some("the working file no longer holds the key"))
                };
                (
                    Some((
                        entry,
                        Version {
                            old,
                            new: new_primary,
                        },
                    )),
                    w,
                    left,
                )
            }
            (Some((entry, old)), None) => (
                Some((
                    entry,
                    Version {
                        old,
                        new: new_primary,
                    },
                )),
                None,
                Some("there is no working file"),
            ),
            (None, Some((mode, text))) => (
                None,
                Some(Working {
                    path: abs.clone(),
                    mode,
                    version: Version {
                        old: text,
                        new: new_primary,
                    },
                }),
                None,
            ),
            (None, None) => unreachable!("checked above"),
        };
        names = file_names;
        for (var, line, redacted) in to_append {
            appended.extend_from_slice(&line);
            plan.appended.push((var, redacted));
        }
        plan.notes.extend(notes);
        match (lang, platform(&rel_text)) {
            (Language::Yaml, Platform::GitHubActions) => plan.notes.push(format!(
                "{rel_text} now reads repository secrets: set each one on GitHub (gh secret set NAME < value, or Settings → Secrets and variables → Actions)"
            )),
            (Language::Yaml, Platform::GitLab) => plan.notes.push(format!(
                "{rel_text} now reads CI/CD variables: set each one, masked and protected, in GitLab (Settings → CI/CD → Variables)"
            )),
            (Language::Yaml, Platform::Interpolating) => plan.notes.push(format!(
                "{rel_text} now holds ${{NAME}} references: Compose reads them from the environment or from .env beside it; check that whatever loads this file interpolates them"
            )),
            (Language::Dockerfile, _) => plan.notes.push(format!(
                "{rel_text} now mounts build secrets: build with docker build --secret id=<name>,env=<NAME> (export the variables from {env_shown} first)"
            )),
            (Language::Terraform, _) => plan.notes.push(format!(
                "{rel_text} now reads sensitive variables: Terraform takes them from TF_VAR_… in the environment (export them from {env_shown})"
            )),
            _ => {}
        }
        plan.files.push(FileFix {
            path: rel,
            keys: group
                .iter()
                .zip(&keys)
                .map(|(f, (_, name))| (name.clone(), f.secret.redacted()))
                .collect(),
            action: Action::Rewrite {
                staged: staged_fix,
                working: working_fix,
                working_left,
            },
        });
    }
    // The env file: keys appended, created private, and kept out of git.
    if !appended.is_empty() {
        if let Some(rel) = &env_rel {
            if index.contains_key(rel) && !untracking_env_file {
                return Err(Error::Usage(format!(
                    "the env file {env_shown} is tracked by git, so a key moved there would be committed; \
                     take it out of git first (git rm --cached {env_shown}) or name another with --env-file"
                )));
            }
            if !repo.is_ignored(rel)? && !ignore.contains(rel) {
                ignore.push(rel.clone());
            }
        }
        let (old, mode) = match env_now {
            Some((text, mode)) => (Some(text), mode),
            None => (None, 0o600),
        };
        // The key would be readable by other users the moment it is written:
        // refused, not noted, since a note comes after the leak.
        if mode & 0o077 != 0 {
            return Err(Error::Fix {
                what: format!("refusing to move keys to {env_shown}"),
                cause: format!(
                    "other users have access to it (mode {mode:o}): chmod 600 {env_shown}, or name another file with --env-file"
                ),
            });
        }
        let mut new = old.clone().unwrap_or_default();
        if !new.is_empty() && !new.ends_with(b"\n") {
            new.push(b'\n');
        }
        new.extend_from_slice(&appended);
        plan.env = Some(FileWrite {
            path: env_file.to_path_buf(),
            shown: env_shown.clone(),
            old,
            new,
            mode,
        });
    }
    if !ignore.is_empty() {
        let path = root.join(".gitignore");
        let (old, mode) = match read_optional(&path)? {
            Some((text, mode)) => (Some(text), mode),
            None => (None, 0o644),
        };
        let mut new = old.clone().unwrap_or_default();
        if !new.is_empty() && !new.ends_with(b"\n") {
            new.push(b'\n');
        }
        for rel in &ignore {
            if rel.contains(&b'\n') || rel.contains(&b'\r') {
                return Err(Error::Usage(format!(
                    "{} has a line break in its name, which .gitignore cannot name; rename it",
                    printable_path(rel)
                )));
            }
            // Anchored, and with git's special characters escaped, so the
            // pattern names this one file.
            let mut pattern = b"/".to_vec();
            for &b in rel {
                if b"*?[\\!# ".contains(&b) {
                    pattern.push(b'\\');
                }
                pattern.push(b);
            }
            pattern.push(b'\n');
            new.extend_from_slice(&pattern);
            plan.ignored.push(printable_path(rel));
        }
        plan.ignore = Some(FileWrite {
            path,
            shown: ".gitignore".into(),
            old,
            new,
            mode,
        });
    }
    Ok(plan)
}

/// Why a finding is not plain text keyward can put its finger on, if it is not.
fn not_plain(f: &Finding) -> Option<String> {
    if let Some(how) = &f.encoding {
        return Some(format!(
            "{how}: undo that by hand, then run keyward fix again"
        ));
    }
    if f.member.is_some() {
        return Some("inside an archive".into());
    }
    match f.location {
        Location::Text { .. } => None,
        Location::Binary { .. } => Some("a binary file".into()),
        Location::Path => Some("in the file's name: rename the file".into()),
    }
}
