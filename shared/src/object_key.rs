//! The rules an object key must follow before we sign it, and the prefixes it may start with.
//!
//! A key is signed byte for byte as given (no normalisation), so these rules are what stands
//! between a caller and a surprising object name: path tricks (`..`, `//`, leading `/`),
//! invisible characters that make two keys look the same, and characters that S3 and CDNs
//! treat specially.

use std::fmt;

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// Characters that are never accepted in a key (besides control and format characters).
pub const FORBIDDEN_CHARS: &[char] = &['\\', '{', '}', '^', '%', '`', '[', ']', '"', '<', '>', '~', '#', '|'];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Empty,
    TooLong,
    LeadingSlash,
    TrailingSlash,
    EmptySegment,
    DotSegment,
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
            KeyError::ControlCharacter => f.write_str("The key contains a control or invisible formatting character."),
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
        if is_control_or_format(c) {
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

/// C0 and C1 controls, DEL, and the Unicode format characters (category Cf: bidi overrides and
/// isolates, zero-width characters, the BOM, soft hyphen, tag characters...).
pub fn is_control_or_format(c: char) -> bool {
    c.is_control() || FORMAT_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&(c as u32)))
}

/// Unicode general category Cf (Unicode 15), as ranges.
const FORMAT_RANGES: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

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
