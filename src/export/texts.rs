//! Many short strings kept in one buffer.
//!
//! An export of 50,000 contacts holds a few hundred thousand short texts (names, numbers, sort
//! keys) until it can write them in order. As separate `String`s, allocating them and above all
//! freeing them afterwards took a third of the export's time; appended to one buffer and named
//! by their [`Span`], they cost one allocation and nothing to free.

/// Where a text lies in its [`Texts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: usize,
    end: usize,
}

impl Span {
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

#[derive(Debug, Default)]
pub struct Texts {
    buffer: String,
}

impl Texts {
    pub fn push(&mut self, text: &str) -> Span {
        self.push_with(|buffer| buffer.push_str(text))
    }

    /// Keeps what `write` appends to the buffer.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) -> Span {
        let start = self.buffer.len();
        write(&mut self.buffer);
        Span {
            start,
            end: self.buffer.len(),
        }
    }

    pub fn get(&self, span: Span) -> &str {
        // Spans come from `push`, so they always fall on character boundaries.
        self.buffer.get(span.start..span.end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_back_as_pushed() {
        let mut texts = Texts::default();
        let a = texts.push("Jürgen");
        let empty = texts.push("");
        let b = texts.push_with(|s| s.push_str("+49"));
        assert_eq!(texts.get(a), "Jürgen");
        assert_eq!(texts.get(empty), "");
        assert_eq!(texts.get(b), "+49");
    }
}
