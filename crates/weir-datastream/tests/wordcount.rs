//! WordCount over a generated text of 1M words equals a plain HashMap count, at parallelism
//! 1, 2 and 4, in streaming mode (last update per word) and batch mode (final counts only).

mod common;

use std::collections::HashMap;

use common::{env, text, TempDir};

fn tokenize(line: String) -> Vec<(String, i64)> {
    line.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| (w.to_lowercase(), 1))
        .collect()
}

fn reference(text: &str) -> HashMap<String, i64> {
    let mut counts = HashMap::new();
    for word in text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

fn word_count(path: &std::path::Path, parallelism: usize, batch: bool) -> Vec<(String, i64)> {
    let env = env(parallelism);
    if batch {
        env.configure("execution.runtime-mode", "BATCH");
    }
    env.configure("execution.batch-size", "512");
    env.read_text_file(path)
        .flat_map(tokenize)
        .key_by(|(w, _): &(String, i64)| w.clone())
        .sum(1)
        .execute_and_collect()
        .unwrap()
}

#[test]
fn one_million_words_at_parallelism_1_2_4() {
    let dir = TempDir::new("wordcount");
    let path = dir.path("words.txt");
    let content = text(100_000, 10, 7);
    std::fs::write(&path, &content).unwrap();
    let expected = reference(&content);
    assert_eq!(expected.values().sum::<i64>(), 1_000_000);

    for parallelism in [1, 2, 4] {
        let updates = word_count(&path, parallelism, false);
        assert_eq!(
            updates.len(),
            1_000_000,
            "one update per word at p={parallelism}"
        );
        // Per key the updates arrive in order, so the last one is the final count.
        let mut last = HashMap::new();
        for (word, count) in updates {
            let previous = last.insert(word, count).unwrap_or(0);
            assert_eq!(count, previous + 1, "counts of a word rise by one");
        }
        assert_eq!(last, expected, "final counts at p={parallelism}");
    }
}

#[test]
fn batch_mode_emits_only_final_counts() {
    let dir = TempDir::new("wordcount-batch");
    let path = dir.path("words.txt");
    let content = text(20_000, 10, 11);
    std::fs::write(&path, &content).unwrap();
    let finals = word_count(&path, 4, true);
    let expected = reference(&content);
    assert_eq!(finals.len(), expected.len());
    assert_eq!(finals.into_iter().collect::<HashMap<_, _>>(), expected);
}

#[test]
fn a_folder_of_files_is_read_once_per_line() {
    let dir = TempDir::new("wordcount-folder");
    let mut all = String::new();
    for i in 0..5 {
        let content = text(3_000, 7, 100 + i);
        std::fs::write(dir.path(&format!("part-{i}.txt")), &content).unwrap();
        all.push_str(&content);
    }
    std::fs::write(dir.path(".hidden"), "ignored ignored\n").unwrap();
    let updates = word_count(&dir.0, 3, true);
    assert_eq!(
        updates.into_iter().collect::<HashMap<_, _>>(),
        reference(&all)
    );
}
