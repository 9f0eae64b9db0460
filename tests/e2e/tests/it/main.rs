//! End-to-end tests in the real window (one test binary, modules inside).
//! `xvfb-run -a cargo test -p e2e` (each test holds `e2e::serial()`: one window at a time)

mod checkout;
mod crash;
mod finance;
mod foundation;
mod reconcile;
mod session;
mod shift;
mod visit;
