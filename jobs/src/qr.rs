//! A voucher's code as a QR code a POS scanner reads from the member's phone, drawn in HTML
//! (one small table of black and white runs per row) rather than as an image: mail clients
//! show it without loading anything, it needs no attachment or public URL, and a preview
//! shows it as the member will.

use qrcodegen::{QrCode, QrCodeEcc};

/// Pixels per module.
const MODULE: usize = 4;
/// White modules around the code (the quiet zone scanners need).
const QUIET: usize = 4;

/// `text` as a QR code in HTML, `None` when it is too long to encode.
pub fn html(text: &str) -> Option<String> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = usize::try_from(code.size()).ok()?;
    let side = (size + 2 * QUIET) * MODULE;
    let mut out = format!(
        "<table role=\"img\" aria-label=\"QR code of {text}\" class=\"qr\" cellpadding=\"0\" cellspacing=\"0\" bgcolor=\"#ffffff\" \
         style=\"margin: 12px auto 4px; background: #ffffff; width: {side}px; border-collapse: collapse;\"><tr><td style=\"padding: {pad}px;\">",
        text = entity::rules::content::escape_html(text),
        pad = QUIET * MODULE,
    );
    for y in 0..size {
        out.push_str("<table cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse: collapse;\"><tr>");
        let mut x = 0;
        while x < size {
            let dark = code.get_module(x as i32, y as i32);
            let run = (x..size).take_while(|&i| code.get_module(i as i32, y as i32) == dark).count();
            let color = if dark { " bgcolor=\"#000000\"" } else { "" };
            out.push_str(&format!("<td width=\"{w}\" height=\"{MODULE}\"{color}></td>", w = run * MODULE));
            x += run;
        }
        out.push_str("</tr></table>");
    }
    out.push_str("</td></tr></table>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_spans_the_whole_code() {
        let html = html("4NM7W-DKTAB").unwrap();
        let code = QrCode::encode_text("4NM7W-DKTAB", QrCodeEcc::Medium).unwrap();
        let rows: Vec<&str> = html.split("<tr>").skip(2).collect();
        assert_eq!(rows.len(), code.size() as usize);
        for row in rows {
            let width: usize = row.split("width=\"").skip(1).map(|w| w.split('"').next().unwrap().parse::<usize>().unwrap()).sum();
            assert_eq!(width, code.size() as usize * MODULE);
        }
        assert!(html.contains("aria-label=\"QR code of 4NM7W-DKTAB\""));
    }
}
