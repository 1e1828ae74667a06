//! What a Top-N keeps per partition: its rows in rank order ([`Partition`]), and the changes
//! of the ranked result when a row enters or leaves ([`changes`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::changelog::RowKind;
use crate::plan::RankFunction;

/// A row of a partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedRow {
    /// The sort key: bytes that compare in the order of the `ORDER BY`.
    pub sort: Vec<u8>,
    /// The arrival number in the partition: which row it is, among equal ones.
    pub seq: u64,
    /// The row, in Arrow's row format.
    pub row: Vec<u8>,
}

/// The rows of one partition in rank order: by sort key, then by arrival (oldest first, or
/// newest first for a deduplication that keeps the last row).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Partition {
    rows: Vec<RankedRow>,
    next_seq: u64,
    /// The partition's result was emitted once and for all (the first row in event time).
    pub fired: bool,
}

impl Partition {
    /// The index a new row with sort key `sort` would take.
    pub fn position(&self, sort: &[u8], newest_first: bool) -> usize {
        if newest_first {
            self.rows.partition_point(|r| r.sort.as_slice() < sort)
        } else {
            self.rows.partition_point(|r| r.sort.as_slice() <= sort)
        }
    }

    /// Adds a row at index `at` (from [`Partition::position`]).
    pub fn insert(&mut self, at: usize, sort: Vec<u8>, row: Vec<u8>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.rows.insert(at, RankedRow { sort, seq, row });
    }

    /// Removes the first row equal to `row` with sort key `sort`; whether there was one.
    pub fn retract(&mut self, sort: &[u8], row: &[u8]) -> bool {
        let from = self.rows.partition_point(|r| r.sort.as_slice() < sort);
        let found = self.rows[from..]
            .iter()
            .take_while(|r| r.sort == sort)
            .position(|r| r.row == row);
        if let Some(i) = found {
            self.rows.remove(from + i);
        }
        found.is_some()
    }

    /// Forgets all rows.
    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// Forgets the rows after the first `keep`.
    pub fn truncate(&mut self, keep: usize) {
        self.rows.truncate(keep);
    }

    /// Whether the partition has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows ranked `start..=end` by `function`, each with its rank: rows of equal sort key
    /// share a `RANK()` or `DENSE_RANK()`.
    pub fn ranked_by(&self, function: RankFunction, start: u64, end: u64) -> Vec<(RankedRow, u64)> {
        if function == RankFunction::RowNumber {
            return (self.ranked(start, end).iter().zip(start..))
                .map(|(r, n)| (r.clone(), n))
                .collect();
        }
        let mut ranked = Vec::new();
        let mut rank = 0;
        for (i, row) in self.rows.iter().enumerate() {
            let peer = i > 0 && self.rows[i - 1].sort == row.sort;
            if !peer {
                rank = match function {
                    RankFunction::DenseRank => rank + 1,
                    _ => i as u64 + 1,
                };
            }
            if rank > end {
                break;
            }
            if rank >= start {
                ranked.push((row.clone(), rank));
            }
        }
        ranked
    }

    /// How many leading rows can still be ranked up to `end` by `function` as rows arrive
    /// (ranks only grow when a row enters).
    pub fn rows_up_to(&self, function: RankFunction, end: u64) -> usize {
        match self.ranked_by(function, 1, end).last() {
            Some((last, _)) => self
                .rows
                .iter()
                .position(|r| r.seq == last.seq)
                .map_or(0, |i| i + 1),
            None => 0,
        }
    }

    /// The rows numbered `start..=end` (row numbers count from 1).
    pub fn ranked(&self, start: u64, end: u64) -> &[RankedRow] {
        let len = self.rows.len();
        let from = usize::try_from(start.saturating_sub(1)).map_or(len, |s| s.min(len));
        let to = usize::try_from(end).map_or(len, |e| e.min(len));
        self.rows.get(from..to).unwrap_or_default()
    }
}

/// How a Top-N reports changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Per row number (`-U`/`+U` of the rows at a number), rather than as rows that leave and
    /// enter.
    pub positional: bool,
    /// A row replaced by an equal one is not reported.
    pub skip_equal: bool,
}

/// A change of a Top-N's result: its kind, the row, and its row number (0 when changes are
/// not positional).
pub type Change = (RowKind, Vec<u8>, u64);

/// Appends to `out` the changes from the ranked rows `before` to `after` (the rows numbered
/// from `start` before and after a row entered or left). Positional: a row that replaces
/// another at its number is `-U` of the old and `+U` of the new one (as Flink reports a Top-N
/// with row numbers, an offset, or a deduplication), a number that gets a row `+I`, one that
/// loses it `-D`; otherwise rows that leave are `-D` and then rows that enter `+I`.
pub fn changes(
    before: &[RankedRow],
    after: &[RankedRow],
    start: u64,
    style: Style,
    out: &mut Vec<Change>,
) {
    let Style {
        positional,
        skip_equal,
    } = style;
    if positional {
        for i in 0..before.len().max(after.len()) {
            let rank = start + i as u64;
            match (before.get(i), after.get(i)) {
                (Some(b), Some(a)) if b.seq == a.seq || (skip_equal && b.row == a.row) => {}
                (Some(b), Some(a)) => {
                    out.push((RowKind::UpdateBefore, b.row.clone(), rank));
                    out.push((RowKind::UpdateAfter, a.row.clone(), rank));
                }
                (None, Some(a)) => out.push((RowKind::Insert, a.row.clone(), rank)),
                (Some(b), None) => out.push((RowKind::Delete, b.row.clone(), rank)),
                (None, None) => {}
            }
        }
        return;
    }
    let seqs = |rows: &[RankedRow]| rows.iter().map(|r| r.seq).collect::<HashSet<u64>>();
    let (was, is) = (seqs(before), seqs(after));
    for left in before.iter().filter(|r| !is.contains(&r.seq)) {
        out.push((RowKind::Delete, left.row.clone(), 0));
    }
    for entered in after.iter().filter(|r| !was.contains(&r.seq)) {
        out.push((RowKind::Insert, entered.row.clone(), 0));
    }
}

/// Appends to `out` the changes from the ranked rows `before` to `after` (with their ranks)
/// of a `RANK()` or `DENSE_RANK()` Top-N: a row that leaves or changes rank is `-D` with its
/// old rank, a row that enters or changes rank `+I` with its new one.
pub fn rank_changes(
    before: &[(RankedRow, u64)],
    after: &[(RankedRow, u64)],
    out: &mut Vec<Change>,
) {
    let key = |rows: &[(RankedRow, u64)]| {
        rows.iter()
            .map(|(r, n)| (r.seq, *n))
            .collect::<HashSet<(u64, u64)>>()
    };
    let (was, is) = (key(before), key(after));
    for (row, rank) in before.iter().filter(|(r, n)| !is.contains(&(r.seq, *n))) {
        out.push((RowKind::Delete, row.row.clone(), *rank));
    }
    for (row, rank) in after.iter().filter(|(r, n)| !was.contains(&(r.seq, *n))) {
        out.push((RowKind::Insert, row.row.clone(), *rank));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partition(sorts: &[u8]) -> Partition {
        let mut p = Partition::default();
        for s in sorts {
            let at = p.position(&[*s], false);
            p.insert(at, vec![*s], vec![*s, p.next_seq as u8]);
        }
        p
    }

    const NUMBERED: Style = Style {
        positional: true,
        skip_equal: false,
    };
    const SET: Style = Style {
        positional: false,
        skip_equal: false,
    };

    fn kinds(out: &[Change]) -> Vec<(&'static str, u64)> {
        out.iter().map(|(k, _, r)| (k.short_string(), *r)).collect()
    }

    #[test]
    fn equal_sort_keys_keep_arrival_order_unless_newest_first() {
        let p = partition(&[5, 3, 5, 1]);
        let order: Vec<u64> = p.ranked(1, 10).iter().map(|r| r.seq).collect();
        assert_eq!(order, vec![3, 1, 0, 2]);
        assert_eq!(p.position(&[5], false), 4);
        assert_eq!(p.position(&[5], true), 2);
    }

    #[test]
    fn an_entering_row_shifts_the_numbered_rows() {
        let mut p = partition(&[1, 3, 5]);
        let before = p.ranked(1, 3).to_vec();
        let at = p.position(&[2], false);
        p.insert(at, vec![2], vec![2]);
        let mut out = Vec::new();
        changes(&before, p.ranked(1, 3), 1, NUMBERED, &mut out);
        assert_eq!(
            kinds(&out),
            vec![("-U", 2), ("+U", 2), ("-U", 3), ("+U", 3)]
        );
        out.clear();
        changes(&before, p.ranked(1, 3), 1, SET, &mut out);
        assert_eq!(kinds(&out), vec![("-D", 0), ("+I", 0)]);
    }

    #[test]
    fn a_retracted_row_lets_the_next_one_in() {
        let mut p = partition(&[1, 3, 5]);
        let before = p.ranked(1, 2).to_vec();
        let row = p.ranked(1, 1)[0].row.clone();
        assert!(p.retract(&[1], &row));
        assert!(!p.retract(&[1], &row));
        let mut out = Vec::new();
        changes(&before, p.ranked(1, 2), 1, SET, &mut out);
        assert_eq!(kinds(&out), vec![("-D", 0), ("+I", 0)]);
        out.clear();
        changes(&before, p.ranked(1, 2), 1, NUMBERED, &mut out);
        assert_eq!(
            kinds(&out),
            vec![("-U", 1), ("+U", 1), ("-U", 2), ("+U", 2)]
        );
    }

    #[test]
    fn ties_share_a_rank() {
        let p = partition(&[1, 2, 2, 3, 4]);
        let ranks = |f, start, end| {
            (p.ranked_by(f, start, end).iter())
                .map(|(r, n)| (r.sort[0], *n))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ranks(RankFunction::Rank, 1, 4),
            vec![(1, 1), (2, 2), (2, 2), (3, 4)]
        );
        assert_eq!(
            ranks(RankFunction::DenseRank, 2, 3),
            vec![(2, 2), (2, 2), (3, 3)]
        );
        assert_eq!(p.rows_up_to(RankFunction::Rank, 2), 3);
        assert_eq!(p.rows_up_to(RankFunction::RowNumber, 2), 2);
    }

    #[test]
    fn the_ranked_range_is_clamped() {
        let p = partition(&[1, 2, 3]);
        assert_eq!(p.ranked(2, 10).len(), 2);
        assert!(p.ranked(4, 10).is_empty());
        assert!(p.ranked(3, 2).is_empty());
    }
}
