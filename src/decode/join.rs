//! String literals joined by concatenation, read whole so a key split to slip past
//! a scanner is still seen: `"a" + "b"` (JS, TS, Java, C#, Kotlin, Swift, Go, Ruby),
//! `'a' . 'b'` (PHP, Perl), `"a" .. "b"` (Lua), adjacent literals (`"a" "b"` in
//! Python, C, C++, Ruby; `"a""b"` and `KEY=a"b"'c'` in shell), a literal
//! interpolated into another (`` `${"a"}b` ``, `f"a{'b'}"`, `$"a{"b"}"`,
//! `"a${"b"}"`, `"a#{'b'}"`, `"a\("b")"`), an empty-separator join of literals
//! (`"".join([...])`, `[...].join("")`, `[...].join`, `String.join("", ...)`,
//! `join('', ...)`, `implode(...)`, `strings.Join([]string{...}, "")`,
//! `CONCAT(...)`, `concat!(...)`), and any of these broken over lines: a `\` before
//! the newline (inside a literal or between two), an operator at the end or start
//! of a line, or literals one under another, indented, after `(`, `[`, `{`, `=`
//! or `,`. A fragment's bytes are the literals' contents as written: escapes
//! are not decoded, only a `\` line continuation inside a literal is dropped, with
//! the indentation after it (as Rust does). A run yields a fragment only when at
//! least two non-empty pieces make it, so the joined text differs from each, and
//! when it holds a letter or digit.
//!
//! There is no lexer. Quotes pair within a line, so a quote in a comment or inside
//! another kind of string sometimes pairs the wrong way; that costs a missed or a
//! spurious join, never a panic or a slow scan. Anything that is not a literal or a
//! joining operator (a variable, a call, `||`) ends a run, since a key built from it
//! is not in the source anyway. Backticks are also Markdown's code spans, so they
//! join by `+` only, and an unquoted shell piece counts only between two quotes or
//! in a word that starts right after `=`, because prose (`don't`) and Rust
//! lifetimes (`&'a str`) put words against quotes all the time.
//!
//! Cost: linear in the text, with no allocation per literal. `memchr3` finds
//! quotes; a literal that closes is consumed together with everything joined to
//! it, and a quote that does not close on its line marks what it scanned as holding
//! no closing quote of its kind, so each apostrophe of prose is passed over once
//! more at most. A run stops at 16 literals or 4 KiB, the context before it is read
//! from at most 256 bytes back, and those back-reads stop at the previous quote, so
//! they never overlap. Only yielded fragments are charged to the budget; their
//! spans never overlap and their bytes are no longer than their spans, so a text
//! costs at most its own length.

use memchr::memchr3;

use super::{Budget, Decoder, Exhausted, Fragment};

/// Runs of string literals joined by concatenation, yielded joined.
pub struct Join;

const ENCODING: &str = "joined from string literals";
/// Literals in one run at most: a split key has a handful of parts.
const MAX_LITERALS: usize = 16;
/// Bytes of text one run may cover, its first literal and shell prefix included.
const MAX_RUN: usize = 4096;
/// How far back the context of a run's first literal is looked for.
const MAX_BEHIND: usize = 256;
/// How far the call around a literal list is read, before or after it.
const MAX_CALL: usize = 64;

impl Decoder for Join {
    fn reads(&self) -> super::Reads {
        super::Reads::NearKeywords
    }

    fn fragments(
        &self,
        text: &[u8],
        budget: &mut Budget,
        out: &mut Vec<Fragment>,
    ) -> Result<(), Exhausted> {
        let mut joiner = Joiner {
            text,
            bytes: Vec::new(),
            parts: 0,
        };
        // Per quote kind: an opening quote before this offset has no closing one.
        let mut dead = [0usize; 3];
        let mut pos = 0;
        while let Some(found) = memchr3(b'"', b'\'', b'`', &text[pos..]) {
            let q = pos + found;
            let kind = kind(text[q]);
            if q < dead[kind] || (q > 0 && text[q - 1] == b'\\') {
                pos = q + 1;
                continue;
            }
            match joiner.run(q, pos) {
                Err(stop) => {
                    dead[kind] = stop;
                    pos = q + 1;
                }
                Ok(span) => {
                    pos = span.end;
                    if joiner.parts < 2 || !joiner.bytes.iter().any(u8::is_ascii_alphanumeric) {
                        continue;
                    }
                    let cost = joiner.bytes.len();
                    if cost > budget.bytes {
                        return Err(Exhausted(format!(
                            "decode budget spent: {cost} bytes joined from string literals \
                             at byte {} not scanned",
                            span.start
                        )));
                    }
                    budget.bytes -= cost;
                    out.push(Fragment {
                        span,
                        bytes: joiner.bytes.clone(),
                        encoding: ENCODING,
                        member: None,
                    });
                }
            }
        }
        Ok(())
    }
}

fn kind(quote: u8) -> usize {
    match quote {
        b'"' => 0,
        b'\'' => 1,
        _ => 2,
    }
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// A byte of an unquoted shell word piece (`KEY=MARKER_"abc"`).
fn is_piece(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The end of a line break at `i` (`\n` or `\r\n`), for `\` continuations.
fn line_break(text: &[u8], i: usize) -> Option<usize> {
    match text.get(i..)? {
        [b'\n', ..] => Some(i + 1),
        [b'\r', b'\n', ..] => Some(i + 2),
        _ => None,
    }
}

/// How the literals of a run may be joined, from what comes before the first.
#[derive(Clone, Copy)]
struct Context {
    /// Inside an empty-separator join list: `,` joins too.
    list: bool,
    /// Inside an expression left open (`(`, `=`, ...): an indented literal on the
    /// next line continues the run (C, and Python within parentheses).
    multiline: bool,
    /// The first literal is a Python f-string or C# `$"..."`: `{'a'}` interpolates.
    braces: bool,
    /// The run starts right after `=` (`KEY='a'bcd`): an unquoted tail after its
    /// last literal is part of the shell word. Elsewhere it is more often a Rust
    /// lifetime (`'a>(&'static`) or prose.
    shell: bool,
}

/// Whether a run's literals form a join list, as far as the text before says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum List {
    No,
    Yes,
    /// `[` or Go's `[]string{`: a join list only if the call after it says so.
    Until(u8),
}

/// What follows a literal in a run.
enum Next {
    /// Another literal opens at `at`.
    Literal {
        at: usize,
        braces: bool,
    },
    /// A trailing shell word piece ends the run at this offset.
    Tail(usize),
    End,
}

/// The current run: its joined contents and how many non-empty pieces made them.
struct Joiner<'t> {
    text: &'t [u8],
    bytes: Vec<u8>,
    parts: usize,
}

impl Joiner<'_> {
    /// The run whose first literal opens at `q`, none of it before `floor`.
    /// `Err` holds where the search for the closing quote stopped.
    fn run(&mut self, q: usize, floor: usize) -> Result<std::ops::Range<usize>, usize> {
        let text = self.text;
        let lowest = floor.max(q.saturating_sub(MAX_BEHIND));
        let mut w = q;
        while w > lowest && (is_piece(text[w - 1]) || matches!(text[w - 1], b'$' | b'@')) {
            w -= 1;
        }
        let word = &text[w..q];
        let whole = w == 0 || !is_piece(text[w - 1]);
        let sigil = word.iter().any(|&b| matches!(b, b'$' | b'@'));
        let (start, before, braces) = if !whole || word.is_empty() {
            (q, q, false)
        } else if word.len() >= 3 && !sigil && w > 0 && text[w - 1] == b'=' {
            // `KEY=MARKER_"abc"`: the shell word's unquoted start is part of it.
            // Only after `=`: after a space it is as likely prose (`don't`).
            (w, w, false)
        } else if word.len() <= 2 || (word.len() == 3 && sigil) {
            // A string prefix: `f"`, `rb"`, `u8"`, `$"`, `$@"`.
            let braces = word.iter().any(|&b| matches!(b, b'f' | b'F' | b'$'));
            (q, w, braces)
        } else {
            (q, q, false)
        };

        let mut b = before;
        let lowest = before.saturating_sub(MAX_BEHIND);
        while b > lowest && is_blank(text[b - 1]) {
            b -= 1;
        }
        let (list, multiline) = match b.checked_sub(1) {
            Some(c) if b > lowest => (
                list_context(text, c),
                matches!(text[c], b'(' | b'[' | b'{' | b'=' | b','),
            ),
            _ => (List::No, false),
        };
        let context = Context {
            list: list != List::No,
            multiline,
            braces,
            shell: start > 0 && text[start - 1] == b'=',
        };
        let span = self.literals(start, q, context)?;
        match list {
            List::Until(closer) if !closes_join(text, span.end, closer) => self.literals(
                start,
                q,
                Context {
                    list: false,
                    ..context
                },
            ),
            _ => Ok(span),
        }
    }

    /// Reads the literals of a run from `q`, and an unquoted start from `start`.
    fn literals(
        &mut self,
        start: usize,
        q: usize,
        context: Context,
    ) -> Result<std::ops::Range<usize>, usize> {
        self.bytes.clear();
        self.parts = 0;
        let limit = self.text.len().min(start + MAX_RUN);
        self.piece(start, q);
        let mut end = self.literal(q, limit, context.braces)?;
        let mut count = 1;
        while count < MAX_LITERALS {
            let saved = (self.bytes.len(), self.parts);
            match self.next(end, limit, context) {
                Next::Literal { at, braces } => match self.literal(at, limit, braces) {
                    Ok(after) => {
                        end = after;
                        count += 1;
                    }
                    Err(_) => {
                        self.bytes.truncate(saved.0);
                        self.parts = saved.1;
                        break;
                    }
                },
                Next::Tail(after) => {
                    end = after;
                    break;
                }
                Next::End => break,
            }
        }
        Ok(start..end)
    }

    /// What joins the literal that closed just before `end` to the next one.
    fn next(&mut self, end: usize, limit: usize, context: Context) -> Next {
        let text = self.text;
        // Backticks are also Markdown's code spans, which prose puts side by side
        // (`` `a` `b` ``, `` `a`. `b` ``, `` `a`-style ``): they join by `+` only.
        let tick = text[end - 1] == b'`';
        let mut w = end;
        while w < limit && is_piece(text[w]) {
            w += 1;
        }
        if w > end {
            if tick {
                return Next::End;
            }
            // Shell: `"a"b"c"` is one word, and so is `KEY="a"bcd` at its end.
            if w < limit && matches!(text[w], b'"' | b'\'') {
                self.piece(end, w);
                return Next::Literal {
                    at: w,
                    braces: false,
                };
            }
            let ends = text
                .get(w)
                .is_none_or(|&b| is_blank(b) || matches!(b, b';' | b')' | b'}' | b'&' | b'|'));
            if context.shell && ends {
                self.piece(end, w);
                return Next::Tail(w);
            }
            return Next::End;
        }

        let (p, newline) = gap(text, end, limit);
        if let Some((at, braces)) = opening(text, p, limit) {
            let indented = p > 0 && matches!(text[p - 1], b' ' | b'\t');
            if tick || text[at] == b'`' || (newline && !(context.multiline && indented)) {
                return Next::End;
            }
            return Next::Literal { at, braces };
        }
        let (after, dot) = match text.get(p) {
            Some(&op @ (b'+' | b'.')) if text.get(p + 1) == Some(&op) => (p + 2, op == b'.'),
            Some(&op @ (b'+' | b'.')) => (p + 1, op == b'.'),
            Some(b',') if context.list => (p + 1, false),
            _ => return Next::End,
        };
        // `+=`, `.=`, `...` and `+++` assign, spread or make no sense: no join.
        if matches!(text.get(after), Some(b'=' | b'.' | b'+')) {
            return Next::End;
        }
        let (p, _) = gap(text, after, limit);
        match opening(text, p, limit) {
            Some((at, _)) if dot && (tick || text[at] == b'`') => Next::End,
            Some((at, braces)) => Next::Literal { at, braces },
            None => Next::End,
        }
    }

    /// Reads the literal opening at `q` into the run, up to `limit`. Returns the
    /// offset after its closing quote, or `Err` with where the search stopped: the
    /// end of the line or `limit`.
    fn literal(&mut self, q: usize, limit: usize, braces: bool) -> Result<usize, usize> {
        let text = self.text;
        let quote = text[q];
        let mut seg = q + 1;
        let mut i = q + 1;
        while i < limit {
            match text[i] {
                b if b == quote => {
                    self.piece(seg, i);
                    return Ok(i + 1);
                }
                b'\n' => return Err(i),
                b'\\' => {
                    if let Some(next) = line_break(text, i + 1) {
                        // A continued line: C, Python and shell drop `\` and the
                        // newline, Rust the indentation after them too. A key split
                        // so is not indented in the first three, so drop it always.
                        self.piece(seg, i);
                        let next = skip_spaces(text, next, limit);
                        (i, seg) = (next, next);
                    } else if text.get(i + 1) == Some(&b'(') {
                        // Swift: `"a\("b")"`.
                        match self.interpolation(seg, i, i + 2, b')', limit) {
                            Some(next) => (i, seg) = (next, next),
                            None => i += 2,
                        }
                    } else {
                        i += 2;
                    }
                }
                b'$' | b'#' if text.get(i + 1) == Some(&b'{') => {
                    match self.interpolation(seg, i, i + 2, b'}', limit) {
                        Some(next) => (i, seg) = (next, next),
                        None => i += 1,
                    }
                }
                b'{' if braces => {
                    if text.get(i + 1) == Some(&b'{') {
                        i += 2;
                        continue;
                    }
                    match self.interpolation(seg, i, i + 1, b'}', limit) {
                        Some(next) => (i, seg) = (next, next),
                        None => i += 1,
                    }
                }
                _ => i += 1,
            }
        }
        Err(limit)
    }

    /// An interpolation opened at `at` whose expression, from `inner`, is a single
    /// literal followed by `closer`: reads the text before it and the literal's
    /// contents into the run, and returns the offset after `closer`.
    fn interpolation(
        &mut self,
        seg: usize,
        at: usize,
        inner: usize,
        closer: u8,
        limit: usize,
    ) -> Option<usize> {
        let text = self.text;
        let open = skip_spaces(text, inner, limit);
        if open >= limit || !is_quote(text[open]) {
            return None;
        }
        let mut i = open + 1;
        let close = loop {
            match text.get(i) {
                _ if i >= limit => return None,
                Some(&b) if b == text[open] => break i,
                Some(b'\n') | None => return None,
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
            }
        };
        let after = skip_spaces(text, close + 1, limit);
        if after >= limit || text[after] != closer {
            return None;
        }
        self.piece(seg, at);
        self.piece(open + 1, close);
        Some(after + 1)
    }

    fn piece(&mut self, from: usize, to: usize) {
        if from < to {
            self.bytes.extend_from_slice(&self.text[from..to]);
            self.parts += 1;
        }
    }
}

fn skip_spaces(text: &[u8], mut i: usize, limit: usize) -> usize {
    while i < limit && matches!(text[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// Skips white space and `\` continuations from `i`; says whether a bare
/// newline was crossed.
fn gap(text: &[u8], mut i: usize, limit: usize) -> (usize, bool) {
    let mut newline = false;
    while i < limit {
        match text[i] {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                newline = true;
                i += 1;
            }
            b'\\' => match line_break(text, i + 1) {
                Some(next) => i = next,
                None => break,
            },
            _ => break,
        }
    }
    (i, newline)
}

/// A literal opening at `p`, after a string prefix of its own (`f"`, `rb'`,
/// `u8"`, `$@"`): where its quote is, and whether `{'a'}` interpolates in it.
fn opening(text: &[u8], p: usize, limit: usize) -> Option<(usize, bool)> {
    let mut i = p;
    while i < limit
        && i - p < 3
        && (text[i].is_ascii_alphanumeric() || matches!(text[i], b'$' | b'@'))
    {
        i += 1;
    }
    if i >= limit || !is_quote(text[i]) {
        return None;
    }
    let prefix = &text[p..i];
    let sigil = prefix.iter().any(|&b| matches!(b, b'$' | b'@'));
    if prefix.len() == 3 && !sigil {
        return None;
    }
    let braces = prefix.iter().any(|&b| matches!(b, b'f' | b'F' | b'$'));
    Some((i, braces))
}

/// Whether the byte at `at`, just before a run's first literal, makes the run a
/// list joined with an empty separator.
fn list_context(text: &[u8], at: usize) -> List {
    let open = text[at];
    match open {
        b'[' | b'(' => {
            // `"".join([` and `"".join((`; `implode([`.
            let mut back = Back::new(text, at);
            back.blank();
            if back.byte(b'(') {
                back.blank();
                let name = back.ident();
                if name == b"join" && back.byte(b'.') && back.empty_literal() {
                    return List::Yes;
                }
                if open == b'[' && name.eq_ignore_ascii_case(b"implode") {
                    return List::Yes;
                }
            }
            // `implode('', [`, `join("", [`.
            let mut back = Back::new(text, at);
            back.blank();
            if back.byte(b',') && empty_separator_call(back) {
                return List::Yes;
            }
            // `CONCAT(`, `String.Concat(`, `concat!(`.
            if open == b'(' {
                let mut back = Back::new(text, at);
                back.blank();
                back.byte(b'!');
                if back.ident().eq_ignore_ascii_case(b"concat") {
                    return List::Yes;
                }
                return List::No;
            }
            List::Until(b']')
        }
        // `String.join("", "a", "b")`, Perl's `join '', 'a', 'b'`.
        b',' if empty_separator_call(Back::new(text, at)) => List::Yes,
        // Go: `strings.Join([]string{"a", "b"}, "")`.
        b'{' => {
            let mut back = Back::new(text, at);
            back.blank();
            if back.ident() == b"string" && back.byte(b']') && back.byte(b'[') {
                List::Until(b'}')
            } else {
                List::No
            }
        }
        _ => List::No,
    }
}

/// Before a `,`: `join(""`, `join ''`, `implode(''`, any case.
fn empty_separator_call(mut back: Back<'_>) -> bool {
    back.blank();
    if !back.empty_literal() {
        return false;
    }
    back.blank();
    back.byte(b'(');
    back.blank();
    let name = back.ident();
    name.eq_ignore_ascii_case(b"join") || name.eq_ignore_ascii_case(b"implode")
}

/// After a list that [`List::Until`] left open: its closing bracket followed by an
/// empty-separator join (`].join("")`, Ruby's `].join`, Go's `}, "")`).
fn closes_join(text: &[u8], end: usize, closer: u8) -> bool {
    let limit = text.len().min(end + MAX_CALL);
    let mut at = end;
    let mut eat = |want: &[u8]| {
        while at < limit && is_blank(text[at]) {
            at += 1;
        }
        let found = text
            .get(at..limit)
            .is_some_and(|rest| rest.starts_with(want));
        if found {
            at += want.len();
        }
        found
    };
    eat(b",");
    if !eat(&[closer]) {
        return false;
    }
    if closer == b'}' {
        return eat(b",") && (eat(b"\"\"") || eat(b"``")) && eat(b")");
    }
    if !(eat(b".") && eat(b"join")) {
        return false;
    }
    if eat(b"(") {
        return (eat(b"\"\"") || eat(b"''")) && eat(b")");
    }
    // Ruby's bare `.join`, but not `.joined` or `.join_all`.
    text.get(at).is_none_or(|&b| !is_piece(b))
}

/// Reads backwards from an offset, within [`MAX_CALL`] bytes of it.
struct Back<'t> {
    text: &'t [u8],
    at: usize,
    floor: usize,
}

impl<'t> Back<'t> {
    /// Reads the bytes before `at`.
    fn new(text: &'t [u8], at: usize) -> Self {
        Back {
            text,
            at,
            floor: at.saturating_sub(MAX_CALL),
        }
    }

    fn blank(&mut self) {
        while self.at > self.floor && is_blank(self.text[self.at - 1]) {
            self.at -= 1;
        }
    }

    fn byte(&mut self, b: u8) -> bool {
        let found = self.at > self.floor && self.text[self.at - 1] == b;
        if found {
            self.at -= 1;
        }
        found
    }

    fn ident(&mut self) -> &'t [u8] {
        let end = self.at;
        while self.at > self.floor
            && (self.text[self.at - 1].is_ascii_alphanumeric() || self.text[self.at - 1] == b'_')
        {
            self.at -= 1;
        }
        &self.text[self.at..end]
    }

    fn empty_literal(&mut self) -> bool {
        let found = self.at >= self.floor + 2
            && matches!(&self.text[self.at - 2..self.at], b"\"\"" | b"''");
        if found {
            self.at -= 2;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// What every positive case joins to: a marker, never a real key shape.
    const JOINED: &str = "MARKER_abcdefghijklmnopqrstuvwx";

    fn budget(bytes: usize) -> Budget {
        Budget { bytes, members: 0 }
    }

    fn join(text: &[u8]) -> Vec<Fragment> {
        let mut out = Vec::new();
        Join.fragments(text, &mut budget(usize::MAX), &mut out)
            .expect("an unlimited budget is never spent");
        out
    }

    /// Each shape: (name, text, the part of it the span must cover).
    const SHAPES: &[(&str, &str, &str)] = &[
        (
            "js plus",
            r#"const k = "MARKER_" + "abcdefghijklmnopqrstuvwx";"#,
            r#""MARKER_" + "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "three parts, mixed quotes",
            r#"k = "MARKER_" + 'abcdefghijkl' + `mnopqrstuvwx`;"#,
            r#""MARKER_" + 'abcdefghijkl' + `mnopqrstuvwx`"#,
        ),
        (
            "tight plus",
            r#"k="MARKER_"+"abcdefghijklmnopqrstuvwx";"#,
            r#""MARKER_"+"abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "minified return",
            r#"{return"MARKER_"+"abcdefghijklmnopqrstuvwx"}"#,
            r#""MARKER_"+"abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "php dot",
            "$k = 'MARKER_' . 'abcdefghijklmnopqrstuvwx';",
            "'MARKER_' . 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "perl dot",
            r#"my $k = "MARKER_"."abcdefghijklmnopqrstuvwx";"#,
            r#""MARKER_"."abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "lua dots",
            r#"local k = "MARKER_" .. "abcdefghijklmnopqrstuvwx""#,
            r#""MARKER_" .. "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "python adjacent",
            r#"k = "MARKER_" "abcdefghijklmnopqrstuvwx""#,
            r#""MARKER_" "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "python prefixed",
            r#"k = b"MARKER_" rb"abcdefghijklmnopqrstuvwx""#,
            r#""MARKER_" rb"abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "c adjacent",
            r#"const char *k = "MARKER_" "abcdefghijklmnopqrstuvwx";"#,
            r#""MARKER_" "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "ruby adjacent",
            "k = 'MARKER_' 'abcdefghijklmnopqrstuvwx'",
            "'MARKER_' 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "shell adjacent",
            r#"K="MARKER_""abcdefghijklmnopqrstuvwx""#,
            r#""MARKER_""abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "shell word",
            r#"KEY=MARKER_"abcdefghijkl"'mnopqrstuvwx'"#,
            r#"MARKER_"abcdefghijkl"'mnopqrstuvwx'"#,
        ),
        (
            "shell word, bare middle",
            r#"export KEY="MARKER_"abcdefghijkl'mnopqrstuvwx'"#,
            r#""MARKER_"abcdefghijkl'mnopqrstuvwx'"#,
        ),
        (
            "shell word in a header",
            r#"curl -H "Authorization: Bearer "MARKER_"abcdefghijklmnopqrstuvwx""#,
            r#""Authorization: Bearer "MARKER_"abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "shell word, bare tail",
            "KEY='MARKER_'abcdefghijklmnopqrstuvwx\n",
            "'MARKER_'abcdefghijklmnopqrstuvwx",
        ),
        (
            "js template",
            r#"const k = `${"MARKER_"}abcdefghijklmnopqrstuvwx`;"#,
            r#"`${"MARKER_"}abcdefghijklmnopqrstuvwx`"#,
        ),
        (
            "python f-string",
            r#"k = f"MARKER_{'abcdefghijklmnopqrstuvwx'}""#,
            r#""MARKER_{'abcdefghijklmnopqrstuvwx'}""#,
        ),
        (
            "c# interpolated",
            r#"var k = $"MARKER_{"abcdefghijklmnopqrstuvwx"}";"#,
            r#""MARKER_{"abcdefghijklmnopqrstuvwx"}""#,
        ),
        (
            "kotlin template",
            r#"val k = "MARKER_${"abcdefghijklmnopqrstuvwx"}""#,
            r#""MARKER_${"abcdefghijklmnopqrstuvwx"}""#,
        ),
        (
            "ruby interpolation",
            r#"k = "MARKER_#{ 'abcdefghijklmnopqrstuvwx' }""#,
            r#""MARKER_#{ 'abcdefghijklmnopqrstuvwx' }""#,
        ),
        (
            "swift interpolation",
            r#"let k = "MARKER_\("abcdefghijklmnopqrstuvwx")""#,
            r#""MARKER_\("abcdefghijklmnopqrstuvwx")""#,
        ),
        (
            "python join list",
            r#"k = "".join(["MARKER_", "abcdefghijklmnopqrstuvwx"])"#,
            r#""MARKER_", "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "python join tuple",
            "k = ''.join(('MARKER_', 'abcdefghijkl', 'mnopqrstuvwx'))",
            "'MARKER_', 'abcdefghijkl', 'mnopqrstuvwx'",
        ),
        (
            "python join, multi-line",
            "k = \"\".join([\n    \"MARKER_\",\n    \"abcdefghijklmnopqrstuvwx\",\n])",
            "\"MARKER_\",\n    \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "js list join",
            r#"const k = ["MARKER_", "abcdefghijklmnopqrstuvwx"].join("");"#,
            r#""MARKER_", "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "ruby list join",
            "k = ['MARKER_', 'abcdefghijklmnopqrstuvwx'].join\n",
            "'MARKER_', 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "java String.join",
            r#"String k = String.join("", "MARKER_", "abcdefghijklmnopqrstuvwx");"#,
            r#""MARKER_", "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "perl join",
            "my $k = join '', 'MARKER_', 'abcdefghijklmnopqrstuvwx';",
            "'MARKER_', 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "php implode",
            "$k = implode('', ['MARKER_', 'abcdefghijklmnopqrstuvwx']);",
            "'MARKER_', 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "go strings.Join",
            r#"k := strings.Join([]string{"MARKER_", "abcdefghijklmnopqrstuvwx"}, "")"#,
            r#""MARKER_", "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "sql concat",
            "SELECT CONCAT('MARKER_', 'abcdefghijklmnopqrstuvwx');",
            "'MARKER_', 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "rust concat!",
            r#"let k = concat!("MARKER_", "abcdefghijklmnopqrstuvwx");"#,
            r#""MARKER_", "abcdefghijklmnopqrstuvwx""#,
        ),
        (
            "continuation inside a literal",
            "char *k = \"MARKER_\\\nabcdefghijklmnopqrstuvwx\";",
            "\"MARKER_\\\nabcdefghijklmnopqrstuvwx\"",
        ),
        (
            "rust continuation drops the indentation",
            "let k = \"MARKER_\\\n        abcdefghijklmnopqrstuvwx\";",
            "\"MARKER_\\\n        abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "continuation between literals",
            "k = \"MARKER_\" \\\n    \"abcdefghijklmnopqrstuvwx\"",
            "\"MARKER_\" \\\n    \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "shell continuation",
            "export K='MARKER_'\\\n'abcdefghijklmnopqrstuvwx'",
            "'MARKER_'\\\n'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "operator at line end",
            "k = \"MARKER_\" +\n    \"abcdefghijklmnopqrstuvwx\";",
            "\"MARKER_\" +\n    \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "operator at line start",
            "k = \"MARKER_\"\n    + \"abcdefghijklmnopqrstuvwx\";",
            "\"MARKER_\"\n    + \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "php dot at line start",
            "$k = 'MARKER_'\n  . 'abcdefghijklmnopqrstuvwx';",
            "'MARKER_'\n  . 'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "crlf",
            "k = \"MARKER_\" +\r\n    \"abcdefghijklmnopqrstuvwx\";\r\n",
            "\"MARKER_\" +\r\n    \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "parenthesised",
            "k = (\"MARKER_\"\n     \"abcdefghijklmnopqrstuvwx\")",
            "\"MARKER_\"\n     \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "parenthesised, own line",
            "k = (\n    'MARKER_'\n    'abcdefghijklmnopqrstuvwx'\n)",
            "'MARKER_'\n    'abcdefghijklmnopqrstuvwx'",
        ),
        (
            "c lines after =",
            "static const char *k =\n    \"MARKER_\"\n    \"abcdefghijklmnopqrstuvwx\";",
            "\"MARKER_\"\n    \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "after prose with apostrophes",
            "// don't, it's\nk = \"MARKER_\" + \"abcdefghijklmnopqrstuvwx\"",
            "\"MARKER_\" + \"abcdefghijklmnopqrstuvwx\"",
        ),
        (
            "escaped quotes kept as written",
            r#"k = "MARKER_\"" + "abcdefghijklmnopqrstuvwx""#,
            r#""MARKER_\"" + "abcdefghijklmnopqrstuvwx""#,
        ),
    ];

    #[test]
    fn every_shape_is_joined_over_its_span() {
        let mut failures = Vec::new();
        for &(name, text, span) in SHAPES {
            let start = text.find(span).expect("the span is part of the text");
            let found = join(text.as_bytes());
            let expected = match name {
                "escaped quotes kept as written" => r#"MARKER_\"abcdefghijklmnopqrstuvwx"#,
                "shell word in a header" => "Authorization: Bearer MARKER_abcdefghijklmnopqrstuvwx",
                _ => JOINED,
            };
            let ok = matches!(found.as_slice(), [f]
                if f.span == (start..start + span.len())
                    && f.bytes == expected.as_bytes()
                    && f.encoding == ENCODING
                    && f.member.is_none());
            if !ok {
                let got: Vec<_> = found
                    .iter()
                    .map(|f| (&text[f.span.clone()], String::from_utf8_lossy(&f.bytes)))
                    .collect();
                failures.push(format!("{name}: {text:?}\n    got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn no_join_where_nothing_is_joined() {
        let cases: &[(&str, &str)] = &[
            (
                "single literal",
                r#"k = "MARKER_abcdefghijklmnopqrstuvwx";"#,
            ),
            (
                "variable between",
                r#"a = "MARKER_" + variable + "abcdefghijklmnopqrstuvwx""#,
            ),
            (
                "call between",
                r#"a = "MARKER_" + f("x") + "abcdefghijklmnopqrstuvwx""#,
            ),
            (
                "fallback",
                r#"k = process.env.K || "MARKER_" || "abcdefghijklmnopqrstuvwx""#,
            ),
            (
                "prose",
                "Don't split keys; it's bad. We've said \"don't\" twice, haven't we?\n",
            ),
            (
                "call arguments",
                r#"f("MARKER_", "abcdefghijklmnopqrstuvwx")"#,
            ),
            (
                "plain list",
                r#"k = ["MARKER_", "abcdefghijklmnopqrstuvwx"]"#,
            ),
            (
                "list joined with a comma",
                r#"k = ["MARKER_", "abcdefghijklmnopqrstuvwx"].join(",")"#,
            ),
            (
                "python join with a separator",
                r#"k = "-".join(["MARKER_", "abcdefghijklmnopqrstuvwx"])"#,
            ),
            (
                "csv rows",
                "\"id\",\"MARKER_\"\n\"abcdefghijklmnopqrstuvwx\",\"x\"\n",
            ),
            (
                "statements one under another",
                "a = \"MARKER_\"\n\"abcdefghijklmnopqrstuvwx\"\n",
            ),
            (
                "without an operator across lines",
                "f(\"MARKER_\")\n    \"abcdefghijklmnopqrstuvwx\"\n",
            ),
            (
                "json",
                r#"{"MARKER_":"abcdefghijklmnopqrstuvwx","b":["c","d"]}"#,
            ),
            (
                "docstring",
                "def f():\n    \"\"\"Docstring, it's here.\"\"\"\n    '''Another.'''\n",
            ),
            (
                "only one non-empty part",
                r#"k = "" + "MARKER_abcdefghijklmnopqrstuvwx" + ''"#,
            ),
            ("no letter or digit", r#"sep = "-" + "_" + "/""#),
            (
                "compound assignment",
                "s = 'MARKER_'\ns += 'abcdefghijklmnopqrstuvwx'\n",
            ),
            (
                "string prefix is not a shell word",
                r#"print(f"MARKER_abcdefghijklmnopqrstuvwx")"#,
            ),
            (
                "html attributes",
                r#"<a href="MARKER_" class="abcdefghijklmnopqrstuvwx">"#,
            ),
            ("escaped quote is no opener", r#"say \"MARKER_\" + x"#),
            (
                "markdown code spans",
                "Use `MARKER_`. `abcdefghijklmnopqrstuvwx` or `MARKER_` `abcdefghijklmnopqrstuvwx`, `printf`-style.\n",
            ),
            ("rust lifetimes", "fn f<'a>(&'a self, g: &'static str) -> &'static str { 'x' }\n"),
            ("a word after a literal, not after =", r#"if x == "MARKER_"abcdefghijklmnopqrstuvwx"#),
        ];
        let mut failures = Vec::new();
        for &(name, text) in cases {
            let found = join(text.as_bytes());
            if !found.is_empty() {
                let got: Vec<_> = found
                    .iter()
                    .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
                    .collect();
                failures.push(format!("{name}: {text:?}\n    got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn runs_are_found_one_after_another() {
        let text = br#"a = "x1" + "y1"; b = 'x2' 'y2'; c = "z3";"#;
        let found: Vec<_> = join(text).into_iter().map(|f| f.bytes).collect();
        assert_eq!(found, [b"x1y1".to_vec(), b"x2y2".to_vec()]);
    }

    #[test]
    fn a_run_stops_at_sixteen_literals() {
        let text = vec![r#""ab""#; 20].join(" + ");
        let found = join(text.as_bytes());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].bytes, b"ab".repeat(16));
        assert_eq!(found[1].bytes, b"ab".repeat(4));
        assert!(found[0].span.end <= found[1].span.start);
    }

    #[test]
    fn a_run_stops_at_four_kib() {
        let long = "a".repeat(3000);
        let text = format!(r#""{long}" + "{long}" + "b""#);
        let found = join(text.as_bytes());
        assert!(found.iter().all(|f| f.span.len() <= MAX_RUN));
        // The second literal does not fit: it starts a run of its own.
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bytes, format!("{long}b").into_bytes());
    }

    #[test]
    fn joined_bytes_are_charged_and_an_empty_budget_stops_with_what_was_found() {
        let text = br#"a = "x1" + "y1"; b = "x2" + "y2";"#;
        let mut spent = budget(6);
        let mut out = Vec::new();
        let stopped = Join.fragments(text, &mut spent, &mut out);
        assert!(matches!(stopped, Err(Exhausted(ref why)) if why.contains("joined")));
        assert_eq!(out.len(), 1);
        assert_eq!(spent.bytes, 2);
    }

    /// Inputs built to make a careless joiner quadratic finish fast, and cost no
    /// more budget than their own length.
    #[test]
    fn pathological_inputs_stay_linear_and_within_budget() {
        let inputs: Vec<(&str, Vec<u8>)> = vec![
            ("100,000 double quotes", b"\"".repeat(100_000)),
            ("100,000 apostrophes", b"'".repeat(100_000)),
            ("mixed quotes", b"\"'`".repeat(100_000)),
            ("escaped quotes", b"\\\"".repeat(100_000)),
            ("prose apostrophes on one line", b"don't ".repeat(100_000)),
            ("unclosed openers of each kind", b"x'y\"z`".repeat(100_000)),
            ("1 MB of \"a\"+", b"\"a\"+".repeat(250_000)),
            ("1 MB of adjacent literals", b"'a'".repeat(350_000)),
            ("failing interpolations", b"\"${'${\"${`".repeat(100_000)),
            (
                "long blank gaps",
                [b"\"a\"".as_slice(), &b" ".repeat(5000), b"+"]
                    .concat()
                    .repeat(200),
            ),
            ("tentative lists", b"[\"a\", \"b\", ".repeat(100_000)),
            ("shell words", b"aaa\"b\"".repeat(150_000)),
        ];
        for (name, text) in inputs {
            let mut spent = budget(usize::MAX);
            let mut out = Vec::new();
            let began = Instant::now();
            Join.fragments(&text, &mut spent, &mut out)
                .expect("an unlimited budget is never spent");
            let took = began.elapsed();
            let charged = usize::MAX - spent.bytes;
            assert!(took < Duration::from_secs(3), "{name}: took {took:?}");
            assert!(charged <= text.len(), "{name}: charged {charged}");
            assert!(
                out.windows(2).all(|w| w[0].span.end <= w[1].span.start),
                "{name}"
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        const ALPHABET: &[u8] = b"\"'`+.,\\\n\r ${}#()[]!fa0_=:";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 200) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 8 == 0 {
                        (r >> 8) as u8
                    } else {
                        ALPHABET[(r >> 8) as usize % ALPHABET.len()]
                    }
                })
                .collect();
            let mut spent = budget(64);
            let mut out = Vec::new();
            let _ = Join.fragments(&text, &mut spent, &mut out);
            for f in &out {
                assert!(f.span.start < f.span.end && f.span.end <= text.len());
                assert!(f.bytes.len() <= f.span.len());
            }
        }
    }
}
