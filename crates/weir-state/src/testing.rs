//! [`for_each_backend!`](crate::for_each_backend): one test suite run against every state
//! backend.

/// Generates, for each listed function `f(backend: &str)`, one test per state backend:
/// `hashmap::f` calls `f("hashmap")` and, when the calling crate's cargo feature `rocksdb` is
/// enabled, `rocksdb::f` calls `f("rocksdb")`. The name is the value of `state.backend.type`.
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
    };
}
