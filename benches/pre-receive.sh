#!/usr/bin/env bash
# What keyward's pre-receive hook costs a git server. Not a test: it prints medians
# and ratios.
#
#   benches/pre-receive.sh [one-commit] [first-push]
#
#   one-commit   a push of one new commit (a small text file) to a bare repository
#                holding a real history (stripe-python), RUNS times each: no hook,
#                keyward's hook (install.sh --server), and a gitleaks pre-receive
#                hook doing the same job (`gitleaks git --log-opts=<range>` per ref),
#                when gitleaks is on PATH or in $BENCH_WORK/bin. Median per push
#                and the added latency against no hook.
#   first-push   the first push of a whole real history (every branch and tag) into
#                an empty bare repository: no hook, keyward, gitleaks. Histories:
#                $MIRROR/stripe+stripe-python/repo, and $MIRROR/git+git/repo or
#                $MIRROR/curl+curl/repo when present (BIG=0 skips them).
#
# Env: MIRROR (default /work/.mirror), BENCH_WORK (/tmp/bench-work), RUNS (31),
# KEYWARD (a keyward binary; default: cargo build --release). Work goes to a
# temporary directory, removed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=${MIRROR:-/work/.mirror}
W=${BENCH_WORK:-/tmp/bench-work}
RUNS=${RUNS:-31}
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(one-commit first-push)

log() { printf '[pre-receive bench %s] %s\n' "$(date +%T)" "$*" >&2; }

if [ -z "${KEYWARD:-}" ]; then
    log "building keyward (release)"
    (cd "$ROOT" && cargo build --release --locked -q)
    KEYWARD=${CARGO_TARGET_DIR:-$ROOT/target}/release/keyward
fi
GITLEAKS=$(command -v gitleaks 2>/dev/null || true)
[ -z "$GITLEAKS" ] && [ -x "$W/bin/gitleaks" ] && GITLEAKS=$W/bin/gitleaks

T=$(mktemp -d "${TMPDIR:-/tmp}/keyward-prerecv.XXXXXX")
trap 'rm -rf "$T"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$T/home GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@example.com \
    GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@example.com
mkdir -p "$HOME"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "keyward: $("$KEYWARD" --version)  git: $(git --version)  gitleaks: ${GITLEAKS:+$("$GITLEAKS" version 2>/dev/null)}"

# hook <bare> none|keyward|gitleaks
hook() {
    local bare=$1 kind=$2
    rm -f "$bare/hooks/pre-receive" "$bare/hooks/pre-receive.keyward-chained"
    case $kind in
        none) ;;
        keyward)
            sh "$ROOT/install.sh" --bin "$KEYWARD" --server "$bare" >/dev/null
            # A whole history takes longer than the default limit of 60 s on a
            # busy machine: measured to the end, not cut off.
            printf '[server]\ntime_limit = 3600\n' >"$T/policy.toml"
            git --git-dir="$bare" config keyward.config "$T/policy.toml" ;;
        gitleaks)
            cat >"$bare/hooks/pre-receive" <<EOF
#!/bin/sh
# gitleaks as a pre-receive hook: one run over every new tip's commits that no
# existing ref has (git log reads the quarantine through git's environment).
z=0000000000000000000000000000000000000000
tips=''
while read old new ref; do
    # gitleaks splits --log-opts on single spaces: no leading or double one.
    [ "\$new" = "\$z" ] || tips="\${tips:+\$tips }\$new"
done
[ -n "\$tips" ] || exit 0
exec "$GITLEAKS" git --no-banner --log-level error --log-opts="\$tips --not --all" . >&2
EOF
            chmod +x "$bare/hooks/pre-receive" ;;
    esac
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

ms_now() { date +%s%N; }

one_commit() {
    local src=$MIRROR/stripe+stripe-python/repo
    [ -d "$src" ] || { log "no $src; skipping one-commit"; return; }
    log "one-commit pushes: $RUNS each"
    git clone -q --bare "$src" "$T/one.git"
    git clone -q "$T/one.git" "$T/one-client"
    local kinds=(none keyward)
    [ -n "$GITLEAKS" ] && kinds+=(gitleaks)
    echo
    echo "| one-commit push to stripe-python (bare, $(git --git-dir="$T/one.git" rev-list --all --count) commits) | median ms | added ms |"
    echo "|---|---|---|"
    local base=''
    for kind in "${kinds[@]}"; do
        hook "$T/one.git" "$kind"
        : >"$T/times"
        for i in $(seq 1 $((RUNS + 2))); do
            (cd "$T/one-client" &&
                printf 'change %s at %s\n' "$i" "$(ms_now)" >>bench-change.txt &&
                git add bench-change.txt && git commit -q -m "bench $kind $i")
            local t0 t1
            t0=$(ms_now)
            (cd "$T/one-client" && git push -q origin HEAD >/dev/null 2>&1) ||
                { log "push failed with the $kind hook"; exit 1; }
            t1=$(ms_now)
            # The first two warm the caches.
            [ "$i" -gt 2 ] && echo $(((t1 - t0) / 1000)) >>"$T/times"
        done
        local med
        med=$(median <"$T/times")
        [ -z "$base" ] && base=$med
        awk -v k="$kind" -v m="$med" -v b="$base" 'BEGIN {printf "| %s | %.1f | %+.1f |\n", k, m/1000, (m-b)/1000}'
    done
}

first_push() {
    local repos=("$MIRROR/stripe+stripe-python/repo")
    if [ "${BIG:-1}" != 0 ]; then
        for r in "$MIRROR/git+git/repo" "$MIRROR/curl+curl/repo"; do
            [ -d "$r" ] && { repos+=("$r"); break; }
        done
    fi
    local kinds=(none keyward)
    [ -n "$GITLEAKS" ] && kinds+=(gitleaks)
    echo
    echo "| first push of a whole history | commits | hook | seconds | verdict |"
    echo "|---|---|---|---|---|"
    for src in "${repos[@]}"; do
        [ -d "$src" ] || continue
        local name commits
        name=$(basename "$(dirname "$src")")
        commits=$(git --git-dir="$src" rev-list --branches --tags --count)
        for kind in "${kinds[@]}"; do
            rm -rf "$T/first.git"
            git init -q --bare "$T/first.git"
            hook "$T/first.git" "$kind"
            log "first push of $name with hook: $kind"
            local t0 t1 verdict=accepted
            t0=$(ms_now)
            git --git-dir="$src" push -q "$T/first.git" 'refs/heads/*:refs/heads/*' 'refs/tags/*:refs/tags/*' \
                >"$T/push.log" 2>&1 || verdict=rejected
            t1=$(ms_now)
            awk -v n="$name" -v c="$commits" -v k="$kind" -v s="$(((t1 - t0) / 1000000))" -v v="$verdict" \
                'BEGIN {printf "| %s | %d | %s | %.1f | %s |\n", n, c, k, s/1000, v}'
        done
    done
}

for w in "${what[@]}"; do
    case $w in
        one-commit) one_commit ;;
        first-push) first_push ;;
        *) echo "unknown: $w (one-commit, first-push)" >&2; exit 2 ;;
    esac
done
