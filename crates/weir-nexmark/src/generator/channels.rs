//! Where bids come from: four hot channels (half the bids) and `channel-0` to
//! `channel-9999`, each with a fixed URL that depends only on the seed.

use super::strings::random_string;
use crate::rng::EventRng;

/// Half the bids come from the hot channels.
const HOT_CHANNELS_RATIO: u64 = 2;
const HOT_CHANNELS: &[&str] = &["Google", "Facebook", "Baidu", "Apple"];
/// The number of other channels.
const CHANNELS: u64 = 10_000;

/// Random streams of URLs are numbered from here, apart from the events' streams.
const URL_STREAMS: u64 = 1 << 63;

/// Every channel's name and URL, made once per generator.
#[derive(Debug)]
pub struct Channels {
    hot: Vec<(String, String)>,
    other: Vec<(String, String)>,
}

impl Channels {
    /// The channels of the generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        let hot = HOT_CHANNELS
            .iter()
            .enumerate()
            .map(|(i, name)| (name.to_string(), base_url(seed, i as u64)))
            .collect();
        let other = (0..CHANNELS)
            .map(|n| (format!("channel-{n}"), channel_url(seed, n)))
            .collect();
        Channels { hot, other }
    }

    /// A random channel's name and URL.
    pub fn pick(&self, rng: &mut EventRng) -> &(String, String) {
        if rng.below(HOT_CHANNELS_RATIO) > 0 {
            rng.pick(&self.hot)
        } else {
            rng.pick(&self.other)
        }
    }
}

/// The URL of `channel-n`: a base URL, in nine of ten channels with the channel's id (its
/// number with the 32 bits reversed, made non-negative) as a parameter.
fn channel_url(seed: u64, n: u64) -> String {
    let stream = HOT_CHANNELS.len() as u64 + n;
    let url = base_url(seed, stream);
    if EventRng::new(seed, URL_STREAMS + stream).below(10) > 0 {
        let id = (n as u32).reverse_bits() as i32;
        format!("{url}&channel_id={}", id.unsigned_abs())
    } else {
        url
    }
}

/// A URL with three random path parts.
fn base_url(seed: u64, stream: u64) -> String {
    let mut rng = EventRng::new(seed.wrapping_add(1), URL_STREAMS + stream);
    let mut part = || random_string(&mut rng, 5, '_');
    format!(
        "https://www.nexmark.com/{}/{}/{}/item.htm?query=1",
        part(),
        part(),
        part()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_depend_on_the_seed_only() {
        let (a, b) = (Channels::new(5), Channels::new(5));
        assert_eq!(a.other[17], b.other[17]);
        assert_ne!(Channels::new(6).other[17].1, a.other[17].1);
        assert!(a.other[17].1.starts_with("https://www.nexmark.com/"));
        let with_id = a
            .other
            .iter()
            .filter(|c| c.1.contains("&channel_id="))
            .count();
        assert!((8_500..9_500).contains(&with_id), "{with_id}");
    }
}
