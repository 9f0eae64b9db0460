//! Receipts (docs/domain.md §4): the data a receipt shows, built from a settlement;
//! PDF layouts (80 mm thermal roll, A5) with an embedded, per-document subset
//! CJK font (assets/fonts/YibaoReceiptSans.ttf, Apache-2.0); the e-invoice
//! request (§4.4); printing through CUPS.

mod data;
mod einvoice;
mod pdf;
mod print;
mod sample;
pub use sample::sample;

pub use data::{FeeGroup, ReceiptData, ReceiptKind, SplitLine};
pub use einvoice::einvoice_request;
pub use pdf::{render_pdf, render_sheet, Layout, Sheet};
pub use print::{default_printer, list_printers, print_pdf, PrintError};
