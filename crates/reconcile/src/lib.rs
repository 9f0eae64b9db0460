//! Day and shift totals, 3201/3202 against the center, cash drawer and card terminal comparison.
