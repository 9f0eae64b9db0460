//! Bill lines, benefit policy, the split of a bill into fund, account and self-pay, and the fallback plan.
