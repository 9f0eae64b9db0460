//! End-to-end tests in the real window (one test binary, modules inside).
//! `xvfb-run -a cargo test -p e2e -- --test-threads=1`

mod checkout;
mod crash;
mod foundation;
mod reconcile;
