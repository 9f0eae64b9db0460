//! Receipt layouts, PDF with printpdf, printing through CUPS, e-invoice request.
