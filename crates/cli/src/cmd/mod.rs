//! One module per subcommand family. Each `run` returns the process exit code.
pub mod audit;
pub mod catalog;
pub mod checkout;
pub mod decode;
pub mod dict;
pub mod hub;
pub mod hub_shared;
pub mod nhsa;
pub mod receipt;
pub mod session;
pub mod shift;
pub mod sim;
pub mod split;
