//! The PDF report for the Authorizing Official, drawn from the export model with printpdf:
//! cover, per-image summary with charts, evidence, signatures, checks, findings, waivers,
//! STIG, sign-off; banner on top and bottom and "page N of M" + package sha256 on every page.
//! Section wording comes from `templates/report/sections.toml`. Fixed font ids, dates and
//! trailer /ID make the bytes depend only on the package and the options.

mod charts;
mod content;
mod layout;
mod sections;
mod subset;
mod tables;
mod template;

use layout::{push_rect, push_text, rgb, Face, FontFace, Fonts, MARGIN_X, PAGE_H, PAGE_W};
use printpdf::{Mm, PdfDocument, PdfPage, PdfSaveOptions};
use serde::Deserialize;

pub use template::Template;

pub const TEMPLATE: &str = include_str!("../../../templates/report/sections.toml");

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("report template: {0}")]
    Template(String),
    #[error("embedded DejaVu font could not be parsed")]
    Font,
    #[error("PDF serialisation: {0}")]
    Serialise(String),
}

#[derive(Debug, Clone, Default)]
pub struct PdfOptions {
    /// sha256 (hex) of the JSON package this report presents; printed in every footer.
    pub package_sha256: String,
    /// List INFO findings too, not only BLOCK and WARN.
    pub all_findings: bool,
}

/// Progress of a long render: (pages or rows done, total) for the caller's progress bar.
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

pub fn load_template(text: &str) -> Result<Template, PdfError> {
    Template::deserialize(
        toml::de::Deserializer::parse(text).map_err(|e| PdfError::Template(e.to_string()))?,
    )
    .map_err(|e| PdfError::Template(e.to_string()))
}

fn fonts() -> Result<Fonts, PdfError> {
    Ok(Fonts {
        regular: FontFace::load(dejavu::sans::regular(), "FDejaVuSans").ok_or(PdfError::Font)?,
        bold: FontFace::load(dejavu::sans::bold(), "FDejaVuSansBold").ok_or(PdfError::Font)?,
    })
}

/// Banner colours by classification marking (DoD marking conventions).
fn banner_color(marking: &str) -> printpdf::Color {
    let m = marking.to_ascii_uppercase();
    if m.starts_with("TOP SECRET") {
        rgb(1.0, 0.55, 0.0)
    } else if m.starts_with("SECRET") {
        rgb(0.78, 0.06, 0.18)
    } else if m.starts_with("CONFIDENTIAL") {
        rgb(0.0, 0.2, 0.63)
    } else if m.starts_with("CUI") || m.starts_with("CONTROLLED") {
        rgb(0.31, 0.17, 0.52)
    } else {
        rgb(0.0, 0.48, 0.2)
    }
}

/// Banner top and bottom, footer with the package hash and "Page N of M", on every page.
fn decorate(
    pages: &mut [String],
    compactor: &mut content::Compactor,
    fonts: &Fonts,
    banner: &str,
    sha: &str,
    title: &str,
) {
    let total = pages.len();
    let banner = fonts.prepare(banner);
    let banner = fonts.fit(&banner, Face::Bold, 9.0, PAGE_W - 40.0);
    let bw = fonts.face(Face::Bold).width(&banner, 9.0);
    let col = banner_color(&banner);
    let title = fonts.fit(
        &fonts.prepare(title),
        Face::Regular,
        7.0,
        PAGE_W - 2.0 * MARGIN_X - 90.0,
    );
    for (i, page) in pages.iter_mut().enumerate() {
        let mut deco = Vec::new();
        for y in [PAGE_H - 16.0, 2.0] {
            push_rect(&mut deco, 0.0, y, PAGE_W, 14.0, col.clone());
            push_text(
                &mut deco,
                fonts,
                (PAGE_W - bw) / 2.0,
                y + 3.8,
                &banner,
                Face::Bold,
                9.0,
                rgb(1.0, 1.0, 1.0),
            );
        }
        let foot_y = 26.0;
        layout::push_line(
            &mut deco,
            (MARGIN_X, foot_y + 16.0),
            (PAGE_W - MARGIN_X, foot_y + 16.0),
            0.4,
            rgb(0.6, 0.6, 0.6),
        );
        push_text(
            &mut deco,
            fonts,
            MARGIN_X,
            foot_y + 6.0,
            &title,
            Face::Regular,
            7.0,
            layout::grey(),
        );
        let sha_line = format!("package sha256: {sha}");
        push_text(
            &mut deco,
            fonts,
            MARGIN_X,
            foot_y - 3.0,
            &sha_line,
            Face::Regular,
            7.0,
            layout::grey(),
        );
        let pn = format!("Page {} of {total}", i + 1);
        let pw = fonts.face(Face::Bold).width(&pn, 8.0);
        push_text(
            &mut deco,
            fonts,
            PAGE_W - MARGIN_X - pw,
            foot_y + 2.0,
            &pn,
            Face::Bold,
            8.0,
            layout::black(),
        );
        compactor.page(&deco, page);
    }
}

/// Renders the report. `progress` hears about long phases (findings rows, serialisation).
pub fn render(
    pkg: &super::Package,
    opts: &PdfOptions,
    progress: Progress<'_>,
) -> Result<Vec<u8>, PdfError> {
    let tpl = load_template(TEMPLATE)?;
    let fonts = fonts()?;
    progress("pdf: layout", 0, 1);
    let mut doc = layout::Doc::new(&fonts);
    sections::cover(&mut doc, pkg, &tpl, opts);
    sections::summary(&mut doc, pkg, &tpl);
    sections::evidence(&mut doc, pkg, &tpl);
    sections::signatures(&mut doc, pkg, &tpl);
    sections::checks(&mut doc, pkg, &tpl);
    sections::findings(&mut doc, pkg, &tpl, opts, progress);
    sections::waivers(&mut doc, pkg, &tpl);
    sections::stig(&mut doc, pkg, &tpl);
    sections::signoff(&mut doc, pkg, &tpl);
    let (mut pages, mut compactor) = doc.finish();
    let title = format!("{} - {}", tpl.cover.title, pkg.name);
    decorate(
        &mut pages,
        &mut compactor,
        &fonts,
        &pkg.classification,
        &opts.package_sha256,
        &title,
    );
    progress("pdf: fonts", 0, 1);

    let mut pdf = PdfDocument::new(&format!(
        "{} - {}",
        tpl.cover.title,
        fonts.prepare(&pkg.name)
    ));
    if compactor.unsupported {
        return Err(PdfError::Serialise(
            "the report drew an operation the content writer does not know".into(),
        ));
    }
    // Embed only the glyphs the pages draw (layout was measured on the full faces; a
    // subset keeps every advance width).
    let none = std::collections::BTreeSet::new();
    let mut tags = Vec::new();
    let mut glyphs = content::GlyphTables::new();
    let mut census: Vec<printpdf::Op> = Vec::new();
    for (f, bytes) in [
        (&fonts.regular, dejavu::sans::regular()),
        (&fonts.bold, dejavu::sans::bold()),
    ] {
        let chars = compactor.used.get(&f.id).unwrap_or(&none);
        let parsed = match subset::subset_face(bytes, &f.parsed, chars) {
            Some(p) => {
                tags.push((f.id.clone(), subset::tag(&p.original_bytes)));
                p
            }
            None => f.parsed.clone(),
        };
        // Glyph ids exactly as printpdf encodes text: the embedded face's cmap, 0 if none.
        let table = chars
            .iter()
            .map(|c| (*c, parsed.lookup_glyph_index(u32::from(*c)).unwrap_or(0)))
            .collect();
        glyphs.insert(f.id.clone(), table);
        // One line of every used character tells printpdf which glyphs the face needs
        // (its /W widths and /ToUnicode); the page that carries it is replaced below.
        if !chars.is_empty() {
            census.push(printpdf::Op::StartTextSection);
            census.push(printpdf::Op::SetFont {
                font: printpdf::PdfFontHandle::External(f.id.clone()),
                size: printpdf::Pt(9.0),
            });
            census.push(printpdf::Op::ShowText {
                items: vec![printpdf::TextItem::Text(chars.iter().collect())],
            });
            census.push(printpdf::Op::EndTextSection);
        }
        pdf.resources
            .fonts
            .map
            .insert(f.id.clone(), printpdf::PdfFont::new(parsed));
    }
    let when = chrono::DateTime::parse_from_rfc3339(&pkg.generated_at)
        .map(|d| d.timestamp())
        .unwrap_or(0);
    let date = printpdf::OffsetDateTime::from_unix_timestamp(when)
        .map_err(|e| PdfError::Serialise(e.to_string()))?;
    let info = &mut pdf.metadata.info;
    info.creation_date = date;
    info.modification_date = date;
    info.metadata_date = date;
    info.author = fonts.prepare(&pkg.reviewer.name);
    info.creator = format!("{} {}", pkg.generator.name, pkg.generator.version);
    info.producer = "printpdf".into();
    info.subject = format!("package sha256 {}", opts.package_sha256);
    info.identifier = opts.package_sha256.clone();
    progress("pdf: encoding pages", 0, pages.len());
    let n = pages.len();
    // Each compact page is freed as soon as its stream is written and deflated.
    let streams: Vec<Vec<u8>> = pages
        .into_iter()
        .map(|p| {
            let raw = content::finish(&p, &compactor.fonts, &glyphs);
            deflate(&raw).unwrap_or(raw)
        })
        .collect();
    let page = |ops| PdfPage::new(Mm(PAGE_W * 25.4 / 72.0), Mm(PAGE_H * 25.4 / 72.0), ops);
    let mut pdf_pages = vec![page(census)];
    pdf_pages.extend((1..n).map(|_| page(Vec::new())));
    pdf.with_pages(pdf_pages);
    progress("pdf: serialising", 0, 1);
    let save = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut lo = printpdf::serialize::to_lopdf_doc(&pdf, &save, &mut warnings);
    // The drawing operations (most of the memory at 100k findings) are encoded now.
    drop(pdf);
    replace_contents(&mut lo, streams)?;
    subset::tag_subsets(&mut lo, &tags);
    // printpdf draws the trailer /ID from a process-global counter: replace it with one
    // derived from the package hash so equal packages give equal bytes.
    let id = if opts.package_sha256.len() >= 64 {
        opts.package_sha256[..32].to_string()
    } else {
        "0".repeat(32)
    };
    let idv = lopdf::Object::String(id.into_bytes(), lopdf::StringFormat::Hexadecimal);
    lo.trailer
        .set("ID", lopdf::Object::Array(vec![idv.clone(), idv]));
    progress("pdf: compressing", 0, 1);
    compress(&mut lo);
    progress("pdf: writing", 0, 1);
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Serialise(e.to_string()))?;
    progress("pdf: done", 1, 1);
    Ok(out)
}

/// Deflates every stream that is not yet filtered. lopdf's own `compress` uses level 9,
/// which spent ~15% of a 100k-finding export for a few percent of size; level 3 keeps
/// the table pages' repetitive text small at a fraction of the cost.
fn compress(doc: &mut lopdf::Document) {
    for obj in doc.objects.values_mut() {
        let lopdf::Object::Stream(st) = obj else {
            continue;
        };
        if !st.allows_compression || st.dict.get(b"Filter").is_ok() {
            continue;
        }
        if let Some(packed) = deflate(&st.content) {
            st.dict.set("Filter", "FlateDecode");
            st.set_content(packed);
        }
    }
}

/// Zlib at level 3, or `None` when that would not save anything worth a filter.
fn deflate(bytes: &[u8]) -> Option<Vec<u8>> {
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write as _;
    let mut enc = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::new(3));
    enc.write_all(bytes).ok()?;
    let packed = enc.finish().ok()?;
    (packed.len() + 19 < bytes.len()).then_some(packed)
}

/// Puts the directly written streams in as the pages' contents, in page order. A stream
/// that `deflate` packed starts with the zlib header 0x78 (raw content never does: it
/// starts with an operator or number), which marks it FlateDecode.
fn replace_contents(doc: &mut lopdf::Document, streams: Vec<Vec<u8>>) -> Result<(), PdfError> {
    let pages = doc.get_pages();
    if pages.len() != streams.len() {
        return Err(PdfError::Serialise(format!(
            "{} pages written, {} streams drawn",
            pages.len(),
            streams.len()
        )));
    }
    for (page_id, bytes) in pages.into_values().zip(streams) {
        let contents = doc
            .get_dictionary(page_id)
            .and_then(|d| d.get(b"Contents"))
            .and_then(lopdf::Object::as_reference)
            .map_err(|e| PdfError::Serialise(format!("page {page_id:?}: {e}")))?;
        let Ok(lopdf::Object::Stream(st)) = doc.get_object_mut(contents) else {
            return Err(PdfError::Serialise(format!(
                "page {page_id:?}: contents are not a stream"
            )));
        };
        st.dict.remove(b"Filter");
        if bytes.first() == Some(&0x78) {
            st.dict.set("Filter", "FlateDecode");
        }
        st.set_content(bytes);
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct CoverText {
    pub title: String,
    pub subtitle: String,
    pub intro: String,
    pub not_evaluated: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_template_parses() {
        let t = load_template(TEMPLATE).unwrap();
        assert_eq!(t.signoff.roles.len(), 3);
        assert!(!t.findings.heading.is_empty());
    }

    #[test]
    fn a_template_missing_a_key_is_an_error() {
        let e = load_template("[cover]\ntitle = \"x\"\n").unwrap_err();
        assert!(e.to_string().starts_with("report template:"), "{e}");
    }

    #[test]
    fn same_package_same_bytes_and_the_header_is_pdf() {
        let pkg = crate::export::testdata::package();
        let opts = PdfOptions {
            package_sha256: "ab".repeat(32),
            all_findings: false,
        };
        let a = render(&pkg, &opts, &mut |_, _, _| {}).unwrap();
        let b = render(&pkg, &opts, &mut |_, _, _| {}).unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b);
    }
}
