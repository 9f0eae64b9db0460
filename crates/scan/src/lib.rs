//! Frame sources (nokhwa camera, recorded frames), preprocessing and QR decoding.
