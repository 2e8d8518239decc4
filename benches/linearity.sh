#!/usr/bin/env bash
# keyward's linearity benchmark: how scan time grows with the number of matches,
# beside gitleaks and betterleaks on the same bytes. Not a test: it prints a
# Markdown table of medians, matches per second and the findings each tool reported.
# Run it with -h for the inputs and settings.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: benches/linearity.sh [-h] [CASE...]

Times `keyward scan --format json FILE` against gitleaks and betterleaks on
inputs generated at run time in a temporary directory (random fake keys in the
real format, never a real key; deleted afterwards), and prints a Markdown table.

Cases (all by default):
  lines    N Stripe-format keys, one per line, in one file
  oneline  N Stripe-format keys on one line (a minified JSON array)
  pem      200,000 `-----BEGIN RSA PRIVATE KEY-----` header lines, no key body
  dense    ~50 MB where every line assigns something to a token, secret or
           password variable, none of them a secret (10 line shapes x 1,000
           names: most lines recur, as in real code)
  distinct the same with a name per line drawn from 10^9, so no line recurs:
           what the keyword-dense input costs when keyward's memo of clean
           lines cannot help
  config   a .keyward.toml rule with `multiline = true` whose keyword is on every
           line of a ~1.3 MB file (gitleaks and betterleaks get the same rule)

Environment:
  KEYWARD=PATH     the keyward binary (default: cargo build --release, then
                   target/release/keyward)
  BENCH_WORK=DIR   where the peers are installed, in $BENCH_WORK/bin
                   (default /tmp/bench-work); install them with
                   bash ../shared/bench/install-peers.sh
  SIZES="1000 10000 100000 1000000"   N for lines and oneline
  RUNS=3           runs per row; the median is reported
  TIMEOUT=120      seconds per run; a run cut off is reported as >TIMEOUT s, and
                   the larger N of the same case are then not run for that tool
  SEED=1           seed of the generated inputs (same seed, same bytes)

Exit status: 0 when the table was printed (whatever the tools found), 2 when it
could not be measured (missing peer, failed build).
EOF
}

CASES=()
for arg in "$@"; do
  case $arg in
    -h|--help) usage; exit 0 ;;
    lines|oneline|pem|dense|distinct|config) CASES+=("$arg") ;;
    *) echo "benches/linearity.sh: unknown case '$arg' (see -h)" >&2; exit 2 ;;
  esac
done
[ ${#CASES[@]} -eq 0 ] && CASES=(lines oneline pem dense distinct config)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_WORK:-/tmp/bench-work}
BIN=$W/bin
SIZES=${SIZES:-1000 10000 100000 1000000}
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-120}
SEED=${SEED:-1}

log() { printf '[linearity %s] %s\n' "$(date +%T)" "$*" >&2; }

# The ratio against gitleaks is the point of the table, so gitleaks is required;
# betterleaks is a row more when it is there.
if [ ! -x "$BIN/gitleaks" ]; then
  cat >&2 <<EOF
benches/linearity.sh: gitleaks is not installed in $BIN
  Install the peers (nothing here downloads anything):
    bash $ROOT/../shared/bench/install-peers.sh
  or point BENCH_WORK at the directory holding bin/gitleaks.
EOF
  exit 2
fi
BETTERLEAKS=$BIN/betterleaks
if [ ! -x "$BETTERLEAKS" ]; then
  log "no betterleaks in $BIN (bash $ROOT/../shared/bench/install-peers.sh installs it); its rows are skipped"
  BETTERLEAKS=
fi

if [ -z "${KEYWARD:-}" ]; then
  log "building keyward (release)"
  (cd "$ROOT" && cargo build --release --locked -q) || { echo "benches/linearity.sh: cargo build failed" >&2; exit 2; }
  KEYWARD=$ROOT/target/release/keyward
fi
[ -x "$KEYWARD" ] || { echo "benches/linearity.sh: KEYWARD=$KEYWARD is not an executable" >&2; exit 2; }

# gitleaks 8.19 renamed `detect --no-git --source DIR` to `dir DIR`.
if "$BIN/gitleaks" dir --help >/dev/null 2>&1; then
  GITLEAKS_SCAN=(dir)
else
  GITLEAKS_SCAN=(detect --no-git --source)
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/keyward-linearity.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

log "generating inputs in $TMP"
python3 - "$TMP" "$SEED" "$SIZES" "${CASES[@]}" <<'PY'
# Every key is random, made here and deleted with the directory; none is real.
import os, random, string, sys

out, seed, sizes, cases = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split()], sys.argv[4:]
ALNUM = (string.ascii_letters + string.digits).encode()
# Byte -> base62 character: the modulo bias (256 = 4*62 + 8) does not matter for a fake key,
# and one translate over a big random buffer is ~100x faster than choosing per character.
TABLE = bytes(ALNUM[b % 62] for b in range(256))


def keys(rng, n):
    """n Stripe-format live keys, 24-99 body characters (gitleaks allows 10-99, keyward 24+)."""
    lengths = [rng.randint(24, 99) for _ in range(n)]
    pool = rng.randbytes(sum(lengths)).translate(TABLE)
    pos = 0
    for length in lengths:
        yield b"sk_live_" + pool[pos:pos + length]
        pos += length


def write(name, chunks, matches):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        for c in chunks:
            f.write(c)
    with open(os.path.join(out, "manifest.tsv"), "a") as m:
        m.write(f"{name}\t{matches}\n")


rng = random.Random(seed)
for n in sizes:
    # Quotes and spaces end each key, which gitleaks' Stripe rule requires after the key.
    if "lines" in cases:
        write(f"lines-{n}.json", (b'  "' + k + b'",\n' for k in keys(rng, n)), n)
    if "oneline" in cases:
        write(f"oneline-{n}.json", [b"[" + b", ".join(b'"' + k + b'"' for k in keys(rng, n)) + b"]\n"], n)

if "pem" in cases:
    write("pem-headers.txt", [b"-----BEGIN RSA PRIVATE KEY-----\n" * 200_000], 0)

def dense(name, names):
    # Ordinary code that names credentials without holding one: reads from the
    # environment, calls, counts. Every line has a keyword, so every line runs a regex.
    templates = [
        '    token{i} = request.headers.get("Authorization")\n',
        '    password_hash{i} = hash_password(password, salt)\n',
        '    let secret_len{i} = secret.len() + {j};\n',
        '    max_tokens{i} = {j}\n',
        '    db_password{i} = os.environ["DB_PASSWORD"]\n',
        '    const refreshToken{i} = await getRefreshToken(user);\n',
        '    client_secret{i}: ${{CLIENT_SECRET}}\n',
        '    self.token_count{i} += 1\n',
        '    if not secret_name{i}: return None\n',
        '    password_retries{i} = settings.PASSWORD_RETRIES\n',
    ]
    lines, size, target = [], 0, 50 * 1024 * 1024
    while size < target:
        line = templates[rng.randrange(len(templates))].format(i=rng.randrange(names), j=rng.randrange(10**6)).encode()
        lines.append(line)
        size += len(line)
    write(name, lines, 0)


if "dense" in cases:
    dense("dense.py", 1000)
if "distinct" in cases:
    dense("distinct.py", 10**9)

if "config" in cases:
    hexd = b"0123456789abcdef"
    n = 34_000  # 38-byte lines: ~1.3 MB
    pool = rng.randbytes(32 * n).translate(bytes(hexd[b % 16] for b in range(256)))
    write("config-acme.txt", (b"acme_" + pool[i * 32:(i + 1) * 32] + b"\n" for i in range(n)), n)
    rule = (
        'id = "acme-token"\n'
        'description = "ACME internal token"\n'
        'keywords = ["acme_"]\n'
        "regex = '''(acme_[a-f0-9]{32})'''\n"
    )
    # keyward: a config extends the built-in rules; multiline widens the window each
    # keyword line opens, which is what a careless config can do.
    with open(os.path.join(out, "keyward.toml"), "w") as f:
        f.write("[[rules]]\n" + rule + "multiline = true\n")
    # gitleaks and betterleaks: the same rule beside their defaults (they match across
    # lines anyway: their regexes run over the whole fragment).
    with open(os.path.join(out, "gitleaks.toml"), "w") as f:
        f.write("[extend]\nuseDefault = true\n\n[[rules]]\n" + rule)
PY

log "timing (runs=$RUNS, timeout=${TIMEOUT}s per run)"
python3 - "$TMP" "$KEYWARD" "$BIN/gitleaks" "$BETTERLEAKS" "$RUNS" "$TIMEOUT" "${GITLEAKS_SCAN[*]}" <<'PY'
import json, os, re, signal, statistics, subprocess, sys, threading, time

tmp, keyward, gitleaks, betterleaks = sys.argv[1:5]
runs, timeout, gl_scan = int(sys.argv[5]), float(sys.argv[6]), sys.argv[7].split()
env = dict(os.environ, NO_COLOR="1")


def log(msg):
    print(f"[linearity {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


# Peak RSS comes from GNU time, which forks the tool from its own small process: a child
# forked from this Python process would inherit its high-water mark (gigabytes once a
# million-finding report has been parsed), since Linux carries it across exec.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_once(cmd, report):
    """Wall seconds and peak RSS (MB, or None) of one run, or (None, None) when cut off."""
    if os.path.exists(report):
        os.remove(report)
    rss_file = os.path.join(tmp, "rss")
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file, *cmd]
    with open(os.path.join(tmp, "stdout"), "wb") as so, open(os.path.join(tmp, "stderr"), "wb") as se:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=so, stderr=se, env=env, cwd=tmp, start_new_session=True)
        # A timer kills the whole group so a quadratic run cannot hold the benchmark.
        cut = threading.Event()
        def kill():
            cut.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        p.wait()
        wall = time.monotonic() - start
        timer.cancel()
    if cut.is_set():
        return None, None
    # Exit 1 means findings for all three tools; anything else is a failure to report.
    if p.returncode not in (0, 1):
        err = open(os.path.join(tmp, "stderr"), "rb").read().decode("utf-8", "replace").strip()
        raise RuntimeError(f"{cmd[0]} exited {p.returncode}: {err[-500:]}")
    peak = None
    if GNU_TIME:
        try:
            peak = int(open(rss_file).read().split()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
    return wall, peak


# The rule each tool reports a planted key under; other findings are extra (a generic
# rule firing inside a random key body, a private-key rule on bare headers).
PLANTED_RULE = {
    "lines": {"keyward": "stripe-live-secret-key", "gitleaks": "stripe-access-token", "betterleaks": "stripe-access-token"},
    "oneline": {"keyward": "stripe-live-secret-key", "gitleaks": "stripe-access-token", "betterleaks": "stripe-access-token"},
    "config": {"keyward": "acme-token", "gitleaks": "acme-token", "betterleaks": "acme-token"},
}


def count(case, tool, report):
    """(findings, of them under the planted key's rule) from a tool's JSON report."""
    try:
        data = json.load(open(report, "rb"))
    except (OSError, ValueError):
        return "?", "?"
    # keyward and betterleaks wrap the findings in a document; gitleaks writes a bare array.
    findings = data.get("findings", []) if isinstance(data, dict) else data
    rule = PLANTED_RULE.get(case, {}).get(tool)
    if rule is None:
        return len(findings), "-"
    field = {"keyward": "rule", "gitleaks": "RuleID", "betterleaks": "rule_id"}[tool]
    return len(findings), sum(1 for f in findings if f.get(field) == rule)


def commands(tool, path, config):
    report = os.path.join(tmp, "report.json")
    if tool == "keyward":
        cmd = [keyward, "scan", "--format", "json", "--report", report, path]
        if config:
            cmd[2:2] = ["--config", os.path.join(tmp, "keyward.toml")]
    elif tool == "gitleaks":
        cmd = [gitleaks, *gl_scan, path, "--no-banner", "--redact", "--log-level", "error",
               "--report-format", "json", "--report-path", report]
    else:
        # -s: without it betterleaks also draws every finding on stdout, and 1M drawings
        # would be most of what is timed.
        cmd = [betterleaks, "fs", path, "-s", "--no-banner", "--redact", "--log-level", "error",
               "--output", report]
    if config and tool != "keyward":
        cmd += ["--config", os.path.join(tmp, "gitleaks.toml")]
    return cmd, report


tools = ["keyward", "gitleaks"] + (["betterleaks"] if betterleaks else [])
inputs = [line.rstrip("\n").split("\t") for line in open(os.path.join(tmp, "manifest.tsv"))]
LABEL = {
    "lines": "{n:,} keys, one per line",
    "oneline": "{n:,} keys on one line",
    "pem": "200,000 RSA PEM header lines",
    "dense": "token/secret/password on every line, no secret",
    "distinct": "the same, no line recurring",
    "config": "custom multiline rule, keyword on every line",
}

rows, timed_out = [], set()
for name, matches in inputs:
    matches = int(matches)
    case = name.split("-")[0].split(".")[0]
    path = os.path.join(tmp, name)
    size = os.path.getsize(path)
    medians = {}
    for tool in tools:
        cmd, report = commands(tool, path, case == "config")
        row = dict(input=LABEL[case].format(n=matches), size=size, matches=matches, tool=tool)
        if (case, tool) in timed_out:
            # The case grows ten-fold per row: a tool past the timeout at N is past it at 10N.
            row.update(median=None, note="not run", findings="-", planted="-", rss="-")
            rows.append(row)
            medians[tool] = None
            continue
        walls, rss = [], None
        for _ in range(runs):
            wall, peak = run_once(cmd, report)
            if wall is None:
                walls = None
                break
            walls.append(wall)
            if peak is not None:
                rss = max(rss or 0.0, peak)
        if walls is None:
            timed_out.add((case, tool))
            row.update(median=None, note="timeout", findings="-", planted="-", rss="-")
            medians[tool] = None
        else:
            found, planted = count(case, tool, report)
            row.update(median=statistics.median(walls), note="", findings=found, planted=planted,
                       rss="?" if rss is None else f"{rss:.0f}")
            medians[tool] = row["median"]
        log(f"{name} / {tool}: {row['median'] if row['median'] is not None else row['note']}"
            f" findings={row['findings']} planted-rule={row['planted']}")
        rows.append(row)
    for row in rows[-len(tools):]:
        row["gl"] = medians.get("gitleaks")


def secs(row):
    if row["median"] is not None:
        return f"{row['median']:.2f}"
    return f">{timeout:.0f} (not run)" if row["note"] == "not run" else f">{timeout:.0f}"


def rate(row, amount, scale=1.0, digits=0):
    if amount == 0:
        return "-"
    if row["median"] is None:
        return f"<{amount / scale / timeout:,.{digits}f}"
    return f"{amount / scale / row['median']:,.{digits}f}"


def num(v):
    return f"{v:,}" if isinstance(v, int) else str(v)


def ratio(row):
    if row["tool"] != "keyward":
        return ""
    gl = row["gl"]
    if gl is None:
        return "?"
    if row["median"] is None:
        return f">{timeout / gl:.0f}x"
    return f"{row['median'] / gl:.2f}x"


ncpu = os.cpu_count()
cpu = "?"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    pass
mem = "?"
try:
    kib = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    mem = f"{kib / 2**20:.0f} GiB"
except (OSError, AttributeError):
    pass
print("# keyward linearity benchmark\n")
print(f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
print(f"- machine: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip() or ncpu} cores"
      f" ({cpu}), {mem} RAM, {os.uname().sysname} {os.uname().release}")
print(f"- keyward: `{version([keyward, '--version'])}` ({keyward})")
print(f"- gitleaks: {version([gitleaks, 'version'])} (`gitleaks {' '.join(gl_scan)}`)")
if betterleaks:
    print(f"- betterleaks: {version([betterleaks, 'version'])} (`betterleaks fs`)")
print(f"- median of {runs} runs; a run is cut off after {timeout:.0f} s; JSON report to a file,"
      " secrets redacted (`--redact` for the peers)")
print()
hdr = ["input", "MB", "matches", "tool", "median s", "matches/s", "MB/s", "findings", "of the planted rule",
       "peak RSS MB", "keyward/gitleaks"]
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for row in rows:
    cells = [row["input"], f"{row['size'] / 1e6:.1f}", f"{row['matches']:,}", row["tool"], secs(row),
             rate(row, row["matches"]), rate(row, row["size"], 1e6, 1),
             num(row["findings"]), num(row["planted"]), row["rss"], ratio(row)]
    print("| " + " | ".join(cells) + " |")
print()
print("matches: keys planted (random, in the real format); findings: what the tool reported;"
      " of the planted rule: those under the rule for the planted key (stripe-live-secret-key,"
      " gitleaks' stripe-access-token, the config's acme-token)."
      " `>T`: cut off at T s; `not run`: the same case timed out at a smaller N."
      " keyward/gitleaks: ratio of medians from this run (below 1: keyward is faster).")
PY
