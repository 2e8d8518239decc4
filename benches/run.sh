#!/usr/bin/env bash
# keyward's benchmark: keyward and the peer scanners side by side, in one sitting,
# on scenarios built from real source code. Not a test: it prints medians, peak
# memory, ratios and whether every planted key was found.
#
#   MIRROR=/path/to/mirrors benches/run.sh [scenario...]
#
# Needs the workplace's bench kit beside the project (../shared/bench, or
# BENCH_DIR): install-peers.sh installs gitleaks, Kingfisher, detect-secrets,
# git-secrets, ripsecrets, the pre-commit framework and hyperfine; make-scenarios.sh
# builds the scenarios from ~765 crates.io crates and bare copies of git/git,
# curl/curl and stripe/stripe-python, which must be at $MIRROR/<owner>+<name>/repo.
# Scenarios: small-commit-big-repo, big-initial-commit, history-stripe-python,
# history-git (all four by default; ~1 hour). Results: $BENCH_WORK/results/<time>/.
#
# Beyond the kit's rows, this adds keyward's own:
#   - an empty staged diff in the 80,000-file repository, against
#     `git diff --cached --quiet` on the same index;
#   - the cost of a clean byte with 10 rules and with the whole catalogue;
#   - `keyward history` in each history scenario.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
W=${BENCH_WORK:-/tmp/bench-work}
export BENCH_WORK=$W
[ -d "$BENCH" ] || { echo "benches/run.sh: no bench kit at $BENCH (set BENCH_DIR)" >&2; exit 2; }

log() { printf '[keyward bench %s] %s\n' "$(date +%T)" "$*" >&2; }

log "building keyward (release)"
(cd "$ROOT" && cargo build --release --locked -q)
KW=$ROOT/target/release/keyward

log "installing the peers"
bash "$BENCH/install-peers.sh" >/dev/null
log "building the scenarios (MIRROR=${MIRROR:-unset})"
bash "$BENCH/make-scenarios.sh"

SCENS=("$@")
[ ${#SCENS[@]} -eq 0 ] && SCENS=(small-commit-big-repo big-initial-commit history-stripe-python history-git)
RD=$W/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$RD"
export RESULTS_DIR=$RD

log "peers and keyward, side by side"
KEYWARD=$KW KEYWARD_STAGED_ARGS=--staged KEYWARD_HISTORY_ARGS=history \
  bash "$BENCH/run-peers.sh" "${SCENS[@]}"

extra=$RD/keyward-extra.md
{
  echo "| scenario | command | median s | runs |"
  echo "|---|---|---|---|"
} > "$extra"
hf() {  # label dir command...
  local label=$1 dir=$2; shift 2
  (cd "$dir" && hyperfine -N -i --style none --warmup 2 --runs 15 --export-json "$RD/hf.json" "$@" >/dev/null 2>&1)
  python3 - "$RD/hf.json" "$label" >> "$extra" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"| {sys.argv[2]} | `{r['command']}` | {r['median']:.4f} | {len(r['times'])} |")
PY
}

S=$W/scen
if [ -d "$S/small-commit-big-repo/repo" ]; then
  log "empty staged diff"
  idx=$(mktemp)
  # An index equal to HEAD, cache-tree primed, as git leaves it after a commit.
  (cd "$S/small-commit-big-repo/repo" && GIT_INDEX_FILE=$idx git read-tree HEAD)
  GIT_INDEX_FILE=$idx hf "empty staged diff (80k files)" "$S/small-commit-big-repo/repo" \
    "git diff --cached --quiet" "$KW --staged"
  rm -f "$idx"
fi
if [ -d "$S/big-initial-commit/repo" ]; then
  log "clean-byte cost: 10 rules against the whole catalogue"
  ten=$RD/ten-rules.toml
  python3 - "$ten" <<'PY'
import sys
rules = []
for i in range(10):
    rules.append(f'[[rules]]\nid = "bench-{i}"\ndescription = "bench"\nkeywords = ["zq{i}xv_"]\nregex = \'(zq{i}xv_[0-9a-f]{{32}})\'\n')
open(sys.argv[1], "w").write("use_default_rules = false\n\n" + "\n".join(rules))
PY
  rules=$("$KW" rules list | wc -l)
  hf "first commit, 312 MB staged" "$S/big-initial-commit/repo" \
    "$KW --staged --config $ten" "$KW --staged"
  echo "" >> "$extra"
  echo "(the second command runs the whole built-in catalogue: $rules rules)" >> "$extra"
fi
cat "$extra"
log "results in $RD (table.md: the side-by-side table; keyward-extra.md: the rows above)"
