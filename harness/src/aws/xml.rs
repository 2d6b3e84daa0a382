//! A small writer for the query protocol's XML responses.
//!
//! Responses are nested elements of text with one namespace on the root, so a
//! thin wrapper over `quick_xml::Writer` that opens, closes and fills
//! elements keeps each response builder a flat list of fields.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

/// Builds one XML document element by element.
pub struct XmlWriter {
    writer: Writer<Vec<u8>>,
    open: Vec<String>,
}

impl XmlWriter {
    /// Starts a document whose root element carries `xmlns`.
    pub fn document(root: &str, namespace: &str) -> Self {
        let mut xml = Self {
            writer: Writer::new(Vec::with_capacity(1024)),
            open: Vec::new(),
        };
        let mut start = BytesStart::new(root);
        start.push_attribute(("xmlns", namespace));
        xml.write(Event::Start(start));
        xml.open.push(root.to_owned());
        xml
    }

    /// Opens a child element; [`XmlWriter::close`] ends it.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.write(Event::Start(BytesStart::new(name)));
        self.open.push(name.to_owned());
        self
    }

    /// Closes the most recently opened element.
    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.write(Event::End(BytesEnd::new(name)));
        }
        self
    }

    /// Writes `<name>value</name>`, escaping the value.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.write(Event::Start(BytesStart::new(name)));
        let value = xml_chars(value);
        // Only `<`, `>` and `&` are escaped, as AWS does: quotes and
        // apostrophes stay literal in messages such as `Value 'x' at …`.
        let escaped = quick_xml::escape::partial_escape(value.as_ref());
        self.write(Event::Text(BytesText::from_escaped(escaped)));
        self.write(Event::End(BytesEnd::new(name)));
        self
    }

    /// Writes `<name>value</name>` when the value is present.
    pub fn optional(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.text(name, value);
        }
        self
    }

    /// Writes a query-protocol list: `<name><member>…</member>…</name>`.
    pub fn members<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        self.open(name);
        for value in values {
            self.text("member", value);
        }
        self.close()
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        // quick-xml only writes what it was given, and every piece above is a
        // `&str`, so the buffer is UTF-8.
        String::from_utf8(self.writer.into_inner()).unwrap_or_default()
    }

    fn write(&mut self, event: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.writer.write_event(event);
    }
}

/// Replaces the characters XML 1.0 cannot carry, even as a character
/// reference (most C0 controls, U+FFFE and U+FFFF), with U+FFFD. Error
/// messages echo request values, and a client's XML parser rejects the
/// whole response at the first such character.
fn xml_chars(value: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    // A byte scan settles almost every value: control characters are single
    // bytes, and only a 0xEF lead byte can begin U+FFFE or U+FFFF.
    let plain = value
        .bytes()
        .all(|b| (b >= b' ' && b != 0xEF) || matches!(b, b'\t' | b'\n' | b'\r'));
    if plain || value.chars().all(allowed) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
            .collect(),
    )
}

/// Writes the `ResponseMetadata` block and finishes a success document.
pub fn finish_with_request_id(mut xml: XmlWriter, request_id: &str) -> String {
    xml.open("ResponseMetadata");
    xml.text("RequestId", request_id);
    xml.close();
    xml.finish()
}

/// Formats a timestamp as IAM sends it: ISO 8601 UTC with milliseconds.
pub fn iam_time(time: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// Formats a timestamp as STS sends it: ISO 8601 UTC without fractions.
pub fn sts_time(time: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        let mut xml = XmlWriter::document("R", "urn:x");
        xml.text("A", "a<b&c");
        assert_eq!(xml.finish(), r#"<R xmlns="urn:x"><A>a&lt;b&amp;c</A></R>"#);
    }

    #[test]
    fn characters_outside_xml_are_replaced() {
        let mut xml = XmlWriter::document("R", "urn:x");
        xml.text("A", "a\u{0}b\u{1}c\u{1b}d\u{FFFE}e\tf\ng\rh");
        xml.text("B", "\u{F000}\u{FFFD}\u{FFFF}");
        assert_eq!(
            xml.finish(),
            "<R xmlns=\"urn:x\"><A>a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\tf\ng&#13;h</A><B>\u{F000}\u{FFFD}\u{FFFD}</B></R>"
        );
    }

    #[test]
    fn empty_list_is_an_empty_element() {
        let mut xml = XmlWriter::document("R", "urn:x");
        xml.members("L", std::iter::empty());
        assert_eq!(xml.finish(), r#"<R xmlns="urn:x"><L></L></R>"#);
    }
}
