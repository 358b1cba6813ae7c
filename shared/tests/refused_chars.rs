//! Every code point against Unicode's data: the key rules refuse exactly the controls, format
//! characters, line and paragraph separators, spaces but U+0020, surrogates, unassigned code
//! points and `Default_Ignorable_Code_Point`s, as `icu_properties` (ICU4X) knows them. When the
//! data and the generated table part (a new `icu_properties`), regenerate the table with
//! `cargo run -p presign-core --example refused_chars > shared/src/object_key/refused_chars.rs`.

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use presign_core::object_key::{is_refused_char, validate_key, KeyError};

#[test]
fn every_code_point_follows_the_unicode_data() {
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let gc = CodePointMapData::<GeneralCategory>::new();
    let mut refused = 0;
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let expected = c != ' '
            && (ignorable.contains(c)
                || matches!(
                    gc.get(c),
                    GeneralCategory::Control
                        | GeneralCategory::Format
                        | GeneralCategory::LineSeparator
                        | GeneralCategory::ParagraphSeparator
                        | GeneralCategory::SpaceSeparator
                        | GeneralCategory::Unassigned
                ));
        assert_eq!(is_refused_char(c), expected, "U+{:04X} ({:?})", c as u32, gc.get(c));
        // And through the whole key rule: refused exactly when the data says so (the ASCII
        // characters the rules forbid for other reasons aside).
        if c.is_ascii_punctuation() || c == '/' || c == '.' {
            continue;
        }
        let verdict = validate_key(&format!("content/a{c}b"));
        assert_eq!(verdict == Err(KeyError::ControlCharacter), expected, "U+{:04X}", c as u32);
        refused += u32::from(expected);
    }
    // Sanity: the refused set is most of the code space (unassigned planes), but not all.
    assert!((800_000..1_100_000).contains(&refused), "{refused}");
}
