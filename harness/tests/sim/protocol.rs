//! Wire-protocol details.
