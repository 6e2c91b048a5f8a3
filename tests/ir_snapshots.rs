//! The decision IR of every example, as `ir::print` shows it, kept as
//! insta snapshots so any change to lowering is reviewed.

use std::path::Path;

use dialect::cli::RealFs;
use dialect::ir;
use dialect::load::Loader;

#[test]
fn examples_lower_to_stable_ir() {
    for (name, path) in [
        ("office", "examples/office/office.dial"),
        ("support", "examples/support/support.dial"),
        ("bank", "examples/bank/bank.dial"),
        ("multisite", "examples/multisite/main.dial"),
    ] {
        let fs = RealFs;
        let mut loader = Loader::new(&fs);
        let root = loader.load(Path::new(path)).expect("example loads");
        let checked = loader.check(root, None);
        assert!(
            checked.diagnostics.iter().all(|d| !d.is_error()),
            "{path} has errors"
        );
        insta::assert_snapshot!(
            format!("ir_{name}"),
            ir::print(&ir::lower(&checked.program))
        );
    }
}
