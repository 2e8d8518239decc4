//! The index-file walk (cache-tree guided) must see exactly what libgit2's full
//! index diff sees, over many random staged states.

use std::collections::BTreeSet;

use crate::util::Repo;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn summary(changes: &[keyward::git::Change]) -> BTreeSet<(String, String)> {
    changes
        .iter()
        .map(|c| (String::from_utf8_lossy(&c.path).into_owned(), c.new.hex()))
        .collect()
}

#[test]
fn the_index_walk_agrees_with_libgit2() {
    let dirs = ["", "a/", "a/b/", "a/b/c/", "a.d/", "a-z/", "z/", "z/y/"];
    let mut walked_count = 0;
    for seed in 1..=60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let repo = Repo::without_hook();
        let mut files: Vec<String> = Vec::new();
        for i in 0..30 {
            let path = format!("{}f{i}.txt", dirs[rng.below(dirs.len() as u64) as usize]);
            repo.write(&path, format!("content {i} {}\n", rng.next()));
            files.push(path);
        }
        repo.commit_unchecked("base");
        // Random edits: modify, add (in new and old directories), delete, chmod.
        for step in 0..rng.below(8) + 1 {
            let pick = files[rng.below(files.len() as u64) as usize].clone();
            match rng.below(5) {
                0 => repo.write(&pick, format!("changed {step} {}\n", rng.next())),
                1 => repo.write(&format!("new{seed}/n{step}/x{step}.txt"), "new\n"),
                2 => {
                    let _ = std::fs::remove_file(repo.path(&pick));
                }
                3 => repo.write(
                    &format!("{}g{step}.txt", dirs[rng.below(dirs.len() as u64) as usize]),
                    "g\n",
                ),
                _ => {
                    repo.git(&["update-index", "--chmod=+x", &pick]);
                }
            }
        }
        repo.git(&["add", "-A"]).ok();
        if rng.below(2) == 0 {
            // Sometimes a fully valid cache-tree, as at commit time.
            repo.git(&["write-tree"]).ok();
        }
        let kw = keyward::git::Repo::open(&repo.root).unwrap();
        let Some(walked) = kw.staged_by_walk().unwrap() else {
            // Deferred to libgit2 (a rename with edits): nothing to compare.
            continue;
        };
        walked_count += 1;
        let full = kw.staged_by_libgit2().unwrap();
        // libgit2 pairs renames by similarity; the walk leaves exact moves out
        // (they add nothing) and defers the rest to libgit2, so compare what is
        // actually scanned: paths and blobs that are not pure moves.
        let moved: BTreeSet<String> = full
            .changes
            .iter()
            .filter(|c| c.old_path.is_some() && c.old == Some(c.new))
            .map(|c| c.new.hex())
            .collect();
        let expected: BTreeSet<_> = summary(&full.changes)
            .into_iter()
            .filter(|(_, id)| !moved.contains(id))
            .collect();
        let got: BTreeSet<_> = summary(&walked)
            .into_iter()
            .filter(|(_, id)| !moved.contains(id))
            .collect();
        assert_eq!(got, expected, "seed {seed}");
    }
    assert!(
        walked_count >= 20,
        "only {walked_count} scenarios exercised the walk"
    );
}
