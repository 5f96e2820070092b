//! Bad input: every malformed request gets the right code and `reason`.
