//! What a scanned 医保电子凭证 string is: classification, channel, freshness and replay checks.
