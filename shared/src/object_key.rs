//! The rules an object key must follow before we sign it, and the prefixes it may start with.
//!
//! A key is signed byte for byte as given (no normalisation), so these rules are what stands
//! between a caller and a surprising object name: path tricks (`..`, `//`, leading `/`),
//! invisible characters that make two keys look the same, and characters that S3 and CDNs
//! treat specially.

use std::fmt;

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Characters that are never accepted in a key (besides those of [`is_refused_char`]).
pub const FORBIDDEN_CHARS: &[char] = &['\\', '{', '}', '^', '%', '`', '[', ']', '"', '<', '>', '~', '#', '|'];

/// Why a key is refused (400 `invalid_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Empty,
    TooLong,
    LeadingSlash,
    TrailingSlash,
    EmptySegment,
    DotSegment,
    /// A character of [`is_refused_char`]: a control, format, invisible, unassigned or
    /// space-like character.
    ControlCharacter,
    ForbiddenCharacter(char),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => f.write_str("The key must not be empty."),
            KeyError::TooLong => write!(f, "The key is longer than {MAX_KEY_BYTES} bytes."),
            KeyError::LeadingSlash => f.write_str("The key must not start with '/'."),
            KeyError::TrailingSlash => f.write_str("The key must not end with '/'."),
            KeyError::EmptySegment => f.write_str("The key must not contain an empty segment ('//')."),
            KeyError::DotSegment => f.write_str("The key must not contain a '.' or '..' segment."),
            KeyError::ControlCharacter => {
                f.write_str("The key contains a control, invisible, unassigned or space-like character (the only space allowed is U+0020).")
            }
            KeyError::ForbiddenCharacter(c) => {
                write!(f, "The key must not contain the character '{c}'.")
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// Checks every rule of docs/contract.md "Rules for a key" except the prefix rule.
pub fn validate_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong);
    }
    if key.starts_with('/') {
        return Err(KeyError::LeadingSlash);
    }
    if key.ends_with('/') {
        return Err(KeyError::TrailingSlash);
    }
    for c in key.chars() {
        if is_refused_char(c) {
            return Err(KeyError::ControlCharacter);
        }
        if FORBIDDEN_CHARS.contains(&c) {
            return Err(KeyError::ForbiddenCharacter(c));
        }
    }
    for segment in key.split('/') {
        match segment {
            "" => return Err(KeyError::EmptySegment),
            "." | ".." => return Err(KeyError::DotSegment),
            _ => {}
        }
    }
    Ok(())
}

/// Code points that render as nothing, as a space other than U+0020, or not at all: C0 and C1
/// controls and DEL (Cc), format characters (Cf: bidi overrides, zero-width characters, the
/// BOM, tag characters...), line and paragraph separators (Zl, Zp), every space separator but
/// U+0020 (Zs), unassigned code points (Cn) and every `Default_Ignorable_Code_Point` (variation
/// selectors, Hangul fillers, U+034F...). Two keys that differ only by them look the same.
///
/// The set is generated from Unicode's data ([`UNICODE_VERSION`], see `refused_chars.rs`), and
/// `tests/refused_chars.rs` checks every code point against the data.
pub fn is_refused_char(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x80 {
        // ASCII: the controls and DEL; the only space allowed is U+0020.
        return cp < 0x20 || cp == 0x7F;
    }
    refused_chars::REFUSED
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

mod refused_chars;
pub use refused_chars::UNICODE_VERSION;

/// Prefixes a key may start with: plain byte-prefix matching, so `content/` admits
/// `content/a` but not `contentx/a`, and `content` (no slash) admits both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedPrefixes(Vec<String>);

impl AllowedPrefixes {
    /// `None` when no non-empty prefix is given.
    pub fn new(prefixes: impl IntoIterator<Item = String>) -> Option<AllowedPrefixes> {
        let list: Vec<String> = prefixes.into_iter().filter(|p| !p.is_empty()).collect();
        (!list.is_empty()).then_some(AllowedPrefixes(list))
    }

    pub fn allows(&self, key: &str) -> bool {
        self.0.iter().any(|p| key.starts_with(p.as_str()))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_key_passes() {
        assert_eq!(validate_key("content/my-video-001/seg-0.ts"), Ok(()));
    }

    #[test]
    fn length_boundaries() {
        let exact = format!("content/{}", "a".repeat(MAX_KEY_BYTES - 8));
        assert_eq!(exact.len(), 1024);
        assert_eq!(validate_key(&exact), Ok(()));
        assert_eq!(validate_key(&format!("{exact}a")), Err(KeyError::TooLong));
        assert_eq!(validate_key(""), Err(KeyError::Empty));
        assert_eq!(validate_key("a"), Ok(()));
    }

    #[test]
    fn length_counts_utf8_bytes_not_chars() {
        // 'é' is two bytes: 512 of them are exactly 1024 bytes, one more is over.
        assert_eq!(validate_key(&"é".repeat(512)), Ok(()));
        assert_eq!(validate_key(&format!("a{}", "é".repeat(512))), Err(KeyError::TooLong));
    }

    #[test]
    fn slashes_and_segments() {
        assert_eq!(validate_key("/content/a"), Err(KeyError::LeadingSlash));
        assert_eq!(validate_key("content/"), Err(KeyError::TrailingSlash));
        assert_eq!(validate_key("content//a"), Err(KeyError::EmptySegment));
        assert_eq!(validate_key("content/./a"), Err(KeyError::DotSegment));
        assert_eq!(validate_key("content/../a"), Err(KeyError::DotSegment));
        assert_eq!(validate_key("content/.."), Err(KeyError::DotSegment));
        assert_eq!(validate_key("./a"), Err(KeyError::DotSegment));
        // Dots inside a segment are ordinary.
        assert_eq!(validate_key("content/...a/.hidden/seg..ts"), Ok(()));
    }

    #[test]
    fn each_forbidden_character() {
        for &c in FORBIDDEN_CHARS {
            assert_eq!(validate_key(&format!("content/a{c}b")), Err(KeyError::ForbiddenCharacter(c)), "{c:?}");
        }
    }

    #[test]
    fn characters_that_are_allowed() {
        for c in [' ', '+', '?', '=', '&', '\'', '!', '*', '(', ')', '$', ',', ';', ':', '@', '-', '_', '.'] {
            assert_eq!(validate_key(&format!("content/a{c}b")), Ok(()), "{c:?}");
        }
        assert_eq!(validate_key("content/vidéo/日本語/🎬.ts"), Ok(()));
    }

    #[test]
    fn control_and_format_characters() {
        for c in [
            '\0',
            '\n',
            '\t',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            '\u{9f}',
            '\u{202e}',
            '\u{202a}',
            '\u{2066}',
            '\u{200b}',
            '\u{200d}',
            '\u{2060}',
            '\u{feff}',
            '\u{ad}',
            '\u{e0041}',
        ] {
            assert_eq!(validate_key(&format!("content/a{c}b")), Err(KeyError::ControlCharacter), "{:?}", c as u32);
        }
    }

    /// The look-alikes an adversarial review found accepted, each stored as a distinct key that
    /// looks like the same key without it.
    #[test]
    fn look_alike_characters() {
        let mut found = vec![0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2065, 0xE0000, 0xE0FFF];
        found.extend((0xFE00..=0xFE0F).chain(0xE0100..=0xE01EF).chain(0xFFF0..=0xFFF8));
        found.extend([0x00A0, 0x1680, 0x205F, 0x3000, 0x2028, 0x2029]);
        found.extend(0x2000..=0x200A);
        for cp in found {
            let c = char::from_u32(cp).unwrap();
            assert_eq!(validate_key(&format!("content/a{c}b")), Err(KeyError::ControlCharacter), "U+{cp:04X}");
        }
        // Unassigned (in every Unicode version so far), and a noncharacter.
        assert_eq!(validate_key("content/a\u{0378}b"), Err(KeyError::ControlCharacter));
        assert_eq!(validate_key("content/a\u{10FFFF}b"), Err(KeyError::ControlCharacter));
        // The plain space, letters of every script, emoji (with ZWJ sequences refused: U+200D).
        assert_eq!(validate_key("content/a b/\u{1F3AC} 日本語 é"), Ok(()));
    }

    #[test]
    fn prefix_boundaries() {
        let p = AllowedPrefixes::new(["content/".to_owned()]).unwrap();
        assert!(p.allows("content/a"));
        assert!(!p.allows("content"));
        assert!(!p.allows("contentx/a"));
        assert!(!p.allows("Content/a"));
        let loose = AllowedPrefixes::new(["content".to_owned()]).unwrap();
        assert!(loose.allows("contentx/a"));
        assert!(AllowedPrefixes::new(["".to_owned()]).is_none());
    }

    #[test]
    fn messages_never_echo_invisible_characters() {
        let m = validate_key("content/a\u{202e}b").unwrap_err().to_string();
        assert!(!m.contains('\u{202e}'));
    }
}
