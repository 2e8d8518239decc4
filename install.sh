#!/bin/sh
# Installs keyward as the hooks of the git repository this is run in.
#
#   /path/to/keyward/install.sh              build keyward with cargo, install it to
#                                            ~/.local/bin, and install every hook here
#   install.sh --hook pre-push               install only this hook (pre-commit,
#                                            pre-merge-commit, pre-applypatch,
#                                            pre-push, commit-msg, or all); repeatable
#   install.sh --bin PATH                    use an existing keyward binary instead
#   install.sh --prefix DIR                  install the binary to DIR/bin
#   install.sh --uninstall                   remove every keyward hook (or those
#                                            named with --hook), restore what was there
#   install.sh --server DIR                  on a git server: install the pre-receive
#                                            hook in DIR, a bare repository (its hooks
#                                            directory, core.hooksPath honoured), a
#                                            hooks directory, or a pre-receive.d
#                                            directory (GitLab); with --uninstall,
#                                            remove it
#
# Every hook by default, because pre-commit alone misses ways keys enter history:
# a clean merge runs pre-merge-commit, `git am` runs pre-applypatch, and
# cherry-pick, revert, rebase and --no-verify run no commit hook at all, which
# pre-push catches before anything leaves the machine.
# The hook goes where git looks for it (core.hooksPath is honoured). An existing
# hook is never overwritten: it is kept beside keyward's as
# <hook>.keyward-chained and run before keyward. Running this again is safe.
set -eu

src_dir=$(cd "$(dirname "$0")" && pwd)
hooks=''
bin=''
prefix="${HOME}/.local"
uninstall=0
server=''

die() {
    echo "install.sh: error: $*" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --bin) [ $# -ge 2 ] || die "--bin needs a path"; bin=$2; shift 2 ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --hook) [ $# -ge 2 ] || die "--hook needs a name"; hooks="$hooks $2"; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        --server) [ $# -ge 2 ] || die "--server needs a bare repository or hooks directory"; server=$2; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

all_hooks="pre-commit pre-merge-commit pre-applypatch pre-push commit-msg"
[ -n "$hooks" ] || hooks=all
case " $hooks " in
    *" all "*) hooks=$all_hooks ;;
esac
for hook in $hooks; do
    case " $all_hooks " in
        *" $hook "*) ;;
        *) die "unknown hook '$hook': keyward installs as one of: $all_hooks" ;;
    esac
done

is_ours() {
    [ -f "$1" ] && grep -q '^# keyward-hook' "$1"
}

# The server hook: one pre-receive, chaining any that was there, or one file in a
# pre-receive.d directory (GitLab and Gitaly run every file there in turn).
if [ -n "$server" ]; then
    [ -d "$server" ] || die "$server is not a directory: name a bare repository or its hooks directory"
    server=$(cd "$server" && pwd)
    if [ -f "$server/HEAD" ] && [ -d "$server/objects" ]; then
        hooks_dir=$(git --git-dir="$server" rev-parse --git-path hooks) ||
            die "$server looks like a git repository but git cannot read it"
        case "$hooks_dir" in
            /*) ;;
            *) hooks_dir="$server/$hooks_dir" ;;
        esac
        target="$hooks_dir/pre-receive"
    elif [ "$(basename "$server")" = pre-receive.d ]; then
        hooks_dir=$server
        target="$hooks_dir/keyward"
    else
        hooks_dir=$server
        target="$hooks_dir/pre-receive"
    fi
    chained="$hooks_dir/pre-receive.keyward-chained"
    if [ "$uninstall" -eq 1 ]; then
        if ! is_ours "$target"; then
            echo "no keyward pre-receive hook at $target; nothing to do"
            exit 0
        fi
        rm -f "$target"
        if [ -e "$chained" ] && [ "$(basename "$target")" = pre-receive ]; then
            mv "$chained" "$target"
            echo "removed keyward's pre-receive hook; restored the hook that was there before"
        else
            echo "removed keyward's pre-receive hook"
        fi
        exit 0
    fi
fi

if [ -n "$server" ]; then
    :
elif git rev-parse --git-dir >/dev/null 2>&1; then
    hooks_dir=$(git rev-parse --git-path hooks)
else
    die "run this inside the git repository to protect (cd into it first), or name a server's repository with --server"
fi
if [ -z "$server" ] && [ "$(git rev-parse --show-object-format 2>/dev/null)" = sha256 ]; then
    echo "install.sh: warning: this repository uses SHA-256 object names, which keyward cannot read yet: its hooks will block every commit and push (exit 2) with a line saying so" >&2
fi

if [ "$uninstall" -eq 1 ]; then
    removed=0
    for hook in $hooks; do
        target="$hooks_dir/$hook"
        chained="$target.keyward-chained"
        if ! is_ours "$target"; then
            continue
        fi
        removed=$((removed + 1))
        rm -f "$target"
        if [ -e "$chained" ]; then
            mv "$chained" "$target"
            echo "removed keyward's $hook hook; restored the hook that was there before"
        else
            echo "removed keyward's $hook hook"
        fi
    done
    [ "$removed" -gt 0 ] || echo "no keyward hook is installed in $hooks_dir; nothing to do"
    exit 0
fi

if [ -z "$bin" ]; then
    command -v cargo >/dev/null 2>&1 || die "cargo is needed to build keyward (https://rustup.rs), or pass --bin PATH"
    echo "building keyward (cargo install --locked --path $src_dir --root $prefix)..."
    cargo install --quiet --locked --force --path "$src_dir" --root "$prefix" ||
        die "cargo install failed; see the messages above"
    bin="$prefix/bin/keyward"
fi
[ -x "$bin" ] || die "$bin is not an executable keyward binary"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
"$bin" --version >/dev/null 2>&1 || die "$bin does not run"

mkdir -p "$hooks_dir"
escaped=$(printf '%s' "$bin" | sed "s/'/'\\\\''/g; s/[&|\\\\]/\\\\&/g")
if [ -n "$server" ]; then
    if [ -e "$target" ] && ! is_ours "$target"; then
        if [ -e "$chained" ]; then
            die "$target is not keyward's hook and $chained already exists; move one of them away first"
        fi
        mv "$target" "$chained"
        echo "kept the existing pre-receive hook as $chained; it runs before keyward, on the same ref lines"
    fi
    tmp="$target.keyward-tmp.$$"
    sed "s|^keyward_bin=''\$|keyward_bin='$escaped'|" "$src_dir/hooks/pre-receive" >"$tmp"
    chmod +x "$tmp"
    mv "$tmp" "$target"
    echo "keyward pre-receive hook installed as $target (binary: $bin)"
    echo "policy: git config keyward.config <file> (system, global or this repository's); push options need receive.advertisePushOptions=true"
    exit 0
fi
for hook in $hooks; do
    target="$hooks_dir/$hook"
    chained="$target.keyward-chained"
    if [ -e "$target" ] && ! is_ours "$target"; then
        if [ -e "$chained" ]; then
            die "$target is not keyward's hook and $chained already exists; move one of them away first"
        fi
        mv "$target" "$chained"
        echo "kept the existing $hook hook as $chained; it runs before keyward"
    fi
    # Write to a temporary file first so an interrupted install never leaves a
    # half-written hook (which could let commits through unchecked).
    tmp="$target.keyward-tmp.$$"
    sed "s|^keyward_bin=''\$|keyward_bin='$escaped'|" "$src_dir/hooks/pre-commit" >"$tmp"
    chmod +x "$tmp"
    mv "$tmp" "$target"
    echo "keyward $hook hook installed in $hooks_dir (binary: $bin)"
done
