#!/usr/bin/env bash
# keyward's benchmark: keyward and the peer scanners side by side, in one sitting,
# on scenarios built from real source code. Not a test: it prints medians, peak
# memory, ratios and whether every planted key was found.
#
#   benches/run.sh --kit DIR --mirrors DIR [--work DIR] [--linearity] [scenario...]
#
#   --kit DIR       the bench kit: install-peers.sh, make-scenarios.sh and
#                   run-peers.sh (in keyward's workplace, ../shared/bench)
#   --mirrors DIR   bare copies of git/git, curl/curl and stripe/stripe-python at
#                   DIR/<owner>+<name>/repo
#   --work DIR      where the peers, scenarios and results live (default
#                   /tmp/bench-work)
#   --linearity     also run benches/linearity.sh (matches per second, and the
#                   keyword-dense input: `token`/`secret`/`password` on every line)
#   scenario        small-commit-big-repo, big-initial-commit,
#                   history-stripe-python, history-git (default: all; ~1 hour)
#
# This script downloads nothing. What is missing (the kit, a mirror, the peers,
# the scenarios) is named with the command that brings it, and the run stops.
#
# Beyond the kit's rows, this adds keyward's own:
#   - an empty staged diff in the 80,000-file repository, against
#     `git diff --cached --quiet` on the same index;
#   - the cost of a clean byte with 10 rules and with the whole catalogue;
#   - `keyward history` in each history scenario, with peak memory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH_DIR:-}
MIRROR=${MIRROR:-}
W=${BENCH_WORK:-/tmp/bench-work}
LINEARITY=0
SCENS=()
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --kit) BENCH=$2; shift 2 ;;
    --mirrors) MIRROR=$2; shift 2 ;;
    --work) W=$2; shift 2 ;;
    --linearity) LINEARITY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "benches/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) SCENS+=("$1"); shift ;;
  esac
done
[ ${#SCENS[@]} -eq 0 ] && SCENS=(small-commit-big-repo big-initial-commit history-stripe-python history-git)
export BENCH_WORK=$W

log() { printf '[keyward bench %s] %s\n' "$(date +%T)" "$*" >&2; }
missing=0
need() {  # what, how to get it
  echo "benches/run.sh: missing $1" >&2
  echo "    get it with: $2" >&2
  missing=1
}
if [ -z "$BENCH" ] || [ ! -f "$BENCH/run-peers.sh" ]; then
  need "the bench kit (${BENCH:-no --kit given})" \
    "pass --kit DIR, the folder holding install-peers.sh, make-scenarios.sh and run-peers.sh (keyward's workplace has it at ../shared/bench)"
fi
for t in gitleaks kingfisher detect-secrets-hook ripsecrets; do
  if [ ! -x "$W/bin/$t" ]; then
    need "the peer scanners ($W/bin/$t)" "BENCH_WORK=$W bash ${BENCH:-KIT}/install-peers.sh"
    break
  fi
done
command -v hyperfine >/dev/null || need "hyperfine" "BENCH_WORK=$W bash ${BENCH:-KIT}/install-peers.sh (or apt-get install hyperfine)"
for repo in git/git curl/curl stripe/stripe-python; do
  if [ -z "$MIRROR" ] || [ ! -d "$MIRROR/${repo/\//+}/repo" ]; then
    need "a bare copy of $repo" "git clone --mirror https://github.com/$repo ${MIRROR:-MIRRORS}/${repo/\//+}/repo (and pass --mirrors ${MIRROR:-MIRRORS})"
  fi
done
for s in "${SCENS[@]}"; do
  if [ ! -d "$W/scen/$s/repo" ]; then
    need "the scenario $s ($W/scen/$s)" "BENCH_WORK=$W MIRROR=${MIRROR:-MIRRORS} bash ${BENCH:-KIT}/make-scenarios.sh (about 2 minutes, 7 GB; vendors crates from crates.io)"
  fi
done
[ "$missing" = 0 ] || exit 2

log "building keyward (release)"
(cd "$ROOT" && cargo build --release --locked -q)
KW=$ROOT/target/release/keyward

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
if [ "$LINEARITY" = 1 ]; then
  log "linearity and the keyword-dense input"
  bash "$ROOT/benches/linearity.sh" > "$RD/linearity.md" || log "linearity.sh failed (see $RD/linearity.md)"
fi
cat "$extra"
log "results in $RD (table.md: the side-by-side table; keyward-extra.md: the rows above)"
