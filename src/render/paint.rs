//! Colour for text meant for a terminal: ANSI escapes around outcomes and
//! marks, only when the command line turned colour on (a terminal, or
//! `--color always`; never with `NO_COLOR` under `--color auto`). Padding
//! is done on the bare text, so coloured columns stay aligned.

/// Whether to colour, and how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paint {
    pub on: bool,
}

/// What a piece of text is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// `ok`, and "agrees".
    Good,
    /// An error outcome.
    Error,
    /// A set: the OS leaves the choice open.
    Choice,
    /// A probe's receiver (`->a`, `->none`).
    Receiver,
    /// A mark that asks for attention: a mismatch, a disagreement.
    Alert,
    /// Secondary text: rule ids, meanings.
    Dim,
    /// A heading.
    Bold,
}

impl Tone {
    /// The tone of an outcome as text (`ok`, `EINVAL`, `{EACCES,ok}`, `->a`).
    pub fn of_outcome(text: &str) -> Tone {
        if text.starts_with('{') {
            Tone::Choice
        } else if text.starts_with("->") {
            Tone::Receiver
        } else if text == "ok" {
            Tone::Good
        } else {
            Tone::Error
        }
    }

    fn code(self) -> &'static str {
        match self {
            Tone::Good => "32",
            Tone::Error => "31",
            Tone::Choice => "33",
            Tone::Receiver => "36",
            Tone::Alert => "1;31",
            Tone::Dim => "2",
            Tone::Bold => "1",
        }
    }
}

impl Paint {
    /// Colour on or off.
    pub fn new(on: bool) -> Paint {
        Paint { on }
    }

    /// `text` in `tone`.
    pub fn tone(&self, text: &str, tone: Tone) -> String {
        if self.on && !text.is_empty() { format!("\x1b[{}m{text}\x1b[0m", tone.code()) } else { text.to_string() }
    }

    /// `text` in `tone`, padded with spaces to `width` characters.
    pub fn pad(&self, text: &str, width: usize, tone: Tone) -> String {
        let fill = width.saturating_sub(text.chars().count());
        format!("{}{}", self.tone(text, tone), " ".repeat(fill))
    }

    /// An outcome, padded to `width`, in the colour of its kind.
    pub fn outcome(&self, text: &str, width: usize) -> String {
        self.pad(text, width, Tone::of_outcome(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_keeps_columns_aligned_and_is_off_by_default() {
        let p = Paint::new(true);
        assert_eq!(p.outcome("ok", 5), "\x1b[32mok\x1b[0m   ");
        assert_eq!(Paint::default().outcome("{EACCES,ok}", 12), "{EACCES,ok} ");
        assert_eq!(Tone::of_outcome("->none"), Tone::Receiver);
        assert_eq!(Tone::of_outcome("EADDRINUSE"), Tone::Error);
    }
}
