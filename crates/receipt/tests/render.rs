//! Receipts rendered for real: PDF text (pdftotext), pixels (pdftoppm),
//! embedded subset font (pdffonts), size; and a print through CUPS (cups-pdf).
use std::process::Command;

use receipt::{render_pdf, sample, Layout};

fn tool(cmd: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!("{cmd} (poppler-utils/cups, installed by scripts/setup.sh): {e}")
    });
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every character of `text` has a glyph in the receipt font (no tofu boxes).
fn font_covers(text: &str) -> Vec<char> {
    let face = ttf_parser::Face::parse(receipt_font(), 0).unwrap();
    text.chars()
        .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
        .collect()
}

fn receipt_font() -> &'static [u8] {
    include_bytes!("../../../assets/fonts/YibaoReceiptSans.ttf")
}

#[test]
fn both_layouts_show_the_total_in_words_every_split_amount_and_the_settlement_id() {
    let dir = tempfile::tempdir().unwrap();
    let r = sample();
    for (name, layout) in [("roll80", Layout::Roll80), ("a5", Layout::A5)] {
        let pdf = render_pdf(&r, layout).unwrap();
        assert!(pdf.len() < 100 * 1024, "{name}: {} bytes", pdf.len());
        let p = dir.path().join(format!("{name}.pdf"));
        std::fs::write(&p, &pdf).unwrap();
        let text =
            String::from_utf8(tool("pdftotext", &["-layout", p.to_str().unwrap(), "-"]).stdout)
                .unwrap();
        for want in [
            "人民币叁佰伍拾肆元整",
            "69.30",
            "100.00",
            "184.70",
            "250.70",
            "34.00",
            "4440000123",
            "医保统筹基金支付",
            "个人账户支付",
            "个人现金支付",
            "现金",
            "深圳市演示人民医院",
        ] {
            assert!(text.contains(want), "{name}: {want} missing in\n{text}");
        }
        assert!(
            font_covers(&text).is_empty(),
            "{name}: no glyph for {:?}",
            font_covers(&text)
        );
        let fonts = String::from_utf8(tool("pdffonts", &[p.to_str().unwrap()]).stdout).unwrap();
        let row = fonts.lines().nth(2).expect("one font");
        // Embedded (emb = yes); printpdf subsets it to the glyphs used, which the size above shows
        // (the whole font is 1 MB) though it does not add the "ABCDEF+" name prefix pdffonts looks for.
        assert!(
            row.contains("CID TrueType") && row.contains(" yes "),
            "{name}: the font is embedded: {fonts}"
        );
        // Rendered: ink on the page, and the QR code is there.
        tool(
            "pdftoppm",
            &[
                "-r",
                "150",
                "-png",
                "-singlefile",
                p.to_str().unwrap(),
                dir.path().join(name).to_str().unwrap(),
            ],
        );
        let png = image::open(dir.path().join(format!("{name}.png")))
            .unwrap()
            .to_luma8();
        let dark = png.pixels().filter(|p| p[0] < 100).count() as f64
            / (png.width() * png.height()) as f64;
        assert!(dark > 0.01 && dark < 0.5, "{name}: dark pixel share {dark}");
    }
}

#[test]
fn reprints_are_marked_and_refunds_reference_the_original() {
    let mut r = sample();
    r.reprint = true;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.pdf");
    std::fs::write(&p, render_pdf(&r, Layout::Roll80).unwrap()).unwrap();
    let text = String::from_utf8(tool("pdftotext", &[p.to_str().unwrap(), "-"]).stdout).unwrap();
    assert!(text.contains("补打"));
    let mut refund = sample();
    refund.kind = receipt::ReceiptKind::Refund;
    refund.total = -refund.total;
    refund.orig_setl_id = Some("4440000100".into());
    std::fs::write(&p, render_pdf(&refund, Layout::Roll80).unwrap()).unwrap();
    let text = String::from_utf8(tool("pdftotext", &[p.to_str().unwrap(), "-"]).stdout).unwrap();
    assert!(
        text.contains("退费")
            && text.contains("4440000100")
            && text.contains("负人民币叁佰伍拾肆元整"),
        "{text}"
    );
}

#[test]
fn the_einvoice_request_carries_the_settlement() {
    let v = receipt::einvoice_request(&sample(), "001");
    assert_eq!(v["totalAmt"], "354.00");
    assert_eq!(v["medicalInsuranceID"], "4440000123");
    assert_eq!(v["fundPay"], "69.30");
    assert_eq!(v["chargeDetail"].as_array().unwrap().len(), 3);
}

#[test]
fn a_receipt_prints_through_cups_to_a_pdf_file() {
    let printers = receipt::list_printers()
        .expect("CUPS with the YibaoPDF printer (scripts/setup.sh adds it)");
    assert!(printers.iter().any(|p| p == "YibaoPDF"), "{printers:?}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("receipt.pdf");
    std::fs::write(&p, render_pdf(&sample(), Layout::Roll80).unwrap()).unwrap();
    let out_dir = std::path::PathBuf::from(std::env::var("HOME").unwrap()).join("PDF");
    let title = format!("yibao-test-{}", std::process::id());
    let job = receipt::print_pdf(&p, Some("YibaoPDF"), &title).unwrap();
    assert!(job.starts_with("YibaoPDF-"), "{job}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let found = std::fs::read_dir(&out_dir).ok().and_then(|d| {
            d.filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().contains(&title))
        });
        // cups-pdf writes the file while Ghostscript renders: wait until it reads whole.
        let complete = found.filter(|f| {
            std::process::Command::new("pdfinfo")
                .arg(f.path())
                .output()
                .is_ok_and(|o| o.status.success())
        });
        if let Some(f) = complete {
            // cups-pdf re-renders through Ghostscript (the text layer does not survive); check it is a
            // one-page PDF with the receipt's ink on it.
            let info =
                String::from_utf8(tool("pdfinfo", &[f.path().to_str().unwrap()]).stdout).unwrap();
            assert!(
                info.lines()
                    .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")),
                "{info}"
            );
            let png = dir.path().join("printed");
            tool(
                "pdftoppm",
                &[
                    "-r",
                    "100",
                    "-png",
                    "-singlefile",
                    f.path().to_str().unwrap(),
                    png.to_str().unwrap(),
                ],
            );
            let img = image::open(dir.path().join("printed.png"))
                .unwrap()
                .to_luma8();
            let dark = img.pixels().filter(|p| p[0] < 100).count();
            assert!(dark > 1000, "the printed page has ink ({dark} dark pixels)");
            let _ = std::fs::remove_file(f.path());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the CUPS job {job} did not come out in {}",
            out_dir.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    // An unknown printer is a clear error, not a settlement problem.
    let e = receipt::print_pdf(&p, Some("NoSuchPrinter"), "x").unwrap_err();
    assert!(matches!(e, receipt::PrintError::NoPrinter(_)));
    assert!(e.message_zh().1.contains("补打"));
}
