#!/bin/sh
# Installs keyward as the hooks of the git repository this is run in.
#
#   /path/to/keyward/install.sh              build keyward with cargo, install it to
#                                            ~/.local/bin, and install every hook here
#   install.sh --hook pre-push               install only this hook (pre-commit,
#                                            pre-merge-commit, pre-applypatch,
#                                            pre-push, commit-msg, or all); repeatable
#   install.sh --bin PATH                    use an existing keyward binary instead
#   install.sh --prefix DIR                  install the binary to DIR/bin (and shell
#                                            completions and the man page under
#                                            DIR/share)
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
# Hooks shared through the repository (husky, lefthook, a tracked hooks
# directory) get a call to `keyward` from PATH added to them instead, never this
# machine's path to the binary.
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
        -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
        # Every file here runs as a hook, so a foreign hook moved aside would
        # still run, out of order, and nothing would ever put it back.
        if [ "$uninstall" -eq 0 ] && [ -e "$target" ] && ! is_ours "$target"; then
            die "$target exists and is not keyward's hook; in a pre-receive.d directory every file runs, so keyward will not move it aside: rename or remove it first"
        fi
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

if [ -z "$server" ]; then
git rev-parse --git-dir >/dev/null 2>&1 ||
    die "run this inside the git repository to protect (cd into it first)"
hooks_dir=$(git rev-parse --git-path hooks)
if [ "$(git rev-parse --show-object-format 2>/dev/null)" = sha256 ]; then
    echo "install.sh: warning: this repository uses SHA-256 object names, which keyward cannot read yet: its hooks will block every commit and push (exit 2) with a line saying so" >&2
fi

# --- Where the hooks live, and who else reads them -------------------------
#
# local:    .git/hooks (or a hooks path outside the work tree, or one git
#           ignores): keyward's own hook script, holding this machine's path to
#           the binary, so it works whatever PATH a GUI or IDE gives git.
# shared:   a hooks directory in the work tree that is not ignored, so it is (or
#           will be) committed: a block calling `keyward` from PATH is added to
#           each hook script; a teammate without keyward is blocked with one line
#           saying how to install it.
# husky:    husky v9 points core.hooksPath at .husky/_, generated and ignored;
#           its scripts run the user's .husky/<hook>, which is where keyward goes.
# lefthook: a lefthook.yml at the top: keyward joins it as a command, and
#           lefthook's own hooks (`lefthook install`) run it.
case "$hooks_dir" in
    /*) hooks_abs=$hooks_dir ;;
    *) hooks_abs=$PWD/$hooks_dir ;;
esac
[ "$uninstall" -eq 1 ] || mkdir -p "$hooks_abs"
[ -d "$hooks_abs" ] && hooks_abs=$(cd "$hooks_abs" && pwd -P)
top=$(git rev-parse --show-toplevel 2>/dev/null || true)
[ -z "$top" ] || top=$(cd "$top" && pwd -P)
git_dir=$(cd "$(git rev-parse --git-dir)" && pwd -P)
common_dir=$(cd "$(git rev-parse --git-common-dir)" && pwd -P)

manager=local
script_dir=$hooks_abs
lefthook_file=''
if [ -n "$top" ]; then
    for f in lefthook.yml .lefthook.yml lefthook.yaml .lefthook.yaml; do
        if [ -f "$top/$f" ]; then
            manager=lefthook
            lefthook_file="$top/$f"
            break
        fi
    done
    if [ "$manager" = local ]; then
        case "$hooks_abs/" in
            "$git_dir"/* | "$common_dir"/*) ;;
            "$top"/*)
                rel=${hooks_abs#"$top"}
                rel=${rel#/}
                if [ "$(basename "$hooks_abs")" = _ ] &&
                    [ "$(basename "$(dirname "$hooks_abs")")" = .husky ]; then
                    manager=husky
                    script_dir=$(dirname "$hooks_abs")
                elif [ -n "$rel" ] && ! git -C "$top" check-ignore -q "$rel/pre-commit"; then
                    manager=shared
                fi
                ;;
        esac
    fi
fi

# What a shared hook runs, per hook, with git's arguments passed on.
keyward_call() {
    case "$1" in
        pre-merge-commit) echo 'keyward pre-merge-commit' ;;
        pre-push) echo 'keyward pre-push "$@"' ;;
        commit-msg) echo 'keyward commit-msg "$1"' ;;
        *) echo 'keyward --staged' ;;
    esac
}

# The fail-closed line of a shared hook. No quote characters in it: it is
# embedded in shell and YAML quoting alike.
missing_line() {
    echo "keyward: error: keyward is not installed (not on PATH), so this $1 check cannot run and is blocked; install it from a keyward checkout with ./install.sh (or cargo install --locked --path .), or skip all hooks once with --no-verify"
}

# Each block keyward adds to a shared file is marked with its hook, so that
# installing or removing one hook leaves the others' blocks alone.
begin_marker='# >>> keyward'
end_marker='# <<< keyward'
begin_line() {
    echo "$begin_marker $1: stops secret API keys (added by keyward's install.sh; calls keyward from PATH)"
}

# Removes the marked block of hook $2 from file $1, in place (through a
# temporary file, so an interruption never leaves half a hook).
strip_block() {
    tmp="$1.keyward-tmp.$$"
    awk -v b="$begin_marker $2:" -v e="$end_marker" '
        index($0, b) == 1 { skip = 1 }
        !skip { print }
        skip && index($0, e) == 1 { skip = 0 }
    ' "$1" >"$tmp"
    if [ -x "$1" ]; then chmod +x "$tmp"; fi
    mv "$tmp" "$1"
}

has_block() {
    [ -f "$1" ] && grep -q "^$begin_marker $2:" "$1"
}

# True when a file holds nothing but a shebang, comments and blank lines.
is_empty_script() {
    ! grep -v '^[[:space:]]*\(#.*\)\{0,1\}$' "$1" >/dev/null 2>&1
}

fi


# --- Uninstall ---------------------------------------------------------------
if [ "$uninstall" -eq 1 ]; then
    removed=0
    for hook in $hooks; do
        target="$hooks_abs/$hook"
        chained="$target.keyward-chained"
        if is_ours "$target"; then
            removed=$((removed + 1))
            rm -f "$target"
            if [ -e "$chained" ]; then
                mv "$chained" "$target"
                echo "removed keyward's $hook hook; restored the hook that was there before"
            else
                echo "removed keyward's $hook hook"
            fi
        fi
        target="$script_dir/$hook"
        if [ "$manager" != local ] && has_block "$target" "$hook"; then
            removed=$((removed + 1))
            strip_block "$target" "$hook"
            if is_empty_script "$target"; then
                rm -f "$target"
                echo "removed $target (it only called keyward); commit the removal"
            else
                echo "removed keyward from $target; commit the change"
            fi
        fi
        if [ -n "$lefthook_file" ] && has_block "$lefthook_file" "$hook"; then
            removed=$((removed + 1))
            strip_block "$lefthook_file" "$hook"
            echo "removed keyward's $hook command from $lefthook_file; commit the change"
        fi
    done
    [ "$removed" -gt 0 ] || echo "no keyward hook is installed in $hooks_dir; nothing to do"
    exit 0
fi

# --- The binary --------------------------------------------------------------
if [ -z "$bin" ]; then
    command -v cargo >/dev/null 2>&1 || die "cargo is needed to build keyward (https://rustup.rs), or pass --bin PATH"
    echo "building keyward: cargo install --locked --path $src_dir --root $prefix"
    echo "(a release build takes about 5 to 10 minutes on 2 cores; cargo's progress follows)"
    cargo install --locked --force --path "$src_dir" --root "$prefix" ||
        die "cargo install failed; see the messages above"
    bin="$prefix/bin/keyward"
fi
[ -x "$bin" ] || die "$bin is not an executable keyward binary"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
"$bin" --version >/dev/null 2>&1 || die "$bin does not run"
bin_dir=$(dirname "$bin")

if [ -n "$server" ]; then
    mkdir -p "$hooks_dir"
    escaped=$(printf '%s' "$bin" | sed "s/'/'\\\\''/g; s/[&|\\\\]/\\\\&/g")
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

summary=''
note() {
    summary="$summary
  $1"
}
note "binary: $bin"

# --- Completions and the man page --------------------------------------------
# For each shell on this machine (and for man), under the prefix's share/,
# where bash-completion, fish and man look by default for a prefix whose bin/
# is on PATH (zsh needs the directory on its fpath).
share="$prefix/share"
generate() {
    dest=$1
    shift
    mkdir -p "$(dirname "$dest")" 2>/dev/null || return 1
    tmp="$dest.keyward-tmp.$$"
    if "$bin" "$@" >"$tmp" 2>/dev/null; then
        mv "$tmp" "$dest"
    else
        rm -f "$tmp"
        return 1
    fi
}
if command -v bash >/dev/null 2>&1; then
    if generate "$share/bash-completion/completions/keyward" completions bash; then
        note "bash completions: $share/bash-completion/completions/keyward"
    fi
fi
if command -v zsh >/dev/null 2>&1; then
    if generate "$share/zsh/site-functions/_keyward" completions zsh; then
        note "zsh completions: $share/zsh/site-functions/_keyward (if zsh does not find them, add fpath+=($share/zsh/site-functions) before compinit in ~/.zshrc)"
    fi
fi
if command -v fish >/dev/null 2>&1; then
    if generate "$share/fish/vendor_completions.d/keyward.fish" completions fish; then
        note "fish completions: $share/fish/vendor_completions.d/keyward.fish"
    fi
fi
if command -v man >/dev/null 2>&1; then
    if generate "$share/man/man1/keyward.1" man; then
        note "man page: $share/man/man1/keyward.1 (man keyward)"
    fi
fi

# --- The hooks ---------------------------------------------------------------
shared_files=''
case "$manager" in
    local)
        escaped=$(printf '%s' "$bin" | sed "s/'/'\\\\''/g; s/[&|\\\\]/\\\\&/g")
        for hook in $hooks; do
            target="$hooks_abs/$hook"
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
            note "keyward $hook hook installed: $target"
        done
        ;;
    husky | shared)
        for hook in $hooks; do
            target="$script_dir/$hook"
            if is_ours "$target"; then
                # keyward's own script, from an install before this directory was
                # recognised as shared: it holds a machine's path, so it goes.
                rm -f "$target"
                [ ! -e "$target.keyward-chained" ] || mv "$target.keyward-chained" "$target"
            fi
            if [ -f "$target" ]; then
                has_block "$target" "$hook" && strip_block "$target" "$hook"
                # A last line without a newline would swallow the marker.
                [ -z "$(tail -c 1 "$target")" ] || echo >>"$target"
            else
                printf '#!/bin/sh\n' >"$target"
            fi
            {
                begin_line "$hook"
                echo "command -v keyward >/dev/null 2>&1 || { echo \"$(missing_line "$hook")\" >&2; exit 2; }"
                echo "$(keyward_call "$hook") || exit \$?"
                echo "$end_marker"
            } >>"$target"
            chmod +x "$target"
            if [ "$manager" = husky ] && [ ! -e "$hooks_abs/$hook" ]; then
                echo "install.sh: warning: husky has not generated $hooks_abs/$hook, so git does not run $target yet; run npx husky (husky's prepare script) to generate it" >&2
            fi
            shared_files="$shared_files ${target#"$top"/}"
            note "keyward $hook hook installed: $target (calls keyward from PATH)"
        done
        ;;
    lefthook)
        # Adds keyward's entry as the last command of an existing section (so
        # that fixers staging their changes run first), when the section has
        # the plain two-space shape `<hook>:` / `  commands:` / `    name:` (what
        # lefthook's docs and `lefthook add` write); false otherwise.
        insert_command() {
            tmp="$lefthook_file.keyward-tmp.$$"
            awk -v hook="$1:" -v entry="$2" -v b="$(begin_line "$1")" -v e="$end_marker" '
                { lines[NR] = $0 }
                END {
                    at = 0
                    for (i = 1; i <= NR; i++) {
                        if (lines[i] == hook && lines[i + 1] == "  commands:" &&
                            lines[i + 2] ~ /^    [^ #]/) {
                            # The section ends before the next top-level line,
                            # and before the blank lines that lead up to it.
                            for (at = i + 2; at < NR && lines[at + 1] !~ /^[^ #]/; at++) {}
                            while (at > i + 2 && lines[at] ~ /^[ \t]*$/) at--
                            break
                        }
                    }
                    for (i = 1; i <= NR; i++) {
                        print lines[i]
                        if (i == at) {
                            print b
                            print entry
                            print e
                        }
                    }
                    exit at ? 0 : 1
                }' "$lefthook_file" >"$tmp" || { rm -f "$tmp"; return 1; }
            mv "$tmp" "$lefthook_file"
            shared_files=" ${lefthook_file#"$top"/}"
        }
        by_hand=''
        block=''
        for hook in $hooks; do
            has_block "$lefthook_file" "$hook" && strip_block "$lefthook_file" "$hook"
            case "$hook" in
                pre-push) call='keyward pre-push {1} {2}' ;;
                commit-msg) call='keyward commit-msg {1}' ;;
                *) call=$(keyward_call "$hook") ;;
            esac
            entry="    keyward:
      run: 'command -v keyward >/dev/null 2>&1 || { echo \"$(missing_line "$hook")\" >&2; exit 2; }; $call'"
            [ "$hook" != pre-push ] || entry="$entry
      use_stdin: true"
            if grep -q "^$hook:" "$lefthook_file" && insert_command "$hook" "$entry"; then
                note "keyward $hook hook installed: a keyward command in $lefthook_file's $hook section (calls keyward from PATH)"
            elif grep -q "^$hook:" "$lefthook_file"; then
                # A section of another shape (jobs, other indentation, flow
                # style): merging YAML by hand is not safe, so the person adds
                # the command where it belongs.
                by_hand="$by_hand
$hook:
  commands:
$entry"
            else
                block="$block
$(begin_line "$hook")
$hook:
  commands:
$entry
$end_marker"
                note "keyward $hook hook installed: a $hook command in $lefthook_file (calls keyward from PATH)"
            fi
        done
        if [ -n "$block" ]; then
            [ -z "$(tail -c 1 "$lefthook_file")" ] || echo >>"$lefthook_file"
            printf '%s\n' "$block" | sed '1d' >>"$lefthook_file"
            shared_files=" ${lefthook_file#"$top"/}"
        fi
        if [ -n "$by_hand" ]; then
            echo "install.sh: $lefthook_file already has these sections; add keyward's command to each by hand:"
            printf '%s\n' "$by_hand" | sed '1d; s/^/    /'
        fi
        echo "install.sh: lefthook runs keyward through the hooks lefthook installs: run lefthook install (again) so git runs every section"
        ;;
esac


# --- PATH ----------------------------------------------------------------------
on_path=0
case ":${PATH:-}:" in
    *":$bin_dir:"*) on_path=1 ;;
esac
found=$(command -v keyward 2>/dev/null || true)
if [ "$on_path" -eq 1 ] && [ -n "$found" ] && [ "$found" != "$bin" ]; then
    echo "install.sh: warning: another keyward comes first on PATH ($found); \`keyward\` runs that one, not $bin" >&2
fi

echo "keyward is installed:$summary"

if [ -n "$shared_files" ]; then
    echo
    echo "These files are shared with everyone who clones this repository, so they are about to be committed: keyward is called in them from PATH, with no path from this machine, and a teammate without keyward is blocked (exit 2) with a line saying how to install it. Each got a block between '$begin_marker <hook>' and '$end_marker' lines; review it (git diff), then commit:"
    echo "    git add$shared_files && git commit -m 'Check commits for secret API keys with keyward'"
fi

if [ "$on_path" -eq 0 ]; then
    case "$bin_dir" in
        "$HOME"/*) shown='$HOME'/${bin_dir#"$HOME"/} ;;
        *) shown=$bin_dir ;;
    esac
    if [ "$manager" = local ]; then
        why="the hooks run it by its full path, but \`keyward baseline\`, \`keyward rules check\` and the other commands its reports suggest need it"
    else
        why="the shared hooks call it from PATH and block (exit 2) until it is there"
    fi
    echo
    echo "$bin_dir is not on your PATH, so \`keyward\` is not found as a command: $why."
    case "$(basename "${SHELL:-sh}")" in
        bash) echo "Add this line to ~/.bashrc, then open a new terminal:"
            echo "    export PATH=\"$shown:\$PATH\"" ;;
        zsh) echo "Add this line to ~/.zshrc, then open a new terminal:"
            echo "    export PATH=\"$shown:\$PATH\"" ;;
        fish) echo "Run this once in fish (it remembers it):"
            echo "    fish_add_path $bin_dir" ;;
        *) echo "Add this line to ~/.profile, then log in again:"
            echo "    export PATH=\"$shown:\$PATH\"" ;;
    esac
fi
