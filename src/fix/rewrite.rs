//! The text of one file version rewritten so each key in it is read from the
//! environment: pure functions over bytes, with no repository and no rule in
//! sight. Anything that cannot be done safely comes back as the reason, and then
//! nothing of that file is changed.

use memchr::memmem;

use super::lang::{kind, platform, Import, Kind, Language, Platform};

/// Lines longer than this mean a minified or machine-written file.
const MINIFIED_LINE: usize = 1_000;

/// One replacement: `range` of the original becomes `with`.
struct Edit {
    start: usize,
    end: usize,
    with: Vec<u8>,
}

/// Why a file is not one to edit by machine, if it is not.
pub fn unsafe_file(path: &str, text: &[u8]) -> Option<&'static str> {
    if memchr::memchr(0, text).is_some() {
        return Some("a binary file");
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.contains(".min.") || text.split(|&b| b == b'\n').any(|l| l.len() > MINIFIED_LINE) {
        return Some("a minified file (edit its source, then rebuild it)");
    }
    let head = &text[..text.len().min(1024)];
    let lower = head.to_ascii_lowercase();
    for marker in [
        &b"@generated"[..],
        b"do not edit",
        b"code generated",
        b"auto-generated",
    ] {
        if memmem::find(&lower, marker).is_some() {
            return Some("a generated file (fix what generates it)");
        }
    }
    None
}

/// The one place `secret` is in `text`.
pub fn find_once(text: &[u8], secret: &[u8]) -> Result<usize, String> {
    let mut hits = memmem::find_iter(text, secret);
    let Some(first) = hits.next() else {
        return Err("not found as written (encoded, or split across lines)".into());
    };
    let more = hits.count();
    if more > 0 {
        return Err(format!(
            "the same key is written {} times in this file: decide by hand which uses read it",
            more + 1
        ));
    }
    Ok(first)
}

fn line_start(text: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1)
}

fn line_end(text: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i)
}

/// The whole string literal around the key in a language whose literals are
/// replaced by an expression: its range, prefix and quotes included.
fn literal(
    text: &[u8],
    at: usize,
    len: usize,
    quotes: &[u8],
    prefixes: &[u8],
    refused: &[u8],
) -> Result<(usize, usize), String> {
    let end = at + len;
    let (Some(&q), Some(&after)) = (at.checked_sub(1).map(|i| &text[i]), text.get(end)) else {
        return Err("not in a string literal".into());
    };
    if !quotes.contains(&q) {
        return Err("not in a string literal".into());
    }
    if after != q {
        return Err(
            "part of a longer string: move the whole value to the environment by hand".into(),
        );
    }
    let (mut start, mut stop) = (at - 1, end + 1);
    // Triple-quoted: `"""key"""`.
    let triple = at >= 3
        && text[at - 3..at].iter().all(|&b| b == q)
        && text
            .get(end..end + 3)
            .is_some_and(|t| t.iter().all(|&b| b == q));
    if triple {
        start = at - 3;
        stop = end + 3;
    }
    while start > 0 && prefixes.contains(&text[start - 1]) {
        start -= 1;
    }
    if start > 0 && refused.contains(&text[start - 1]) {
        return Err("a bytes literal, which an environment string cannot replace".into());
    }
    if start > 0 && is_ident(text[start - 1]) {
        return Err("a string literal with a prefix keyward does not know".into());
    }
    Ok((start, stop))
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The shell quoting in force at the end of `prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

fn quote_at_end(prefix: &[u8]) -> Quote {
    let mut state = Quote::None;
    let mut i = 0;
    while i < prefix.len() {
        let b = prefix[i];
        match (state, b) {
            (Quote::None | Quote::Double, b'\\') => i += 1,
            (Quote::None, b'\'') => state = Quote::Single,
            (Quote::Single, b'\'') => state = Quote::None,
            (Quote::None, b'"') => state = Quote::Double,
            (Quote::Double, b'"') => state = Quote::None,
            _ => {}
        }
        i += 1;
    }
    state
}

/// The name the code gives the value: `PAYMENTS_KEY = "…"`, `paymentsKey: "…"`,
/// `export STRIPE_KEY=…`, from the text on its line before the literal.
pub fn name_from_code(prefix: &[u8]) -> Option<String> {
    let mut s = std::str::from_utf8(prefix).ok()?.trim_end();
    s = s.trim_end_matches(['"', '\'', '`']).trim_end();
    let op = [":=", "||=", "??=", "?=", "=>", "=", ":"]
        .iter()
        .find(|op| s.ends_with(**op))?;
    s = s[..s.len() - op.len()].trim_end();
    s = s.trim_end_matches(['"', '\'', ']']);
    // The last word that is not a type (`var key string`, `val key: String`).
    let words = s
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| !w.is_empty());
    let word = words.rev().find(|w| {
        !matches!(
            *w,
            "string" | "String" | "str" | "const" | "let" | "var" | "val"
        )
    })?;
    env_name(word.trim_matches('-'))
}

/// `paymentsKey` → `PAYMENTS_KEY`; `None` when nothing usable is left.
pub fn env_name(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in word.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        match c {
            '-' | '_' | '.' => {
                if !out.ends_with('_') {
                    out.push('_');
                }
            }
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
            _ => return None,
        }
    }
    let out = out.trim_matches('_').to_string();
    (out.len() >= 2 && out.starts_with(|c: char| c.is_ascii_uppercase())).then_some(out)
}

/// Names that say only that something is a secret: the rule's name is better.
pub fn is_generic(name: &str) -> bool {
    matches!(
        name,
        "KEY"
            | "API_KEY"
            | "APIKEY"
            | "X_API_KEY"
            | "SECRET"
            | "SECRET_KEY"
            | "TOKEN"
            | "ACCESS_TOKEN"
            | "AUTH_TOKEN"
            | "PASSWORD"
            | "PASSWD"
            | "PASS"
            | "PWD"
            | "VALUE"
            | "VAL"
            | "AUTH"
            | "AUTHORIZATION"
            | "BEARER"
            | "CREDENTIAL"
            | "CREDENTIALS"
            | "DATA"
    )
}

/// Where a key is in one version of a file, and the name the code gives it.
pub struct Located {
    pub code_name: Option<String>,
}

pub fn locate(language: Language, text: &[u8], secret: &[u8]) -> Result<Located, String> {
    if secret.contains(&b'\n') {
        return Err("the key spans lines".into());
    }
    let offset = find_once(text, secret)?;
    let start = line_start(text, offset);
    let mut before = offset;
    if let Kind::Expression {
        quotes, prefixes, ..
    } = kind(language)
    {
        if let Ok((s, _)) = literal(text, offset, secret.len(), quotes, prefixes, b"") {
            before = s;
        }
    }
    Ok(Located {
        code_name: name_from_code(&text[start..before]),
    })
}

/// The key's name in Terraform: `var.stripe_secret_key`, read from
/// `TF_VAR_stripe_secret_key`.
pub fn terraform_var(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// `text` with each `(secret, NAME)` read from the environment instead.
pub fn rewrite(
    language: Language,
    path: &str,
    text: &[u8],
    keys: &[(&[u8], &str)],
) -> Result<Vec<u8>, String> {
    if let Some(why) = unsafe_file(path, text) {
        return Err(why.into());
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut import = Import::None;
    let mut docker_syntax = false;
    let mut tf_vars: Vec<String> = Vec::new();
    for &(secret, name) in keys {
        if secret.contains(&b'\n') {
            return Err("the key spans lines".into());
        }
        let at = find_once(text, secret)?;
        let end = at + secret.len();
        let ls = line_start(text, at);
        let line = &text[ls..line_end(text, at)];
        match kind(language) {
            Kind::Expression {
                quotes,
                prefixes,
                refused_prefixes,
                read,
                import: needs,
                constant_markers,
            } => {
                let line_text = String::from_utf8_lossy(line);
                let trimmed = line_text.trim_start();
                if let Some(m) = constant_markers
                    .iter()
                    .find(|m| trimmed.starts_with(**m) || line_text.contains(&format!(" {m}")))
                {
                    return Err(format!(
                        "on a line with `{}`, where the value must be a constant",
                        m.trim()
                    ));
                }
                if language == Language::Go && in_go_const_block(&text[..ls]) {
                    return Err("in a Go const block, where the value must be a constant".into());
                }
                let (start, stop) =
                    literal(text, at, secret.len(), quotes, prefixes, refused_prefixes)?;
                let mut expression = read.replace("{}", name);
                if needs == Import::CSharpSystem && !has_line(text, "using System;") {
                    expression = format!("System.{expression}");
                }
                import = needs;
                edits.push(Edit {
                    start,
                    end: stop,
                    with: expression.into_bytes(),
                });
            }
            Kind::Shell => {
                let with = match quote_at_end(&text[ls..at]) {
                    Quote::Single => {
                        return Err("inside single quotes, where the shell reads no variable".into())
                    }
                    Quote::Double => format!("${{{name}}}"),
                    Quote::None => format!("\"${{{name}}}\""),
                };
                edits.push(Edit {
                    start: at,
                    end,
                    with: with.into_bytes(),
                });
            }
            Kind::Yaml => {
                let with = match platform(path) {
                    Platform::GitHubActions => format!("${{{{ secrets.{name} }}}}"),
                    Platform::GitLab => format!("${name}"),
                    Platform::Interpolating => format!("${{{name}}}"),
                };
                edits.push(Edit {
                    start: at,
                    end,
                    with: with.into_bytes(),
                });
            }
            Kind::Terraform => {
                let var = terraform_var(name);
                let whole = at > 0 && text[at - 1] == b'"' && text.get(end) == Some(&b'"');
                if whole {
                    edits.push(Edit {
                        start: at - 1,
                        end: end + 1,
                        with: format!("var.{var}").into_bytes(),
                    });
                } else if quote_at_end(&text[ls..at]) == Quote::Double {
                    edits.push(Edit {
                        start: at,
                        end,
                        with: format!("${{var.{var}}}").into_bytes(),
                    });
                } else {
                    return Err("not in a Terraform string".into());
                }
                tf_vars.push(var);
            }
            Kind::Dockerfile => {
                let (instruction, args) = docker_instruction(text, at);
                let word: String = String::from_utf8_lossy(&text[instruction..args])
                    .trim()
                    .to_ascii_uppercase();
                match word.as_str() {
                    "RUN" => {}
                    "ENV" | "ARG" => {
                        return Err(format!(
                            "set with {word}, whose value stays in the image history: move it to a \
                             build secret (RUN --mount=type=secret) in the steps that use it, by hand"
                        ))
                    }
                    _ => {
                        return Err(format!(
                            "in a {word} instruction: only a RUN step can read a build secret"
                        ))
                    }
                }
                if text.get(args) == Some(&b'[') {
                    return Err("an exec-form RUN, with no shell to read the secret".into());
                }
                let with = match quote_at_end(&text[args..at]) {
                    Quote::Single => {
                        return Err("inside single quotes, where the shell reads no variable".into())
                    }
                    Quote::Double => format!("${{{name}}}"),
                    Quote::None => format!("\"${{{name}}}\""),
                };
                let id = name.to_ascii_lowercase();
                edits.push(Edit {
                    start: args,
                    end: args,
                    with: format!("--mount=type=secret,id={id},env={name} ").into_bytes(),
                });
                edits.push(Edit {
                    start: at,
                    end,
                    with: with.into_bytes(),
                });
                docker_syntax = true;
            }
        }
    }
    match import {
        Import::PythonOs => {
            if let Some(at) = python_import_at(text)? {
                let with = if at == text.len() && !text.ends_with(b"\n") && !text.is_empty() {
                    b"\nimport os\n".to_vec()
                } else {
                    b"import os\n".to_vec()
                };
                edits.push(Edit {
                    start: at,
                    end: at,
                    with,
                });
            }
        }
        Import::GoOs => {
            if let Some((at, with)) = go_import_at(text)? {
                edits.push(Edit {
                    start: at,
                    end: at,
                    with,
                });
            }
        }
        Import::None | Import::CSharpSystem => {}
    }
    if docker_syntax && !has_docker_syntax(text) {
        edits.push(Edit {
            start: 0,
            end: 0,
            with: b"# syntax=docker/dockerfile:1\n".to_vec(),
        });
    }
    let mut tail = Vec::new();
    for var in tf_vars {
        let declared = format!("variable \"{var}\"");
        if memmem::find(text, declared.as_bytes()).is_none() {
            if !text.ends_with(b"\n") && !text.is_empty() {
                tail.push(b'\n');
            }
            tail.extend_from_slice(
                format!("\n{declared} {{\n  type      = string\n  sensitive = true\n}}\n")
                    .as_bytes(),
            );
        }
    }
    // Later edits first, so earlier offsets stay valid; at one offset, the one
    // pushed first ends up first.
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = text.to_vec();
    let mut floor = usize::MAX;
    for e in &edits {
        if e.end > floor {
            return Err("two keys overlap".into());
        }
        out.splice(e.start..e.end, e.with.iter().copied());
        floor = e.start;
    }
    out.extend_from_slice(&tail);
    Ok(out)
}

fn has_line(text: &[u8], wanted: &str) -> bool {
    text.split(|&b| b == b'\n')
        .any(|l| String::from_utf8_lossy(l).trim() == wanted)
}

/// Whether the text before a line leaves it inside `const ( … )`.
fn in_go_const_block(before: &[u8]) -> bool {
    let mut inside = false;
    for l in before.split(|&b| b == b'\n') {
        let l = String::from_utf8_lossy(l);
        let l = l.trim();
        if l.starts_with("const (") {
            inside = true;
        } else if l == ")" {
            inside = false;
        }
    }
    inside
}

/// The Dockerfile instruction holding `at`: where its keyword starts and where
/// its arguments start. Continuation lines (`\` at the end) belong to the line
/// above.
fn docker_instruction(text: &[u8], at: usize) -> (usize, usize) {
    let mut start = line_start(text, at);
    while start > 0 {
        let prev = line_start(text, start - 1);
        let prev_line = String::from_utf8_lossy(&text[prev..start - 1]);
        if prev_line.trim_end().ends_with('\\') {
            start = prev;
        } else {
            break;
        }
    }
    let mut i = start;
    while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
        i += 1;
    }
    let keyword = i;
    while i < text.len() && text[i].is_ascii_alphabetic() {
        i += 1;
    }
    while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
        i += 1;
    }
    (keyword, i)
}

/// Whether the Dockerfile's parser directives (the `# key=value` lines at its
/// very top) name a syntax already.
fn has_docker_syntax(text: &[u8]) -> bool {
    for l in text.split(|&b| b == b'\n') {
        let l = String::from_utf8_lossy(l);
        let Some(rest) = l.trim().strip_prefix('#') else {
            return false;
        };
        let Some((key, _)) = rest.split_once('=') else {
            return false;
        };
        if key.trim().eq_ignore_ascii_case("syntax") {
            return true;
        }
    }
    false
}

/// Where `import os` goes in a Python module that lacks it: after the shebang
/// and comments, the module docstring and `from __future__` imports. `None` when
/// `os` is already imported at the top level.
fn python_import_at(text: &[u8]) -> Result<Option<usize>, String> {
    let src = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_string())?;
    for l in src.lines() {
        if let Some(names) = l.strip_prefix("import ") {
            let bound = names
                .split(',')
                .map(str::trim)
                .any(|n| n == "os" || (n.starts_with("os.") && !n.contains(" as ")));
            if bound {
                return Ok(None);
            }
        }
    }
    // (start, end) of each line, end past its newline.
    let mut lines = Vec::new();
    let mut at = 0;
    for l in src.split_inclusive('\n') {
        lines.push((at, at + l.len()));
        at += l.len();
    }
    let text_of = |i: usize| &src[lines[i].0..lines[i].1];
    let blank_or_comment = |s: &str| {
        let t = s.trim();
        t.is_empty() || t.starts_with('#')
    };
    let mut i = 0;
    while i < lines.len() && blank_or_comment(text_of(i)) {
        i += 1;
    }
    let mut insert = lines.get(i).map_or(src.len(), |l| l.0);
    if i < lines.len() {
        let first = text_of(i).trim_start();
        let body = first.trim_start_matches(['r', 'R', 'u', 'U']);
        if let Some(q) = ["\"\"\"", "'''"].iter().find(|q| body.starts_with(**q)) {
            let open = lines[i].0 + (text_of(i).len() - body.len()) + 3;
            let close = src[open..]
                .find(q)
                .ok_or("its module docstring does not end")?
                + open
                + 3;
            while i < lines.len() && lines[i].1 <= close {
                i += 1;
            }
            if i < lines.len() && lines[i].0 < close {
                i += 1;
            }
            insert = lines.get(i).map_or(src.len(), |l| l.0);
        } else if body.starts_with('"') || body.starts_with('\'') {
            // A one-line docstring in single quotes.
            i += 1;
            insert = lines.get(i).map_or(src.len(), |l| l.0);
        }
    }
    let mut j = i;
    while j < lines.len() {
        let t = text_of(j);
        if blank_or_comment(t) {
            j += 1;
            continue;
        }
        if t.starts_with("from __future__ import") {
            if t.contains('(') && !t.contains(')') || t.trim_end().ends_with('\\') {
                return Err("its __future__ import spans lines".into());
            }
            j += 1;
            insert = lines.get(j).map_or(src.len(), |l| l.0);
            continue;
        }
        break;
    }
    Ok(Some(insert))
}

/// Where `"os"` goes in a Go file's import block, sorted as gofmt sorts the
/// block's first group. `None` when `os` is imported already.
fn go_import_at(text: &[u8]) -> Result<Option<(usize, Vec<u8>)>, String> {
    let src = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_string())?;
    if src
        .lines()
        .any(|l| matches!(l.trim(), "\"os\"" | "import \"os\""))
    {
        return Ok(None);
    }
    let mut at = 0;
    let mut block = None;
    for l in src.split_inclusive('\n') {
        at += l.len();
        if l.trim() == "import (" {
            block = Some(at);
            break;
        }
    }
    let Some(start) = block else {
        return Err("it has no import block to add \"os\" to".into());
    };
    let mut at = start;
    let mut insert = None;
    let mut indent = "\t".to_string();
    let mut last_end = start;
    for l in src[start..].split_inclusive('\n') {
        let t = l.trim();
        if t == ")" || t.is_empty() {
            break;
        }
        let path = t.rsplit(' ').next().unwrap_or(t);
        let simple = path.len() >= 2
            && path.starts_with('"')
            && path.ends_with('"')
            && t.split(' ').count() <= 2;
        if !simple {
            return Err("its import block is not a plain list".into());
        }
        if at == start {
            indent = l[..l.len() - l.trim_start().len()].to_string();
        }
        if insert.is_none() && &path[1..path.len() - 1] > "os" {
            insert = Some(at);
        }
        at += l.len();
        last_end = at;
    }
    let at = insert.unwrap_or(last_end);
    Ok(Some((at, format!("{indent}\"os\"\n").into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(language: Language, path: &str, text: &str, secret: &str, name: &str) -> String {
        let out = rewrite(
            language,
            path,
            text.as_bytes(),
            &[(secret.as_bytes(), name)],
        )
        .unwrap_or_else(|e| panic!("{path}: {e}"));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn names_come_from_the_code() {
        assert_eq!(
            name_from_code(b"PAYMENTS_KEY = "),
            Some("PAYMENTS_KEY".into())
        );
        assert_eq!(
            name_from_code(b"  const paymentsKey: string = "),
            Some("PAYMENTS_KEY".into())
        );
        assert_eq!(
            name_from_code(b"export STRIPE_KEY="),
            Some("STRIPE_KEY".into())
        );
        assert_eq!(name_from_code(b"  stripe-key: "), Some("STRIPE_KEY".into()));
        assert_eq!(name_from_code(b"var key string = "), Some("KEY".into()));
        assert_eq!(name_from_code(b"stripe.setKey("), None);
        assert_eq!(
            name_from_code(b"$config['api_key'] = "),
            Some("API_KEY".into())
        );
        assert!(is_generic("API_KEY"));
    }

    #[test]
    fn python_import_goes_after_docstring_and_future() {
        let k = "KEYVALUE123";
        let src = format!("#!/usr/bin/env python3\n\"\"\"Doc.\n\nMore.\n\"\"\"\nfrom __future__ import annotations\n\nK = \"{k}\"\n");
        let out = fix(Language::Python, "a.py", &src, k, "K");
        assert_eq!(out, "#!/usr/bin/env python3\n\"\"\"Doc.\n\nMore.\n\"\"\"\nfrom __future__ import annotations\nimport os\n\nK = os.environ[\"K\"]\n");
        let out = fix(
            Language::Python,
            "a.py",
            &format!("import os\nK = '{k}'\n"),
            k,
            "K",
        );
        assert_eq!(out, "import os\nK = os.environ[\"K\"]\n");
        let err = rewrite(
            Language::Python,
            "a.py",
            format!("K = b'{k}'\n").as_bytes(),
            &[(k.as_bytes(), "K")],
        );
        assert!(err.is_err());
    }

    #[test]
    fn go_import_is_sorted_into_the_block() {
        let k = "KEYVALUE123";
        let src =
            format!("package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\nvar key = \"{k}\"\n");
        let out = fix(Language::Go, "m.go", &src, k, "K");
        assert!(
            out.contains("import (\n\t\"fmt\"\n\t\"os\"\n\t\"strings\"\n)\n"),
            "{out}"
        );
        assert!(out.contains("var key = os.Getenv(\"K\")"));
        let single = format!("package main\n\nimport \"fmt\"\n\nvar key = \"{k}\"\n");
        assert!(rewrite(
            Language::Go,
            "m.go",
            single.as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
        let konst = format!("package main\n\nimport (\n\t\"os\"\n)\n\nconst key = \"{k}\"\n");
        assert!(rewrite(
            Language::Go,
            "m.go",
            konst.as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
    }

    #[test]
    fn shell_and_yaml_and_terraform_and_docker() {
        let k = "KEYVALUE123";
        assert_eq!(
            fix(Language::Shell, "a.sh", &format!("K={k}\n"), k, "K"),
            "K=\"${K}\"\n"
        );
        assert_eq!(
            fix(
                Language::Shell,
                "a.sh",
                &format!("curl -H \"Bearer {k}\"\n"),
                k,
                "K"
            ),
            "curl -H \"Bearer ${K}\"\n"
        );
        assert!(rewrite(
            Language::Shell,
            "a.sh",
            format!("X='{k}'\n").as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
        assert_eq!(
            fix(
                Language::Yaml,
                ".github/workflows/ci.yml",
                &format!("env:\n  K: {k}\n"),
                k,
                "K"
            ),
            "env:\n  K: ${{ secrets.K }}\n"
        );
        assert_eq!(
            fix(
                Language::Yaml,
                ".gitlab-ci.yml",
                &format!("variables:\n  K: {k}\n"),
                k,
                "K"
            ),
            "variables:\n  K: $K\n"
        );
        let tf = fix(
            Language::Terraform,
            "main.tf",
            &format!("provider \"x\" {{\n  key = \"{k}\"\n}}\n"),
            k,
            "K_K",
        );
        assert!(tf.contains("key = var.k_k\n"), "{tf}");
        assert!(
            tf.ends_with("variable \"k_k\" {\n  type      = string\n  sensitive = true\n}\n"),
            "{tf}"
        );
        let d = fix(
            Language::Dockerfile,
            "Dockerfile",
            &format!("FROM alpine\nRUN curl -u {k}: https://x\n"),
            k,
            "K",
        );
        assert_eq!(d, "# syntax=docker/dockerfile:1\nFROM alpine\nRUN --mount=type=secret,id=k,env=K curl -u \"${K}\": https://x\n");
        assert!(rewrite(
            Language::Dockerfile,
            "Dockerfile",
            format!("FROM a\nENV K={k}\n").as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
    }

    #[test]
    fn refuses_what_it_cannot_do_whole() {
        let k = "KEYVALUE123";
        let twice = format!("a = '{k}'\nb = '{k}'\n");
        assert!(rewrite(
            Language::Python,
            "a.py",
            twice.as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .unwrap_err()
        .contains("2 times"));
        let partial = format!("a = 'Bearer {k}'\n");
        assert!(rewrite(
            Language::Python,
            "a.py",
            partial.as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
        let generated = format!("// Code generated by x. DO NOT EDIT.\nvar a = \"{k}\"\n");
        assert!(rewrite(
            Language::JavaScript,
            "a.js",
            generated.as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
        let kotlin = format!("const val K = \"{k}\"\n");
        assert!(rewrite(
            Language::Jvm,
            "a.kt",
            kotlin.as_bytes(),
            &[(k.as_bytes(), "K")]
        )
        .is_err());
    }
}
