//! What separates a credential from text that merely has its shape: entropy,
//! placeholders people write in docs and templates, and inline allow markers.

/// Markers that, on the line of a match, say a person has looked and allowed it.
/// keyward's own, and the ones gitleaks and detect-secrets users already have in
/// their code, so a team can switch without editing every marker.
const ALLOW_MARKERS: &[&[u8]] = &[
    b"keyward:allow",
    b"gitleaks:allow",
    b"pragma: allowlist secret",
];

/// Words that only placeholders contain. Each is 7 or more letters, so the chance of
/// one turning up inside a random base62 key is below one in 10^8.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"example",
    b"placeholder",
    b"redacted",
    b"yourkey",
    b"yoursecret",
    b"yourapi",
    b"yourtoken",
    b"goeshere",
    b"keyhere",
    b"changeme",
    b"replaceme",
    b"dummykey",
    b"fakekey",
    b"insertyour",
    // Underscores never occur in base62 keys, so these short forms are safe too.
    b"your_",
    b"_here",
];

/// A run of this many identical characters (`xxxxxxxx`, `00000000`) marks a
/// placeholder; in 250 random base62 characters it has odds of about 10^-10.
const PLACEHOLDER_RUN: usize = 8;

/// A run of this many consecutive characters (`123456`, `abcdef`) likewise.
const SEQUENCE_RUN: usize = 6;

pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether the body of a secret (its kind prefix removed) is a placeholder.
pub fn is_placeholder(body: &[u8]) -> bool {
    if body.is_empty() {
        return true;
    }
    let lower = body.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w).is_some())
    {
        return true;
    }
    let (mut same, mut sequence) = (1, 1);
    for pair in body.windows(2) {
        same = if pair[1] == pair[0] { same + 1 } else { 1 };
        sequence = if pair[1] == pair[0].wrapping_add(1) {
            sequence + 1
        } else {
            1
        };
        if same >= PLACEHOLDER_RUN || sequence >= SEQUENCE_RUN {
            return true;
        }
    }
    false
}

pub fn has_allow_marker(line: &[u8]) -> bool {
    ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"xxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"YOUR_KEY"));
        assert!(is_placeholder(b"abc123456def"));
        assert!(is_placeholder(b"MyExampleKeyValue"));
        assert!(!is_placeholder(b"u8jzPde0IgxLd6GncfBAepfJ"));
        // Short runs happen in random keys and must not hide them.
        assert!(!is_placeholder(b"JzzzzgEOzdm123AbC"));
    }
}
