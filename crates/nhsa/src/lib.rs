//! The national medical insurance platform interface (国家医疗保障信息平台
//! 定点医药机构接口规范), docs/domain.md §1, §2, §5.4:
//!
//! * [`envelope`]: the request and response envelopes; tolerant reading
//!   (numbers as strings or numbers, nulls, unknown keys, `output` double-encoded),
//!   strict writing.
//! * [`tx`]: every transaction the counter uses, with its service path and input node.
//! * [`types`]: typed outputs (1101, 1162, 2201, 2204, 2206/2207/2208, 3201, 9001…).
//! * [`errors`]: center answers mapped to what the cashier must do.
//! * [`client`]: HTTP transport with timeouts, no automatic retry of money-moving
//!   transactions, pluggable gateway layers ([`secure`]: x-tif headers, SM2/SM4 envelope).
//! * [`sm`]: SM2/SM3/SM4 through sm-crypto.

pub mod client;
pub mod dict;
pub mod envelope;
pub mod errors;
pub mod inputs;
pub mod inspect;
pub mod secure;
pub mod sm;
pub mod tx;
pub mod types;
pub mod visit;

pub use client::{CallError, Caller, Client, ClientConfig, Institution, MAX_ANSWER_BYTES};
pub use envelope::{format_msgid, parse_msgid, RequestEnvelope, ResponseEnvelope};
pub use errors::{classify, ErrorKind};
pub use tx::Infno;
