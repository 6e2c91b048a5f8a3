//! Redirect mode: placeholder.
