//! Page layout for the PDF report: A4 pages, the embedded DejaVu faces, text measured from
//! glyph advances (printpdf without `text_layout` has no layout engine), wrapping and
//! truncation to a width, a cursor that opens a new page when the next block does not fit.

use printpdf::{
    Color, FontId, Line, LinePoint, Op, PaintMode, ParsedFont, PdfFontHandle, Point, Pt, Rect, Rgb,
    TextItem, WindingOrder,
};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN_X: f32 = 40.0;
/// Space kept free at the top and bottom for the banner, footer and page numbers.
pub const TOP: f32 = PAGE_H - 58.0;
pub const BOTTOM: f32 = 62.0;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
}

/// One embedded face: the parsed font (for the PDF) and its advance widths (for layout).
pub struct FontFace {
    pub id: FontId,
    pub parsed: ParsedFont,
    /// Advance (font units) and "has a glyph" for the first `CACHED` code points: layout
    /// measures every character of every cell, and the font's own cmap lookup dominated
    /// the report's layout time at 100k findings.
    advance: Vec<u16>,
    present: Vec<bool>,
}

/// Code points below this (Latin, Greek, Cyrillic, punctuation incl. U+2026) use the cache.
const CACHED: u32 = 0x2100;

impl FontFace {
    pub fn load(bytes: &[u8], id: &str) -> Option<Self> {
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut Vec::new())?;
        let mut advance = Vec::with_capacity(CACHED as usize);
        let mut present = Vec::with_capacity(CACHED as usize);
        for cp in 0..CACHED {
            let gid = parsed.lookup_glyph_index(cp);
            present.push(gid.is_some());
            advance.push(parsed.get_glyph_width(gid.unwrap_or(0)).unwrap_or(0));
        }
        // A fixed id (not printpdf's generated one) keeps repeated in-process exports identical.
        Some(Self {
            id: FontId(id.to_string()),
            parsed,
            advance,
            present,
        })
    }

    fn has(&self, c: char) -> bool {
        match self.present.get(c as usize) {
            Some(p) => *p,
            None => self.parsed.lookup_glyph_index(c as u32).is_some(),
        }
    }

    fn advance(&self, c: char) -> u32 {
        match self.advance.get(c as usize) {
            Some(a) => u32::from(*a),
            None => {
                let gid = self.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(self.parsed.get_glyph_width(gid).unwrap_or(0))
            }
        }
    }

    /// Width of `s` at `size` points: sum of glyph advances / units per em.
    pub fn width(&self, s: &str, size: f32) -> f32 {
        let upem = f32::from(self.parsed.units_per_em.max(1));
        let w: u32 = s.chars().map(|c| self.advance(c)).sum();
        w as f32 * size / upem
    }

    fn char_width(&self, c: char, size: f32) -> f32 {
        self.advance(c) as f32 * size / f32::from(self.parsed.units_per_em.max(1))
    }
}

pub struct Fonts {
    pub regular: FontFace,
    pub bold: FontFace,
}

impl Fonts {
    pub fn face(&self, f: Face) -> &FontFace {
        match f {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    /// Evidence text made safe for the page: escapes and controls removed, characters the
    /// font cannot draw shown as `?` rather than as an invisible .notdef box.
    pub fn prepare(&self, s: &str) -> String {
        crate::sanitize::clean(s, false)
            .chars()
            .map(|c| if self.regular.has(c) { c } else { '?' })
            .collect()
    }

    /// Cuts `s` to fit `width`, ending in an ellipsis when cut.
    pub fn fit(&self, s: &str, face: Face, size: f32, width: f32) -> String {
        let f = self.face(face);
        if f.width(s, size) <= width {
            return s.to_string();
        }
        let ell = f.width("…", size);
        let mut out = String::new();
        let mut w = 0.0;
        for c in s.chars() {
            let cw = f.char_width(c, size);
            if w + cw + ell > width {
                break;
            }
            w += cw;
            out.push(c);
        }
        out.push('…');
        out
    }

    /// Wraps at spaces (breaking over-long words such as digests and purls anywhere) into at
    /// most `max_lines` lines; the last line is truncated with an ellipsis when text remains.
    pub fn wrap(
        &self,
        s: &str,
        face: Face,
        size: f32,
        width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let f = self.face(face);
        let mut lines: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut cur_w = 0.0;
        let space = f.width(" ", size);
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            let ww = f.width(word, size);
            let need = if cur.is_empty() {
                ww
            } else {
                cur_w + space + ww
            };
            if need <= width {
                if !cur.is_empty() {
                    cur.push(' ');
                }
                cur.push_str(word);
                cur_w = need;
                continue;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
            }
            if ww <= width {
                cur.push_str(word);
                cur_w = ww;
            } else {
                for c in word.chars() {
                    let cw = f.char_width(c, size);
                    if cur_w + cw > width && !cur.is_empty() {
                        lines.push(std::mem::take(&mut cur));
                        cur_w = 0.0;
                    }
                    cur.push(c);
                    cur_w += cw;
                }
            }
            if lines.len() > max_lines {
                break;
            }
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
        if lines.len() > max_lines {
            lines.truncate(max_lines);
            if let Some(last) = lines.last_mut() {
                *last = self.fit(&format!("{last} …"), face, size, width);
                if !last.ends_with('…') {
                    last.push('…');
                }
            }
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }
}

pub fn rgb(r: f32, g: f32, b: f32) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

pub fn black() -> Color {
    rgb(0.0, 0.0, 0.0)
}

pub fn grey() -> Color {
    rgb(0.35, 0.35, 0.35)
}

/// The document being laid out: finished pages (compact content, see `content`) plus the
/// current page's operations and its cursor.
pub struct Doc<'f> {
    pub fonts: &'f Fonts,
    pub pages: Vec<String>,
    pub compactor: super::content::Compactor,
    pub ops: Vec<Op>,
    /// Baseline of the next line, from the bottom of the page.
    pub y: f32,
}

impl<'f> Doc<'f> {
    pub fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: Vec::new(),
            compactor: Default::default(),
            ops: Vec::new(),
            y: TOP,
        }
    }

    pub fn new_page(&mut self) {
        let ops = std::mem::take(&mut self.ops);
        let mut page = String::new();
        self.compactor.page(&ops, &mut page);
        self.pages.push(page);
        self.y = TOP;
    }

    /// Starts a new page unless `height` points still fit above the bottom margin.
    pub fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    pub fn finish(mut self) -> (Vec<String>, super::content::Compactor) {
        if !self.ops.is_empty() || self.pages.is_empty() {
            self.new_page();
        }
        (self.pages, self.compactor)
    }

    /// Draws already-prepared text with its baseline at (x, y).
    pub fn text_at(&mut self, x: f32, y: f32, s: &str, face: Face, size: f32, color: Color) {
        if s.is_empty() {
            return;
        }
        push_text(&mut self.ops, self.fonts, x, y, s, face, size, color);
    }

    /// Draws several already-prepared strings of one face, size and colour in a single
    /// text object (one font and colour selection, relative moves between them): a table
    /// row costs a few operations per cell instead of six, which is most of the report's
    /// memory and serialisation time at 100k findings.
    pub fn text_run(&mut self, items: &[(f32, f32, &str)], face: Face, size: f32, color: Color) {
        push_text_run(&mut self.ops, self.fonts, items, face, size, color);
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Color) {
        push_rect(&mut self.ops, x, y, w, h, fill);
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Color) {
        push_line(&mut self.ops, (x1, y), (x2, y), width, color);
    }

    pub fn heading(&mut self, s: &str) {
        self.ensure(60.0);
        self.y -= 8.0;
        let t = self
            .fonts
            .fit(&self.fonts.prepare(s), Face::Bold, 14.0, CONTENT_W);
        self.text_at(
            MARGIN_X,
            self.y - 14.0,
            &t,
            Face::Bold,
            14.0,
            rgb(0.1, 0.2, 0.4),
        );
        self.y -= 20.0;
        self.hline(MARGIN_X, PAGE_W - MARGIN_X, self.y, 0.6, rgb(0.1, 0.2, 0.4));
        self.y -= 8.0;
    }

    pub fn subheading(&mut self, s: &str) {
        self.ensure(40.0);
        self.y -= 4.0;
        let t = self
            .fonts
            .fit(&self.fonts.prepare(s), Face::Bold, 11.0, CONTENT_W);
        self.text_at(MARGIN_X, self.y - 11.0, &t, Face::Bold, 11.0, black());
        self.y -= 17.0;
    }

    /// A wrapped paragraph (template or evidence text; sanitised here).
    pub fn paragraph(&mut self, s: &str, size: f32) {
        let lh = size * 1.35;
        for para in s.split('\n') {
            let p = self.fonts.prepare(para);
            for line in self.fonts.wrap(&p, Face::Regular, size, CONTENT_W, 400) {
                self.ensure(lh);
                self.text_at(MARGIN_X, self.y - size, &line, Face::Regular, size, black());
                self.y -= lh;
            }
        }
        self.y -= 4.0;
    }

    /// `label: value` with the value wrapped in the remaining width.
    pub fn kv(&mut self, label: &str, value: &str) {
        let size = 9.5;
        let lh = size * 1.35;
        let lw = 130.0;
        let lines = self.fonts.wrap(
            &self.fonts.prepare(value),
            Face::Regular,
            size,
            CONTENT_W - lw,
            6,
        );
        self.ensure(lh * lines.len() as f32);
        let l = self.fonts.fit(label, Face::Bold, size, lw - 6.0);
        self.text_at(MARGIN_X, self.y - size, &l, Face::Bold, size, grey());
        for line in lines {
            self.text_at(
                MARGIN_X + lw,
                self.y - size,
                &line,
                Face::Regular,
                size,
                black(),
            );
            self.y -= lh;
        }
    }

    pub fn gap(&mut self, h: f32) {
        self.y -= h;
    }
}

#[allow(clippy::too_many_arguments)]
pub fn push_text(
    ops: &mut Vec<Op>,
    fonts: &Fonts,
    x: f32,
    y: f32,
    s: &str,
    face: Face,
    size: f32,
    color: Color,
) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: PdfFontHandle::External(fonts.face(face).id.clone()),
        size: Pt(size),
    });
    ops.push(Op::SetFillColor { col: color });
    ops.push(Op::SetTextCursor {
        pos: Point { x: Pt(x), y: Pt(y) },
    });
    ops.push(Op::ShowText {
        items: vec![TextItem::Text(s.to_string())],
    });
    ops.push(Op::EndTextSection);
}

/// See `Doc::text_run`. `Td` moves relative to the start of the previous line, so each
/// item is placed by its offset from the one before; empty strings are skipped.
pub fn push_text_run(
    ops: &mut Vec<Op>,
    fonts: &Fonts,
    items: &[(f32, f32, &str)],
    face: Face,
    size: f32,
    color: Color,
) {
    let mut items = items.iter().filter(|(_, _, s)| !s.is_empty()).peekable();
    if items.peek().is_none() {
        return;
    }
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: PdfFontHandle::External(fonts.face(face).id.clone()),
        size: Pt(size),
    });
    ops.push(Op::SetFillColor { col: color });
    let (mut px, mut py) = (0.0f32, 0.0f32);
    for (x, y, s) in items {
        ops.push(Op::SetTextCursor {
            pos: Point {
                x: Pt(x - px),
                y: Pt(y - py),
            },
        });
        (px, py) = (*x, *y);
        ops.push(Op::ShowText {
            items: vec![TextItem::Text((*s).to_string())],
        });
    }
    ops.push(Op::EndTextSection);
}

pub fn push_rect(ops: &mut Vec<Op>, x: f32, y: f32, w: f32, h: f32, fill: Color) {
    ops.push(Op::SetFillColor { col: fill });
    let mut rectangle = Rect::from_xywh(Pt(x), Pt(y), Pt(w), Pt(h));
    // Without an explicit mode printpdf only builds the path: nothing would be painted.
    rectangle.mode = Some(PaintMode::Fill);
    rectangle.winding_order = Some(WindingOrder::NonZero);
    ops.push(Op::DrawRectangle { rectangle });
}

pub fn push_line(ops: &mut Vec<Op>, a: (f32, f32), b: (f32, f32), width: f32, color: Color) {
    ops.push(Op::SetOutlineColor { col: color });
    ops.push(Op::SetOutlineThickness { pt: Pt(width) });
    ops.push(Op::DrawLine {
        line: Line {
            points: vec![
                LinePoint {
                    p: Point {
                        x: Pt(a.0),
                        y: Pt(a.1),
                    },
                    bezier: false,
                },
                LinePoint {
                    p: Point {
                        x: Pt(b.0),
                        y: Pt(b.1),
                    },
                    bezier: false,
                },
            ],
            is_closed: false,
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> Fonts {
        Fonts {
            regular: FontFace::load(dejavu::sans::regular(), "R").unwrap(),
            bold: FontFace::load(dejavu::sans::bold(), "B").unwrap(),
        }
    }

    #[test]
    fn widths_come_from_glyph_advances() {
        let f = fonts();
        // DejaVu Sans: 2048 units per em; 'i' is narrower than 'W'.
        assert!(f.regular.width("W", 10.0) > f.regular.width("i", 10.0));
        let w = f.regular.width("ab", 10.0);
        assert!((w - (f.regular.width("a", 10.0) + f.regular.width("b", 10.0))).abs() < 1e-4);
    }

    #[test]
    fn wrap_respects_width_and_line_limit() {
        let f = fonts();
        let digest = format!("sha256:{}", "a".repeat(64));
        let lines = f.wrap(
            &format!("image {digest} end"),
            Face::Regular,
            8.0,
            100.0,
            10,
        );
        assert!(lines.len() >= 3);
        for l in &lines {
            assert!(f.regular.width(l, 8.0) <= 100.0 + 0.01, "{l}");
        }
        let joined: String = lines.concat();
        assert!(joined.contains(&"a".repeat(20)));
        let cut = f.wrap(&"word ".repeat(200), Face::Regular, 8.0, 100.0, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with('…'));
    }

    #[test]
    fn prepare_strips_escapes_and_marks_missing_glyphs() {
        let f = fonts();
        assert_eq!(f.prepare("a\u{1b}[31mb"), "ab");
        // DejaVu Sans has Cyrillic but no CJK ideographs.
        assert_eq!(f.prepare("Привет 漢"), "Привет ?");
    }
}
