//! The national medical insurance platform interface: envelopes, typed transactions, SM2/SM3/SM4, HTTP client, error kinds.
