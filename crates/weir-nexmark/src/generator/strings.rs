//! Random text: words with spaces, exact-length letter runs, and the `extra` padding that
//! brings an event to its configured average size.

use crate::rng::EventRng;

/// The shortest random string before trimming.
const MIN_STRING_LENGTH: u64 = 3;

/// Lower-case letters with, one time in 13, `separator` instead; `3..max_len` characters
/// before spaces at the ends are trimmed.
pub fn random_string(rng: &mut EventRng, max_len: u64, separator: char) -> String {
    let len = MIN_STRING_LENGTH + rng.below(max_len - MIN_STRING_LENGTH);
    let s: String = (0..len)
        .map(|_| {
            if rng.below(13) == 0 {
                separator
            } else {
                random_letter(rng)
            }
        })
        .collect();
    if separator == ' ' {
        s.trim().to_string()
    } else {
        s
    }
}

/// Exactly `len` random lower-case letters.
pub fn exact_string(rng: &mut EventRng, len: usize) -> String {
    let mut letters = Vec::with_capacity(len);
    while letters.len() < len {
        // One 64-bit draw yields 13 letters (26^13 < 2^64).
        let mut bits = rng.next_u64();
        for _ in 0..(len - letters.len()).min(13) {
            letters.push(b'a' + (bits % 26) as u8);
            bits /= 26;
        }
    }
    String::from_utf8(letters).expect("lower-case ASCII letters are UTF-8")
}

/// Padding such that `current_size` plus its length is `average_size` on average (uniform
/// within ±20 %); empty if the event is already that large.
pub fn extra(rng: &mut EventRng, current_size: usize, average_size: usize) -> String {
    if current_size > average_size {
        return String::new();
    }
    let wanted = average_size - current_size;
    let delta = (wanted as f64 * 0.2).round() as usize;
    let len = wanted - delta + rng.below(2 * delta as u64) as usize;
    exact_string(rng, len)
}

fn random_letter(rng: &mut EventRng) -> char {
    (b'a' + rng.below(26) as u8) as char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_have_the_reference_shapes() {
        let mut rng = EventRng::new(3, 4);
        for _ in 0..1000 {
            let s = random_string(&mut rng, 20, ' ');
            assert!(s.len() < 20 && s == s.trim());
            assert!(s.chars().all(|c| c == ' ' || c.is_ascii_lowercase()));
            let e = extra(&mut rng, 32, 100);
            assert!((54..82).contains(&e.len()), "{}", e.len());
        }
        assert_eq!(exact_string(&mut rng, 40).len(), 40);
        assert!(extra(&mut rng, 120, 100).is_empty());
    }
}
