//! Helpers shared by the integration tests: temporary folders, deterministic random data,
//! environments with a given configuration.
#![allow(dead_code)]

use std::path::PathBuf;

use weir_datastream::prelude::*;

/// A fresh folder under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "weir-test-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An environment with `parallelism` and otherwise default configuration.
pub fn env(parallelism: usize) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::with_configuration(Configuration::new());
    env.set_parallelism(parallelism);
    env
}

/// `lines` lines of `words_per_line` words drawn from a skewed vocabulary.
pub fn text(lines: usize, words_per_line: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::new();
    for _ in 0..lines {
        for w in 0..words_per_line {
            if w > 0 {
                out.push(if rng.below(5) == 0 { ',' } else { ' ' });
                out.push(' ');
            }
            // Skewed: small ids are much more frequent.
            let bound = 1 + rng.below(5000);
            let id = rng.below(bound);
            out.push_str(&format!("W{id}x"));
        }
        out.push('\n');
    }
    out
}
