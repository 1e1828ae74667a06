//! [`for_each_backend!`](crate::for_each_backend): one test suite run against every state
//! backend, and [`backend_options`]: the configuration that chooses a backend of the suite.

/// Generates, for each listed function `f(backend: &str)`, one test per state backend:
/// `hashmap::f` calls `f("hashmap")` and, when the calling crate's cargo feature `rocksdb` is
/// enabled, `rocksdb::f` calls `f("rocksdb")` and `rocksdb_incremental::f` calls
/// `f("rocksdb-incremental")` (RocksDB with incremental checkpoints). The name's
/// configuration is [`backend_options`].
///
/// ```ignore
/// fn counts_survive_a_restore(backend: &str) { /* ... */ }
/// weir_state::for_each_backend!(counts_survive_a_restore);
/// ```
#[macro_export]
macro_rules! for_each_backend {
    ($($test:ident),+ $(,)?) => {
        mod hashmap {
            $(
                #[test]
                fn $test() {
                    super::$test("hashmap")
                }
            )+
        }
        #[cfg(feature = "rocksdb")]
        mod rocksdb {
            $(
                #[test]
                fn $test() {
                    super::$test("rocksdb")
                }
            )+
        }
        #[cfg(feature = "rocksdb")]
        mod rocksdb_incremental {
            $(
                #[test]
                fn $test() {
                    super::$test("rocksdb-incremental")
                }
            )+
        }
    };
}

/// The configuration (key, value) that chooses the test suite's backend `name`: `hashmap`,
/// `rocksdb` or `rocksdb-incremental`.
pub fn backend_options(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "rocksdb-incremental" => vec![
            ("state.backend.type", "rocksdb"),
            ("execution.checkpointing.incremental", "true"),
        ],
        "rocksdb" => vec![("state.backend.type", "rocksdb")],
        _ => vec![("state.backend.type", "hashmap")],
    }
}
