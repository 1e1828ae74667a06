//! A deterministic text for WordCount: ~10k pseudo-words drawn with a Zipf(1) distribution
//! (as word frequencies in natural text), 5 to 15 words per line, with a little punctuation.

use std::io::{BufWriter, Write};
use std::path::Path;

/// SplitMix64: a small, fast, deterministic generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pe", "ga", "bo", "fi", "ju", "ha", "ze",
    "wo", "ni", "ta", "li", "ro", "se", "mu", "an", "er", "in", "or", "us", "el", "ix",
];

/// `size` distinct pseudo-words of 1 to 4 syllables; short words get the low (frequent) ranks.
pub fn vocabulary(size: usize, rng: &mut Rng) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(size);
    while words.len() < size {
        // Longer words become likelier as the vocabulary grows, as in natural language.
        let max_syllables = 1 + (words.len() * 4 / size).min(3) as u64;
        let n = 1 + rng.below(max_syllables);
        let w: String = (0..n)
            .map(|_| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize])
            .collect();
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Writes about `megabytes` MB (10^6 bytes) of text to `out`.
pub fn generate(megabytes: u64, out: &Path, seed: u64) -> std::io::Result<TextStats> {
    let mut rng = Rng::new(seed);
    let vocab = vocabulary(10_000, &mut rng);
    // Zipf(1): P(rank r) ∝ 1/r. Sample by binary search over the cumulative weights.
    let mut cdf = Vec::with_capacity(vocab.len());
    let mut total = 0.0;
    for r in 1..=vocab.len() {
        total += 1.0 / r as f64;
        cdf.push(total);
    }
    let target = megabytes * 1_000_000;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut stats = TextStats::default();
    let mut line = String::with_capacity(256);
    while stats.bytes < target {
        line.clear();
        let n = 5 + rng.below(11);
        for i in 0..n {
            let u = rng.next_f64() * total;
            let rank = cdf.partition_point(|&c| c < u).min(vocab.len() - 1);
            if i > 0 {
                line.push(' ');
            }
            line.push_str(&vocab[rank]);
            // Some punctuation, which the tokenizer must split off.
            match rng.below(40) {
                0 => line.push(','),
                1 => line.push('.'),
                _ => {}
            }
            stats.words += 1;
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
        stats.bytes += line.len() as u64;
        stats.lines += 1;
    }
    w.flush()?;
    Ok(stats)
}

#[derive(Debug, Default)]
pub struct TextStats {
    pub bytes: u64,
    pub lines: u64,
    pub words: u64,
}
