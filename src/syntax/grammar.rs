//! The pest parser generated from `grammar/dialect.pest`: `Grammar` and its
//! `Rule`s, read by the parser and by the hints for failed parses.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/dialect.pest"]
pub(crate) struct Grammar;
