//! Property tests of the store.
