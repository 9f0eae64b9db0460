//! The state machine of one checkout and the recovery of interrupted ones.
