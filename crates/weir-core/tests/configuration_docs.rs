//! `docs/configuration.md` is generated from the option catalogue, so that the documented keys,
//! defaults and descriptions are the ones the code uses. Regenerate it with
//! `WEIR_UPDATE_DOCS=1 cargo test -p weir-core --test configuration_docs`.

use std::path::PathBuf;

use weir_core::config::options::describe_options;

const HEADER: &str = "# Configuration

Every option Weir reads, with its key, default and type. Set options in `config.yaml`
(`$WEIR_CONF_DIR/config.yaml`, else `./conf/config.yaml`; flat `a.b: v` or nested keys, as in
Flink 2), with `-D key=value` on `weir run`, or in the program (`env.configure(key, value)`);
later sources win. Unknown keys are warned about; invalid values stop the job with an error
that names the key, the value and where it came from.

Options of features that are still to come (checkpointing, state backends, restart strategies,
the REST endpoint, the Table API) are accepted and validated with Flink's keys already, but take
effect only when those features land (see the issues). Weir sends a batch as soon as an operator
has produced it, so `execution.buffer-timeout.interval` has nothing to wait for yet.

This page is generated from `weir_core::config::options`.

";

#[test]
fn configuration_page_matches_the_catalogue() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
    let expected = format!("{HEADER}{}", describe_options());
    if std::env::var_os("WEIR_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/configuration.md is out of date: run WEIR_UPDATE_DOCS=1 cargo test -p weir-core --test configuration_docs"
    );
}
