#!/usr/bin/env python3
"""Score keyward and its peers side by side on the labelled corpus.

    cargo run --release --example corpus -- --seed 1 --out /tmp/corpus
    python3 benches/corpus/score.py /tmp/corpus [--tools keyward,gitleaks,...]
        [--keyward PATH] [--bin DIR] [--detail TOOL]

Each tool scans each split directory once (DIR/tune, DIR/heldout: plain files,
not a git repository, so no tool reads history); its findings are mapped back to
cases by their case directory (DIR/<split>/<family>/<index>-<shape>/). Then, per
family and tool:

- found/positives: a positive is found when a finding is on its line; anywhere in
  the file for a `file` expectation; on any line of the block for a PEM private
  key (header to footer); a finding without a line (a binary offset) counts for
  every expectation of its case.
- false alarms: distinct (case, line) of findings that found nothing: on a decoy
  case, or on another line of a positive case.

Exact commands (TOOL_DIR defaults to /tmp/bench-work/bin, where
/work/shared/bench/install-peers.sh puts the peers), each tool on its default
rules and settings:

  keyward        KEYWARD scan --format json SPLIT_DIR                     (stdout; exit 1 = findings)
  gitleaks       gitleaks dir SPLIT_DIR --no-banner -f json -r OUT.json   (decodes base64/percent/
                 unicode by default, --max-decode-depth 5; archives off by default, --max-archive-depth 0)
  betterleaks    betterleaks fs SPLIT_DIR --no-banner -o OUT.json         (decodes, --max-decode-depth 5;
                 opens archives, --max-archive-depth 8; no validation unless asked)
  kingfisher     kingfisher scan SPLIT_DIR --git-history none --no-validate --no-update-check
                 --no-dedup -f json -o OUT.json                           (extracts archives, depth 2,
                 and decodes base64 by default; --no-dedup only reports every location of a secret,
                 so repeated decoys are counted per file like every other tool's)
  detect-secrets cd SPLIT_DIR && detect-secrets scan --all-files .        (stdout; all default plugins
                 and filters)

Python 3 standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TOOLS = ["keyward", "betterleaks", "gitleaks", "kingfisher", "detect-secrets"]


def run(cmd, cwd=None, stdout_path=None):
    env = dict(os.environ, NO_COLOR="1", KF_RULE_CACHE_DIR=os.environ.get(
        "KF_RULE_CACHE_DIR", "/tmp/bench-work/kf-cache"))
    started = time.monotonic()
    with open(stdout_path or os.devnull, "wb") as out:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE, env=env)
    return proc.returncode, time.monotonic() - started, proc.stderr.decode("utf-8", "replace")


def scan(tool, split_dir, bins, keyward, work):
    """Run one tool over one split; return ([(path, line or None)], seconds, rc)."""
    out = os.path.join(work, tool + ".json")
    if tool == "keyward":
        rc, secs, err = run([keyward, "scan", "--format", "json", split_dir], stdout_path=out)
        if rc not in (0, 1):
            sys.exit("keyward failed (exit %d): %s" % (rc, err))
        found = [(f["path"], f["line"]) for f in json.load(open(out))["findings"]]
    elif tool == "gitleaks":
        rc, secs, err = run([os.path.join(bins, "gitleaks"), "dir", split_dir, "--no-banner",
                             "-f", "json", "-r", out])
        found = [(f["File"], f["StartLine"]) for f in json.load(open(out))]
    elif tool == "betterleaks":
        rc, secs, err = run([os.path.join(bins, "betterleaks"), "fs", split_dir, "--no-banner",
                             "-o", out])
        found = [(f["location"]["path"], f["location"].get("start_line"))
                 for f in json.load(open(out)).get("findings") or []]
    elif tool == "kingfisher":
        rc, secs, err = run([os.path.join(bins, "kingfisher"), "scan", split_dir,
                             "--git-history", "none", "--no-validate", "--no-update-check",
                             "--no-dedup", "-f", "json", "-o", out])
        found = [(f["finding"]["path"], f["finding"].get("line"))
                 for f in json.load(open(out))["findings"]]
    elif tool == "detect-secrets":
        rc, secs, err = run([os.path.join(bins, "detect-secrets"), "scan", "--all-files", "."],
                            cwd=split_dir, stdout_path=out)
        found = [(os.path.join(split_dir, path), f["line_number"])
                 for path, fs in json.load(open(out))["results"].items() for f in fs]
    else:
        sys.exit("unknown tool %r" % tool)
    if rc not in (0, 1, 200) and not found:
        print("warning: %s exited %d: %s" % (tool, rc, err.strip()[-300:]), file=sys.stderr)
    return found, secs, rc


def case_of(path, split_dir):
    """(case dir relative to the split, inside-an-archive?) for a finding's path."""
    rel = os.path.relpath(os.path.realpath(path.split("!", 1)[0]), os.path.realpath(split_dir))
    parts = rel.split(os.sep)
    if len(parts) < 3 or parts[0] == "..":
        return None, False
    return parts[0] + "/" + parts[1], "!" in path


def spans(root, case):
    """Per expectation: None for `file`, else the (first, last) lines that count."""
    out = []
    lines = None
    for e in case["expects"]:
        if e["line"] == "file":
            out.append(None)
            continue
        first = last = e["line"]
        if lines is None:
            with open(os.path.join(root, case["file"]), "rb") as f:
                lines = f.read().decode("utf-8", "replace").split("\n")
        if "-----BEGIN" in lines[first - 1] and "-----END" not in lines[first - 1]:
            for n in range(first, len(lines)):
                if "-----END" in lines[n]:
                    last = n + 1
                    break
        out.append((first, last))
    return out


def score(root, split, cases, findings):
    """Per family: [positives, found, decoy cases, false alarms]; misses; alarms."""
    split_dir = os.path.join(root, split)
    by_case = {}
    for path, line in findings:
        key, in_archive = case_of(path, split_dir)
        if key is None:
            continue
        by_case.setdefault(key, set()).add(None if in_archive else line)
    table, misses, alarms = {}, [], []
    for case in cases:
        key = case["dir"].split("/", 1)[1]
        row = table.setdefault(case["family"], [0, 0, 0, 0])
        # The key kind (sk_live, sk_org_test, openssh, ...) follows the template in the shape.
        kind = table.setdefault("kind:" + (case["shape"].split(".") + ["-"])[1], [0, 0, 0, 0])
        hits = by_case.get(key, set())
        if not case["expects"]:
            row[2] += 1
            row[3] += len(hits)
            alarms += ["%s:%s" % (case["dir"], l) for l in sorted(hits, key=str)]
            continue
        used = set()
        for span in spans(root, case):
            row[0] += 1
            kind[0] += 1
            if span is None:
                ok = bool(hits)
                used |= hits
            else:
                on = {l for l in hits if l is None or span[0] <= l <= span[1]}
                ok = bool(on)
                used |= on
            row[1] += ok
            kind[1] += ok
            if not ok:
                misses.append(case["dir"])
        row[3] += len(hits - used)
        alarms += ["%s:%s" % (case["dir"], l) for l in sorted(hits - used, key=str)]
    return table, misses, alarms


def by_shape(items):
    """Case dirs (with an optional :line) grouped by family/template, key kind left out."""
    groups = {}
    for item in items:
        family, case = item.split("/")[1:3]
        template = case.split("-", 1)[1].split(":")[0].split(".")[0]
        n, first = groups.get(family + "/" + template, (0, item))
        groups[family + "/" + template] = (n + 1, first)
    return groups


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--keyward", default="keyward")
    ap.add_argument("--bin", default="/tmp/bench-work/bin", help="where the peers are")
    ap.add_argument("--detail", metavar="TOOL", help="also list TOOL's misses and false alarms")
    args = ap.parse_args()
    root = os.path.abspath(args.dir)
    labels = json.load(open(os.path.join(root, "labels.json")))
    tools = [t for t in args.tools.split(",") if t]
    for split in ("tune", "heldout"):
        cases = [c for c in labels["cases"] if c["split"] == split]
        results, timing = {}, {}
        for tool in tools:
            with tempfile.TemporaryDirectory() as work:
                findings, secs, _ = scan(tool, os.path.join(root, split), args.bin,
                                         args.keyward, work)
            results[tool] = score(root, split, cases, findings)
            timing[tool] = secs
        # Families in the order the generator makes them.
        families = list(dict.fromkeys(c["family"] for c in cases))
        kinds = sorted({k for t in tools for k, row in results[t][0].items()
                        if k.startswith("kind:") and row[0]})
        print("\n### %s (%d cases)\n" % (split, len(cases)))
        print("Cells: found/positives · false alarms.\n")
        print("| family | positives | decoy files | " + " | ".join(tools) + " |")
        print("|---|---:|---:|" + "---|" * len(tools))
        total = {t: [0, 0, 0, 0] for t in tools}
        for fam in families + ["overall"]:
            cells = []
            for t in tools:
                row = results[t][0].get(fam, [0, 0, 0, 0]) if fam != "overall" else total[t]
                if fam != "overall":
                    total[t] = [a + b for a, b in zip(total[t], row)]
                cells.append("%d/%d · %d" % (row[1], row[0], row[3]))
            ref = results[tools[0]][0].get(fam, [0, 0, 0, 0]) if fam != "overall" else total[tools[0]]
            name = "**overall**" if fam == "overall" else fam
            print("| %s | %d | %d | %s |" % (name, ref[0], ref[2], " | ".join(cells)))
        print("\nPositives by key kind, all families (found/positives):\n")
        print("| kind | positives | " + " | ".join(tools) + " |")
        print("|---|---:|" + "---|" * len(tools))
        for k in kinds:
            cells = [results[t][0].get(k, [0, 0]) for t in tools]
            print("| %s | %d | %s |" % (k[5:], cells[0][0],
                                        " | ".join("%d/%d" % (c[1], c[0]) for c in cells)))
        print("\nScan wall time (s): " + ", ".join("%s %.1f" % (t, timing[t]) for t in tools))
        if args.detail in results:
            _, missed, alarmed = results[args.detail]
            for what, items in (("misses", missed), ("false alarms", alarmed)):
                print("\n%s, %s, %s by shape (first case):\n" % (args.detail, split, what))
                for shape, (n, first) in sorted(by_shape(items).items()):
                    print("- %3d  %s  (%s)" % (n, shape, first))


if __name__ == "__main__":
    main()
