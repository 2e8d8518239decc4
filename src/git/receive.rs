//! What a push adds to this repository, as git's pre-receive hook sees it: the
//! ref updates on standard input, the pushed objects still in quarantine, and
//! every existing ref not yet moved. "Adds" is `git rev-list <new tips> --not
//! --all`: what no ref of this repository reaches before the push.

use std::path::PathBuf;

use git2::{ObjectType, Oid};

use super::{fail, is_zero, ObjectId, Repo, TagMessage};
use crate::error::{Error, Result};

/// One line of what git gives a pre-receive hook: `<old> <new> <ref>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRef {
    pub old: String,
    pub new: String,
    pub name: String,
}

impl ReceivedRef {
    /// The push deletes this ref: nothing arrives with it.
    pub fn deletes(&self) -> bool {
        is_zero(&self.new)
    }
}

/// What a push brings in, each item with the index of the ref update that
/// brought it (the first one that reaches it).
#[derive(Debug, Default)]
pub struct Incoming {
    /// Commits no existing ref reaches, newest first.
    pub commits: Vec<(ObjectId, usize)>,
    /// Annotated tags the push publishes (each tag of a chain of tags).
    pub tags: Vec<(TagMessage, usize)>,
    /// Blobs a ref or tag names directly (`git tag v1 <blob>`).
    pub blobs: Vec<(ObjectId, usize)>,
    /// Refs or tags that name a tree directly: keyward does not walk those, so
    /// they are named as not checked.
    pub trees: Vec<usize>,
}

/// Parses a pre-receive hook's standard input.
pub fn parse_received(text: &str) -> Result<Vec<ReceivedRef>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [old, new, name] => Ok(ReceivedRef {
                    old: old.to_string(),
                    new: new.to_string(),
                    name: name.to_string(),
                }),
                _ => Err(Error::Usage(format!(
                    "pre-receive: expected '<old> <new> <ref>' on standard input, got {:?}",
                    crate::text::printable_path(line.as_bytes())
                ))),
            },
        )
        .collect()
}

impl Repo {
    /// What the updates add. Refs are not moved yet when pre-receive runs, so
    /// every ref (and HEAD) is what the repository already has: a force push
    /// adds only the commits no ref reaches, a new ref at an existing commit
    /// adds nothing, a deletion adds nothing. Objects are read from the
    /// quarantine as well as the repository (see `quarantine_dirs`).
    pub fn incoming(&self, updates: &[ReceivedRef]) -> Result<Incoming> {
        let mut out = Incoming::default();
        let mut seen_tags = std::collections::HashSet::new();
        let mut tips: Vec<(Oid, usize)> = Vec::new();
        for (i, u) in updates.iter().enumerate() {
            if u.deletes() {
                continue;
            }
            let id = Oid::from_str(&u.new).map_err(|e| {
                Error::Usage(format!(
                    "pre-receive: bad object id '{}' for {}: {}",
                    crate::text::printable_text(&u.new),
                    crate::text::printable_text(&u.name),
                    e.message()
                ))
            })?;
            let mut object = self
                .repo
                .find_object(id, None)
                .map_err(|e| fail(format!("cannot read pushed object {id} for {}", u.name), e))?;
            // A tag may name a tag: each message is published.
            loop {
                match object.kind() {
                    Some(ObjectType::Tag) => {
                        let tag = object.as_tag().expect("an object of kind tag is a tag");
                        if seen_tags.insert(tag.id()) {
                            out.tags.push((
                                TagMessage {
                                    name: tag.name().unwrap_or(&u.name).to_string(),
                                    message: tag.message_bytes().unwrap_or_default().to_vec(),
                                },
                                i,
                            ));
                        }
                        object = tag.target().map_err(|e| {
                            fail(format!("cannot read the target of tag {}", tag.id()), e)
                        })?;
                    }
                    Some(ObjectType::Commit) => {
                        tips.push((object.id(), i));
                        break;
                    }
                    Some(ObjectType::Blob) => {
                        out.blobs.push((ObjectId(object.id()), i));
                        break;
                    }
                    _ => {
                        out.trees.push(i);
                        break;
                    }
                }
            }
        }
        let new = self.not_in_any_ref(&tips)?;
        // Each commit belongs to the first ref (in the order git gave them)
        // that reaches it: a flood from each tip through the new commits only.
        let mut owner: std::collections::HashMap<Oid, Option<usize>> =
            new.iter().map(|&id| (id, None)).collect();
        for &(tip, i) in &tips {
            let mut stack = vec![tip];
            while let Some(id) = stack.pop() {
                match owner.get_mut(&id) {
                    Some(slot @ None) => *slot = Some(i),
                    _ => continue,
                }
                let commit = self
                    .repo
                    .find_commit(id)
                    .map_err(|e| fail(format!("cannot read commit {id}"), e))?;
                stack.extend(commit.parent_ids());
            }
        }
        out.commits = new
            .into_iter()
            .map(|id| (ObjectId(id), owner[&id].unwrap_or(0)))
            .collect();
        Ok(out)
    }

    /// The commits the tips reach and no ref (nor HEAD) does, newest first in
    /// topological order: `git rev-list --topo-order <tips> --not --all`.
    /// git's own walk, because with many refs to hide (a repository with
    /// hundreds of tags) libgit2's revwalk marks the whole history
    /// uninteresting, which cost 50 ms on stripe-python where git takes 10.
    /// git is always there for a hook (git runs it, with its exec path on
    /// PATH), and reads the quarantine from the same environment.
    fn not_in_any_ref(&self, tips: &[(Oid, usize)]) -> Result<Vec<Oid>> {
        use std::io::Write;
        if tips.is_empty() {
            return Ok(Vec::new());
        }
        let mut child = std::process::Command::new("git")
            .args(["rev-list", "--topo-order", "--stdin", "--not", "--all"])
            .env("GIT_DIR", self.repo.path())
            .current_dir(self.repo.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot run git rev-list to find the pushed commits: {e}"
                ))
            })?;
        let mut input = String::with_capacity(41 * tips.len());
        for (tip, _) in tips {
            input.push_str(&tip.to_string());
            input.push('\n');
        }
        let mut stdin = child.stdin.take().expect("stdin was piped");
        // Written from its own thread: git may fill its output pipe before
        // reading all of a long input.
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child
            .wait_with_output()
            .map_err(|e| Error::Usage(format!("git rev-list failed: {e}")))?;
        let written = writer
            .join()
            .map_err(|_| Error::Usage("git rev-list: cannot write its input".into()))?;
        if !out.status.success() {
            return Err(Error::Git {
                what: "git rev-list cannot list the pushed commits".into(),
                cause: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        written.map_err(|e| Error::Usage(format!("git rev-list: cannot write its input: {e}")))?;
        out.stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                std::str::from_utf8(l)
                    .ok()
                    .and_then(|h| Oid::from_str(h).ok())
                    .ok_or_else(|| {
                        Error::Usage("git rev-list printed a line that is no object id".into())
                    })
            })
            .collect()
    }

    /// A path-valued setting from git's configuration (system, global, the
    /// repository's), with `~/` expanded as `git config --type=path` does and a
    /// relative path taken from the git directory.
    pub fn config_path(&self, name: &str) -> Result<Option<PathBuf>> {
        let config = self
            .repo
            .config()
            .map_err(|e| fail("cannot read git's configuration", e))?;
        let value = match config.get_string(name) {
            Ok(v) => v,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(fail(format!("cannot read git config {name}"), e)),
        };
        if value.is_empty() {
            return Ok(None);
        }
        let path = match value.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    Error::Usage(format!("git config {name} = {value}: HOME is not set"))
                })?
                .join(rest),
            None => PathBuf::from(&value),
        };
        Ok(Some(if path.is_absolute() {
            path
        } else {
            self.repo.path().join(path)
        }))
    }
}
