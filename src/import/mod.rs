//! Producers of cassettes from other tools' recordings. They sit above `cassette` (whose format
//! they write) and `provider` (which says what a stream means), and nothing below imports them.

pub mod vcrpy;
