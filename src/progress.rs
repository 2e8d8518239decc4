//! Progress of the long runs (`keyward history`, `keyward scan`) on a terminal:
//! what is being counted, how far, and the rate. It goes to stderr, only when
//! stderr is a terminal and the report is the human one, so it never mixes into a
//! JSON or SARIF document, a file or a hook's captured output. Nothing here is on
//! the hot path: workers bump one atomic counter, and a ticker thread in
//! [`crate::pool`] hands it to the bar ten times a second; indicatif limits the
//! drawing further.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::Format;

/// Whether a run shows progress: a person is watching a terminal, and what they
/// will read there is the human report.
pub fn wanted(format: Format, stderr_is_terminal: bool) -> bool {
    format == Format::Human && stderr_is_terminal
}

/// One counted stage (`commits walked`, `blobs scanned`), drawn on stderr.
pub struct Bar(ProgressBar);

impl Bar {
    /// Starts drawing at once, so even a stage that ends within the first tick
    /// has said what it was doing.
    pub fn start(label: &str, total: usize) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("keyward: {pos}/{len} {msg} ({per_sec}, {elapsed})")
                .expect("the template is valid"),
        );
        bar.set_message(label.to_string());
        bar.tick();
        Bar(bar)
    }

    pub fn set(&self, done: usize) {
        self.0.set_position(done as u64);
    }

    /// Clears the line, so the report starts on a clean one.
    pub fn finish(self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::wanted;
    use crate::cli::Format;

    #[test]
    fn only_a_human_report_on_a_terminal_shows_progress() {
        assert!(wanted(Format::Human, true));
        assert!(!wanted(Format::Human, false));
        assert!(!wanted(Format::Json, true));
        assert!(!wanted(Format::Sarif, true));
        assert!(!wanted(Format::Json, false));
    }
}
