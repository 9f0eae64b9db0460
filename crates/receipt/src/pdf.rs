//! PDF layouts. Text is set in the shipped CJK font, which printpdf subsets to
//! the glyphs used, so a receipt stays a few tens of KB.

use printpdf::path::PaintMode;
use printpdf::{IndirectFontRef, Line, Mm, PdfDocument, PdfLayerReference, Point, Rect};

use crate::data::ReceiptData;

/// The receipt font (Droid Sans Fallback, Apache-2.0, subset to GB2312 + ASCII).
pub static FONT: &[u8] = include_bytes!("../../../assets/fonts/YibaoReceiptSans.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// 80 mm thermal roll (72 mm printable).
    Roll80,
    /// A5 portrait.
    A5,
}

impl Layout {
    pub fn parse(s: &str) -> Option<Layout> {
        match s {
            "roll80" => Some(Layout::Roll80),
            "a5" => Some(Layout::A5),
            _ => None,
        }
    }
}

struct Geometry {
    width: f32,
    margin: f32,
    font: f32,
    line: f32,
    qr: f32,
    item_lines: bool,
}

fn geometry(l: Layout) -> Geometry {
    match l {
        Layout::Roll80 => Geometry {
            width: 80.0,
            margin: 4.0,
            font: 8.0,
            line: 4.0,
            qr: 24.0,
            item_lines: false,
        },
        Layout::A5 => Geometry {
            width: 148.0,
            margin: 12.0,
            font: 10.0,
            line: 5.2,
            qr: 28.0,
            item_lines: true,
        },
    }
}

/// Width of text in mm at `pt` points, from the font's advance widths.
fn text_width(s: &str, pt: f32) -> f32 {
    thread_local! {
        static FACE: Option<ttf_parser::Face<'static>> = ttf_parser::Face::parse(FONT, 0).ok();
    }
    FACE.with(|face| {
        let em_mm = pt * 0.3528;
        match face {
            Some(f) => {
                let upem = f.units_per_em() as f32;
                s.chars()
                    .map(|c| {
                        f.glyph_index(c)
                            .and_then(|g| f.glyph_hor_advance(g))
                            .map(|a| a as f32 / upem)
                            .unwrap_or(1.0)
                    })
                    .sum::<f32>()
                    * em_mm
            }
            None => s.chars().count() as f32 * em_mm,
        }
    })
}

enum Row {
    Center(String, f32),
    Pair(String, String),
    Text(String),
    Rule,
    Gap,
    Qr(String),
}

fn rows(r: &ReceiptData, g: &Geometry) -> Vec<Row> {
    let yuan = |f: money::Fen| format!("¥{f}");
    let mut v = vec![Row::Center(r.institution.clone(), g.font + 3.0)];
    let title = if r.reprint {
        format!("{}（补打）", r.title())
    } else {
        r.title().to_string()
    };
    v.push(Row::Center(title, g.font + 2.0));
    v.push(Row::Gap);
    v.push(Row::Pair("收据号".into(), r.receipt_no.clone()));
    v.push(Row::Pair("日期时间".into(), r.time.clone()));
    v.push(Row::Pair("收费员".into(), r.cashier.clone()));
    v.push(Row::Pair("患者".into(), r.patient.clone()));
    v.push(Row::Pair("险种".into(), r.insutype.clone()));
    v.push(Row::Pair("医疗类别".into(), r.med_type.clone()));
    if let Some(o) = &r.orig_setl_id {
        v.push(Row::Pair("原结算号".into(), o.clone()));
    }
    v.push(Row::Rule);
    for grp in &r.groups {
        v.push(Row::Pair(grp.category.clone(), yuan(grp.amount)));
        if g.item_lines {
            for (name, qty, amt) in &grp.lines {
                v.push(Row::Pair(format!("    {name}  {qty}"), yuan(*amt)));
            }
        }
    }
    v.push(Row::Rule);
    v.push(Row::Pair("合计".into(), yuan(r.total)));
    v.push(Row::Text(format!("大写：{}", r.total_capital())));
    v.push(Row::Rule);
    for s in &r.split {
        let label = match &s.note {
            Some(n) => format!("{}（{n}）", s.label),
            None => s.label.clone(),
        };
        v.push(Row::Pair(label, yuan(s.amount)));
    }
    v.push(Row::Pair("个人自付".into(), yuan(r.self_pay_in_scope)));
    v.push(Row::Pair("个人自费".into(), yuan(r.self_pay_out_of_scope)));
    if let Some(b) = r.balance_after {
        v.push(Row::Pair("个人账户余额".into(), yuan(b)));
    }
    v.push(Row::Rule);
    if r.kind == crate::ReceiptKind::OfflineStatement {
        v.push(Row::Pair("收费单号".into(), r.setl_id.clone()));
        for n in &r.notes {
            for line in wrap(n, g.font, g.width - 2.0 * g.margin) {
                v.push(Row::Text(line));
            }
        }
        v.push(Row::Center("请妥善保管本清单".into(), g.font - 1.0));
        return v;
    }
    v.push(Row::Pair("结算号".into(), r.setl_id.clone()));
    v.push(Row::Qr(r.setl_id.clone()));
    v.push(Row::Center(
        "医保结算以国家医疗保障信息平台结果为准".into(),
        g.font - 1.0,
    ));
    v.push(Row::Center(
        "请妥善保管，退费需凭此收据".into(),
        g.font - 1.0,
    ));
    v
}

/// Break a text into lines no wider than `width` mm (by the glyphs' advances).
fn wrap(t: &str, pt: f32, width: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for c in t.chars() {
        line.push(c);
        if text_width(&line, pt) > width {
            line.pop();
            out.push(std::mem::take(&mut line));
            line.push(c);
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// A sheet of label/amount lines (the 交班单 and other reports a counter prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    pub institution: String,
    pub title: String,
    pub lines: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// Render a sheet to PDF bytes, in the receipts' layouts.
pub fn render_sheet(s: &Sheet, layout: Layout) -> Result<Vec<u8>, String> {
    let g = geometry(layout);
    let mut rows = vec![
        Row::Center(s.institution.clone(), g.font + 3.0),
        Row::Center(s.title.clone(), g.font + 2.0),
        Row::Rule,
    ];
    for (a, b) in &s.lines {
        rows.push(Row::Pair(a.clone(), b.clone()));
    }
    rows.push(Row::Rule);
    for n in &s.notes {
        for line in wrap(n, g.font, g.width - 2.0 * g.margin) {
            rows.push(Row::Text(line));
        }
    }
    render_rows(&rows, &s.title, layout)
}

/// Render a receipt to PDF bytes.
pub fn render_pdf(r: &ReceiptData, layout: Layout) -> Result<Vec<u8>, String> {
    let g = geometry(layout);
    render_rows(&rows(r, &g), r.title(), layout)
}

fn render_rows(rows: &[Row], title: &str, layout: Layout) -> Result<Vec<u8>, String> {
    let g = geometry(layout);
    let content: f32 = rows
        .iter()
        .map(|row| match row {
            Row::Center(_, pt) => pt * 0.3528 * 1.5,
            Row::Qr(_) => g.qr + 2.0,
            Row::Gap => g.line * 0.5,
            Row::Rule => g.line * 0.6,
            _ => g.line,
        })
        .sum();
    let height = match layout {
        Layout::Roll80 => content + 2.0 * g.margin,
        Layout::A5 => 210f32.max(content + 2.0 * g.margin),
    };
    let (doc, page, layer) = PdfDocument::new(title, Mm(g.width), Mm(height), "receipt");
    let font = doc
        .add_external_font(FONT)
        .map_err(|e| format!("font: {e}"))?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut y = height - g.margin;
    let right = g.width - g.margin;
    for row in rows {
        match row {
            Row::Center(t, pt) => {
                y -= pt * 0.3528 * 1.2;
                let x = ((g.width - text_width(t, *pt)) / 2.0).max(g.margin);
                layer.use_text(t.as_str(), *pt, Mm(x), Mm(y), &font);
                y -= pt * 0.3528 * 0.3;
            }
            Row::Pair(a, b) => {
                y -= g.line;
                text(&layer, &font, a, g.font, g.margin, y);
                text(&layer, &font, b, g.font, right - text_width(b, g.font), y);
            }
            Row::Text(t) => {
                y -= g.line;
                text(&layer, &font, t, g.font, g.margin, y);
            }
            Row::Gap => y -= g.line * 0.5,
            Row::Rule => {
                y -= g.line * 0.6;
                layer.set_outline_thickness(0.3);
                layer.add_line(Line {
                    points: vec![
                        (Point::new(Mm(g.margin), Mm(y + g.line * 0.3)), false),
                        (Point::new(Mm(right), Mm(y + g.line * 0.3)), false),
                    ],
                    is_closed: false,
                });
            }
            Row::Qr(text) => {
                y -= g.qr + 1.0;
                draw_qr(&layer, text, (g.width - g.qr) / 2.0, y, g.qr)?;
                y -= 1.0;
            }
        }
    }
    doc.save_to_bytes().map_err(|e| format!("pdf: {e}"))
}

fn text(layer: &PdfLayerReference, font: &IndirectFontRef, t: &str, pt: f32, x: f32, y: f32) {
    layer.use_text(t, pt, Mm(x), Mm(y), font);
}

fn draw_qr(layer: &PdfLayerReference, text: &str, x: f32, y: f32, size: f32) -> Result<(), String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("qr: {e}"))?;
    let w = code.width();
    let m = size / (w as f32 + 4.0);
    let colors = code.to_colors();
    for row in 0..w {
        // Merge runs of dark modules into one rectangle.
        let mut col = 0;
        while col < w {
            if colors[row * w + col] == qrcode::Color::Dark {
                let start = col;
                while col < w && colors[row * w + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let x0 = x + (start as f32 + 2.0) * m;
                let x1 = x + (col as f32 + 2.0) * m;
                let y1 = y + size - (row as f32 + 2.0) * m;
                layer.add_rect(
                    Rect::new(Mm(x0), Mm(y1 - m), Mm(x1), Mm(y1)).with_mode(PaintMode::Fill),
                );
            } else {
                col += 1;
            }
        }
    }
    Ok(())
}
