//! What a push adds to this repository, as git's pre-receive hook sees it: the
//! ref updates on standard input, the pushed objects still in quarantine, and
//! every existing ref not yet moved. "Adds" is `git rev-list <new tips> --not
//! --all`: what no ref of this repository reaches before the push.

use std::path::PathBuf;

use git2::{ObjectType, Oid, Sort};

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
        // One walk per ref, so each commit is attributed to the ref that brings
        // it; the tips walked before are hidden too, so no commit is walked twice.
        for (n, &(tip, i)) in tips.iter().enumerate() {
            let mut walk = self
                .repo
                .revwalk()
                .map_err(|e| fail("cannot walk history", e))?;
            walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
                .map_err(|e| fail("cannot walk history", e))?;
            walk.push(tip)
                .map_err(|e| fail(format!("cannot read pushed commit {tip}"), e))?;
            walk.hide_glob("refs/*")
                .map_err(|e| fail("cannot read the repository's refs", e))?;
            // A detached HEAD is a ref too; an unborn one hides nothing.
            let _ = walk.hide_head();
            for &(earlier, _) in &tips[..n] {
                walk.hide(earlier)
                    .map_err(|e| fail("cannot walk history", e))?;
            }
            for id in walk {
                let id = id.map_err(|e| fail("cannot walk the pushed history", e))?;
                out.commits.push((ObjectId(id), i));
            }
        }
        Ok(out)
    }

    /// The repository's git directory (the repository itself, when bare).
    pub fn git_dir(&self) -> PathBuf {
        self.repo.path().to_path_buf()
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
