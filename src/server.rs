//! `keyward pre-receive`: the check a git server runs on every push. The server's
//! policy (its own config, named by `git config keyward.config` or `--config`)
//! decides everything; nothing in the pushed trees is read as configuration, so a
//! pushed `.keyward.toml`, baseline or `.gitleaksignore` changes nothing here, and
//! inline allow markers count only where the policy says so. The two ways past a
//! finding are narrow and leave a trace: a push option naming findings by
//! fingerprint, and (where the policy accepts it) a check that overran its time
//! limit. Each is appended to the policy's audit log, never with the secret.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::mpsc;

use crate::baseline::Baseline;
use crate::cli::Common;
use crate::config::{Config, ServerPolicy};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::git;
use crate::pipeline::{NotScanned, Pipeline, Results};
use crate::report::Mode;
use crate::text::{printable_path, printable_text};
use crate::Outcome;

/// The push options keyward reads (git passes them to the hook when the server
/// sets `receive.advertisePushOptions`).
#[derive(Debug, Default)]
struct PushOptions {
    allow: Vec<String>,
    reason: Option<String>,
}

impl PushOptions {
    fn from_env() -> PushOptions {
        let mut out = PushOptions::default();
        let count: usize = std::env::var("GIT_PUSH_OPTION_COUNT")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        for n in 0..count {
            let Ok(option) = std::env::var(format!("GIT_PUSH_OPTION_{n}")) else {
                continue;
            };
            if let Some(list) = option.strip_prefix("keyward.allow=") {
                out.allow.extend(
                    list.split([',', ' '])
                        .filter(|f| !f.is_empty())
                        .map(|f| f.to_ascii_lowercase()),
                );
            } else if let Some(reason) = option.strip_prefix("keyward.reason=") {
                out.reason = Some(reason.trim().to_string()).filter(|r| !r.is_empty());
            }
        }
        out
    }
}

/// Who pushed, as the server authenticated them: the forge's variable when
/// there is one, else the web server's, else the account the hook runs as.
/// Never a commit's author, which the pusher writes.
fn pusher() -> (String, &'static str) {
    for var in ["GL_USERNAME", "GITEA_PUSHER_NAME", "REMOTE_USER"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            return (v, var);
        }
    }
    for var in ["USER", "LOGNAME"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            return (v, "os-user");
        }
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_else(|| "unknown".into());
    (format!("uid {uid}"), "os-user")
}

/// What the scan thread hands back.
struct Scanned {
    results: Results,
    pipeline: Pipeline,
    /// Per finding-bearing commit (hex) or tag/blob place, its ref update.
    commit_refs: HashMap<String, usize>,
    other_refs: HashMap<Vec<u8>, usize>,
}

pub(crate) fn pre_receive(common: &Common) -> Result<Outcome> {
    check(common).map_err(|e| match e {
        Error::Rejected(_) => e,
        // The client-side hints (fix the commit, --no-verify) mean nothing to
        // a pusher: a server hook cannot be skipped, and only its admins can
        // mend what stopped it.
        other => Error::Rejected(format!(
            "{other}; nothing was checked, so the push is rejected (the server's administrators can fix this; no client option skips a server hook)"
        )),
    })
}

fn check(common: &Common) -> Result<Outcome> {
    let started = std::time::Instant::now();
    let updates = git::parse_received(&crate::hook_input(
        "pre-receive reads git's '<old> <new> <ref>' lines on standard input",
    )?)?;
    let repo = git::Repo::open_from_env()?;
    let config_path = match &common.config {
        Some(p) => Some(p.clone()),
        None => repo.config_path("keyward.config")?,
    };
    // Only the server's file: no root is given, so no .keyward.toml is looked
    // for anywhere, and the pushed trees are never read as configuration.
    let mut config = Config::load_from(None, config_path.as_deref(), &|_: &Path| Ok(None))?;
    config.honour_markers = config.server.inline_markers;
    let policy = config.server.clone();
    let baseline = match &common.baseline {
        Some(p) => Baseline::load(None, Some(p))?,
        None => Baseline::default(),
    };
    let mode = Mode::PreReceive {
        bypass: policy.allow_bypass,
        markers: policy.inline_markers,
    };
    let names: Vec<String> = updates.iter().map(|u| u.name.clone()).collect();
    if updates.iter().all(git::ReceivedRef::deletes) {
        return super::emit(common, mode, None);
    }
    let location = repo.location();
    drop(repo);
    let (tx, rx) = mpsc::channel();
    let thread_names = names.clone();
    // The check runs on its own thread so the deadline holds whatever it is
    // doing; on overrun this thread decides, and the process exits with it.
    std::thread::spawn(move || {
        let _ = tx.send(scan(&location, &updates, &thread_names, config, baseline));
    });
    let left = policy.time_limit.saturating_sub(started.elapsed());
    let scanned = match rx.recv_timeout(left) {
        Ok(scanned) => scanned?,
        Err(mpsc::RecvTimeoutError::Timeout) => return overran(&policy, &names),
        // The check died (a panic, already reported): never a timeout, which
        // a policy may accept.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(Error::Rejected(
                "the check of this push stopped without a verdict (see the line above)".into(),
            ))
        }
    };
    decide(common, mode, &policy, &names, scanned)
}

fn scan(
    location: &git::RepoLocation,
    updates: &[git::ReceivedRef],
    names: &[String],
    config: Config,
    baseline: Baseline,
) -> Result<Scanned> {
    let started = std::time::Instant::now();
    let repo = location.open()?;
    let incoming = repo.incoming(updates)?;
    let walked = started.elapsed();
    let pipeline = Pipeline::new(config, baseline)?;
    let built = started.elapsed();
    let pushed = crate::source::push::blobs(&repo, &incoming, names)?;
    let mut results = pipeline.run(&pushed.blobs, Some(location), None)?;
    git::trace(&format!(
        "pre-receive: {} new commits found in {walked:?}, rules built by {built:?}, checked by {:?}",
        incoming.commits.len(),
        started.elapsed()
    ));
    for &i in &incoming.trees {
        results.not_scanned.push(NotScanned {
            path: format!("({} names a tree)", names[i]).into_bytes(),
            reason: "a ref or tag that names a tree directly is not walked".into(),
        });
    }
    Ok(Scanned {
        results,
        pipeline,
        commit_refs: pushed.commit_refs,
        other_refs: pushed.other_refs,
    })
}

/// The check did not finish in time: rejected, unless the policy accepts such
/// pushes, and then the acceptance is audited. Either way, said.
fn overran(policy: &ServerPolicy, names: &[String]) -> Result<Outcome> {
    let secs = policy.time_limit.as_secs_f64();
    if !policy.accept_on_timeout {
        return Err(Error::Rejected(format!(
            "the check of this push did not finish within {secs} s (server.time_limit), so the push is rejected unchecked; push fewer commits at a time, or ask the server's admin to raise server.time_limit"
        )));
    }
    let (who, via) = pusher();
    let lines: Vec<String> = names
        .iter()
        .map(|name| {
            serde_json::json!({
                "time": now(),
                "event": "timeout-accepted",
                "user": who,
                "identity": via,
                "ref": name,
                "time_limit_secs": secs,
            })
            .to_string()
        })
        .collect();
    append_audit(policy, &lines)?;
    eprintln!(
        "keyward: warning: the check of this push did not finish within {secs} s (server.time_limit); this server's policy accepts such pushes (server.on_timeout = \"accept\"), so it was let through UNCHECKED and recorded in the audit log"
    );
    Ok(Outcome::Clean)
}

fn decide(
    common: &Common,
    mode: Mode,
    policy: &ServerPolicy,
    names: &[String],
    scanned: Scanned,
) -> Result<Outcome> {
    let Scanned {
        mut results,
        mut pipeline,
        commit_refs,
        other_refs,
    } = scanned;
    // The ref that brought a commit (or, for content outside commits, a path).
    let ref_of = |commit: Option<&str>, f: &Finding| -> &str {
        let i = match commit {
            Some(id) => commit_refs.get(id),
            None => other_refs.get(&f.path),
        };
        i.map_or("", |&i| names[i].as_str())
    };
    let options = PushOptions::from_env();
    let mut bypassed: Vec<Finding> = Vec::new();
    if !options.allow.is_empty() {
        if !policy.allow_bypass {
            pipeline.warnings.push(
                "push option keyward.allow is ignored: this server's policy allows no bypass (server.allow_bypass)".into(),
            );
        } else if options.reason.is_none() {
            pipeline.warnings.push(
                "push option keyward.allow is ignored: it needs a reason, -o keyward.reason=\"why\", for the audit log".into(),
            );
        } else {
            let wanted: HashSet<&str> = options.allow.iter().map(String::as_str).collect();
            let (named, kept): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut results.findings)
                .into_iter()
                .partition(|f| f.blocks() && wanted.contains(f.fingerprint.as_str()));
            results.findings = kept;
            bypassed = named;
            let matched: HashSet<&str> = bypassed.iter().map(|f| f.fingerprint.as_str()).collect();
            for fp in &options.allow {
                if !matched.contains(fp.as_str()) {
                    pipeline.warnings.push(format!(
                        "push option keyward.allow names {}, which is no blocking finding of this push",
                        printable_text(&fp.chars().take(16).collect::<String>())
                    ));
                }
            }
        }
    }
    let still_blocked = results.findings.iter().any(Finding::blocks)
        || (!results.not_scanned.is_empty() && pipeline.unscanned_blocks);
    if !bypassed.is_empty() {
        if still_blocked {
            // Nothing is let through while the push is rejected anyway: the
            // audit log records only what reached the repository.
            for f in &bypassed {
                pipeline.warnings.push(format!(
                    "{} is named by keyward.allow and would be let through, but the push is rejected for the rest",
                    describe(f)
                ));
            }
            results.findings.extend(bypassed);
        } else {
            let (who, via) = pusher();
            let reason = options.reason.as_deref().unwrap_or_default();
            // One line per commit a bypassed key arrives in: a key added again
            // (rebased, cherry-picked) is one finding with several commits, maybe
            // on several refs, and each reaches the repository.
            let lines: Vec<String> = bypassed
                .iter()
                .flat_map(|f| {
                    let commits: Vec<Option<&str>> = if f.commits.is_empty() {
                        vec![None]
                    } else {
                        f.commits
                            .iter()
                            .map(|c| Some(c.commit.id.as_str()))
                            .collect()
                    };
                    commits.into_iter().map(move |commit| (f, commit))
                })
                .map(|(f, commit)| {
                    serde_json::json!({
                        "time": now(),
                        "event": "bypass",
                        "user": who,
                        "identity": via,
                        "ref": ref_of(commit, f),
                        "commit": commit,
                        "path": String::from_utf8_lossy(&f.place()),
                        "line": f.line(),
                        "rule": f.rule_id,
                        "fingerprint": f.fingerprint,
                        "reason": reason,
                    })
                    .to_string()
                })
                .collect();
            append_audit(policy, &lines)?;
            for f in &bypassed {
                pipeline.warnings.push(format!(
                    "let through by push option keyward.allow, recorded in the audit log for {}: {}",
                    printable_text(&who),
                    describe(f)
                ));
            }
        }
    }
    super::emit(common, mode, Some((&results, &pipeline)))
}

/// A finding in one line, redacted: `path:line  sk_live_…abcd  [rule]`.
fn describe(f: &Finding) -> String {
    format!(
        "{}{}  {}  [{}]",
        printable_path(&f.place()),
        f.line().map(|l| format!(":{l}")).unwrap_or_default(),
        f.secret.redacted(),
        f.rule_id
    )
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::report::iso8601(secs)
}

/// Appends whole lines in one write, so concurrent pushes do not interleave
/// inside a line (the file is opened for appending). A log that cannot be
/// written fails the push: a bypass must leave its trace.
fn append_audit(policy: &ServerPolicy, lines: &[String]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let Some(path) = &policy.audit_log else {
        return Err(Error::Rejected(
            "no server.audit_log is set, so nothing can be let through".into(),
        ));
    };
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            Error::Rejected(format!(
                "cannot write the audit log {}: {e}; nothing is let through unrecorded, so the push is rejected",
                printable_path(path.as_os_str().as_encoded_bytes())
            ))
        })
}
