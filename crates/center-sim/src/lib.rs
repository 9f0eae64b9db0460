//! A simulated national medical insurance platform over real HTTP.
