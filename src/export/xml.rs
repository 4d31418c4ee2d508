//! A small XML writer for the phone books: quick-xml underneath (so `&`, `<` and quotes are
//! always escaped), UTF-8 with a matching prolog, and text cleaned of what XML 1.0 forbids.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::error::{Error, Result};

pub struct Xml {
    writer: Writer<Vec<u8>>,
}

/// Text as a phone shows it: one line, no characters XML 1.0 forbids, trimmed.
pub fn clean_text(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .filter(|&c| !c.is_control() && c != '\u{FFFE}' && c != '\u{FFFF}')
        .collect();
    one_line.trim().to_string()
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::io(format!("cannot write XML: {e}"))
}

impl Xml {
    pub fn new() -> Result<Xml> {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        writer
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
            .map_err(failed)?;
        Ok(Xml { writer })
    }

    pub fn open(&mut self, name: &str, attributes: &[(&str, &str)]) -> Result<()> {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, clean_text(value).as_str()));
        }
        self.writer.write_event(Event::Start(start)).map_err(failed)
    }

    pub fn close(&mut self, name: &str) -> Result<()> {
        self.writer
            .write_event(Event::End(BytesEnd::new(name)))
            .map_err(failed)
    }

    /// `<name attributes...>text</name>`; nothing at all when the text is empty (every
    /// element the formats write this way is optional, and an indented empty element would
    /// hold whitespace a phone might show).
    pub fn element(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> Result<()> {
        let text = clean_text(text);
        if text.is_empty() {
            return Ok(());
        }
        self.open(name, attributes)?;
        self.writer
            .write_event(Event::Text(BytesText::new(&text)))
            .map_err(failed)?;
        self.close(name)
    }

    /// `<name attributes.../>`.
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> Result<()> {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, clean_text(value).as_str()));
        }
        self.writer.write_event(Event::Empty(start)).map_err(failed)
    }

    pub fn finish(self) -> Vec<u8> {
        let mut bytes = self.writer.into_inner();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_go_and_markup_is_escaped() {
        let mut xml = Xml::new().unwrap();
        xml.element(
            "a",
            &[("x", "\"q\" & <b>")],
            "Tom & Jerry <3 \u{1}\u{FFFF}\nline",
        )
        .unwrap();
        xml.element("b", &[], " \u{2} ").unwrap();
        let text = String::from_utf8(xml.finish()).unwrap();
        assert!(!text.contains("<b"), "{text}");
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(text.contains("Tom &amp; Jerry &lt;3  line"), "{text}");
        assert!(
            text.contains("x=\"&quot;q&quot; &amp; &lt;b&gt;\""),
            "{text}"
        );
    }
}
