//! Font subsetting for the PDF: printpdf 0.12 only subsets behind its `text_layout` feature
//! (which pulls in azul's layout engine), so the report cuts each DejaVu face down to the
//! glyphs its pages draw with allsorts (already in the tree under printpdf) before embedding.

use printpdf::{FontId, ParsedFont};
use std::collections::BTreeSet;

/// `font` (parsed from `bytes`) cut to the glyphs of `chars` plus .notdef, re-parsed so
/// printpdf writes the subset's own cmap and widths. `None` when subsetting fails (the
/// caller then embeds the whole face): a larger file, never a wrong one.
pub fn subset_face(bytes: &[u8], font: &ParsedFont, chars: &BTreeSet<char>) -> Option<ParsedFont> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{subset, CmapTarget, SubsetProfile};
    let used: BTreeSet<u16> = chars
        .iter()
        .filter_map(|c| font.lookup_glyph_index(u32::from(*c)))
        .filter(|g| *g != 0)
        .collect();
    // allsorts requires .notdef first and no duplicates.
    let ids: Vec<u16> = std::iter::once(0).chain(used).collect();
    let data = ReadScope::new(bytes).read::<FontData<'_>>().ok()?;
    let provider = data.table_provider(0).ok()?;
    let cut = subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode).ok()?;
    let parsed = ParsedFont::from_bytes(&cut, 0, &mut Vec::new())?;
    // Every character must still map to a glyph, or the page would show .notdef boxes.
    chars
        .iter()
        .filter(|c| {
            font.lookup_glyph_index(u32::from(**c))
                .is_some_and(|g| g != 0)
        })
        .all(|c| parsed.lookup_glyph_index(u32::from(*c)).is_some())
        .then_some(parsed)
}

/// The six-letter subset tag (ISO 32000-1, 9.6.4), derived from the subset's bytes so the
/// same report always names its fonts the same way.
pub fn tag(subset_bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(subset_bytes)
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// Prefixes `/BaseFont` and `/FontName` of each subset face with its tag, so readers (and
/// `pdffonts`) know the embedded program is a subset.
pub fn tag_subsets(doc: &mut lopdf::Document, tags: &[(FontId, String)]) {
    for obj in doc.objects.values_mut() {
        let lopdf::Object::Dictionary(d) = obj else {
            continue;
        };
        for key in [b"BaseFont".as_slice(), b"FontName".as_slice()] {
            let renamed = match d.get(key) {
                Ok(lopdf::Object::Name(n)) => tags
                    .iter()
                    .find(|(id, _)| id.0.as_bytes() == n.as_slice())
                    .map(|(id, t)| format!("{t}+{}", id.0)),
                _ => None,
            };
            if let Some(r) = renamed {
                d.set(key, lopdf::Object::Name(r.into_bytes()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_keeps_the_used_characters_and_is_much_smaller() {
        let bytes = dejavu::sans::regular();
        let full = ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).unwrap();
        let chars: BTreeSet<char> = "PASS FAIL библиотека-ünï …".chars().collect();
        let cut = subset_face(bytes, &full, &chars).expect("DejaVu subsets");
        for c in &chars {
            let g = cut.lookup_glyph_index(u32::from(*c)).unwrap();
            // Same advance as in the full face, so layout measured on the full face holds.
            let g_full = full.lookup_glyph_index(u32::from(*c)).unwrap();
            assert_eq!(
                cut.get_glyph_width(g),
                full.get_glyph_width(g_full),
                "{c:?}"
            );
        }
        assert!(cut.lookup_glyph_index(u32::from('Z')).is_none());
        assert!(
            cut.original_bytes.len() * 20 < bytes.len(),
            "{} of {} bytes",
            cut.original_bytes.len(),
            bytes.len()
        );
    }

    #[test]
    fn tags_are_six_capitals_and_follow_the_bytes() {
        let a = tag(b"one");
        assert_eq!(a.len(), 6);
        assert!(a.chars().all(|c| c.is_ascii_uppercase()));
        assert_eq!(a, tag(b"one"));
        assert_ne!(a, tag(b"two"));
    }
}
