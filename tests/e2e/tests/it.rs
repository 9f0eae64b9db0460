//! End-to-end tests in the real window. Run serially (one display, one driver):
//! `xvfb-run -a cargo test -p e2e -- --test-threads=1`

mod foundation;
