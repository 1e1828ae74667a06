//! Keyed state in keyed process functions: the five state kinds against a HashMap reference at
//! several parallelisms, time-to-live, a name used with two types, and state size over a
//! million records.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::{env, Rng, ScriptedSource};
use weir_datastream::prelude::*;
use weir_state::StateAccess;

/// The running average of a key's values: `(sum, count)` accumulators.
struct Average;

impl AggregateFunction<i64, (i64, i64), f64> for Average {
    fn create_accumulator(&self) -> (i64, i64) {
        (0, 0)
    }
    fn add(&self, value: i64, acc: &mut (i64, i64)) {
        acc.0 += value;
        acc.1 += 1;
    }
    fn get_result(&self, acc: &(i64, i64)) -> f64 {
        acc.0 as f64 / acc.1 as f64
    }
    fn merge(&self, a: (i64, i64), b: (i64, i64)) -> (i64, i64) {
        (a.0 + b.0, a.1 + b.1)
    }
}

/// A key's state after a record: `(key, count, values, residues mod 5 with their counts,
/// sum, average)`.
type Snapshot = (u32, i64, Vec<i64>, Vec<(i64, i64)>, i64, f64);

/// Keeps every kind of keyed state per key; a multiple of 17 clears them all first, a value
/// ending in 4 or 9 (4 mod 5) removes residue 0.
#[derive(Clone)]
struct AllStates {
    count: ValueState<i64>,
    values: ListState<i64>,
    residues: MapState<i64, i64>,
    sum: ReducingState<i64>,
    average: AggregatingState<i64, (i64, i64), f64>,
}

impl AllStates {
    fn new() -> Self {
        AllStates {
            count: ValueState::new("count"),
            values: ListState::new("values"),
            residues: MapState::new("residues"),
            sum: ReducingState::new("sum", |a, b| a + b),
            average: AggregatingState::new("average", Average),
        }
    }
}

impl KeyedProcessFunction<u32, (u32, i64), Snapshot> for AllStates {
    fn process_element(
        &mut self,
        (key, value): (u32, i64),
        ctx: &mut KeyedContext<'_, u32, Snapshot>,
    ) -> Result<()> {
        if value % 17 == 0 {
            self.count.clear(ctx)?;
            self.values.clear(ctx)?;
            self.residues.clear(ctx)?;
            self.sum.clear(ctx)?;
            self.average.clear(ctx)?;
        }
        let count = self.count.value(ctx)?.unwrap_or(0) + 1;
        self.count.update(ctx, count)?;
        self.values.add(ctx, value)?;
        let residue = value % 5;
        let seen = self.residues.get(ctx, &residue)?.unwrap_or(0);
        self.residues.put(ctx, residue, seen + 1)?;
        if residue == 4 && self.residues.contains(ctx, &0)? {
            self.residues.remove(ctx, &0)?;
        }
        self.sum.add(ctx, value)?;
        self.average.add(ctx, value)?;

        let mut residues = self.residues.entries(ctx)?;
        residues.sort();
        let snapshot = (
            key,
            count,
            self.values.get(ctx)?,
            residues,
            self.sum.get(ctx)?.unwrap_or_default(),
            self.average.get(ctx)?.unwrap_or_default(),
        );
        ctx.collect(snapshot);
        Ok(())
    }
}

/// What [`AllStates`] must emit, computed with plain maps: per key, its snapshots in order.
fn reference(input: &[(u32, i64)]) -> BTreeMap<u32, Vec<Snapshot>> {
    let mut values: HashMap<u32, Vec<i64>> = HashMap::new();
    let mut residues: HashMap<u32, BTreeMap<i64, i64>> = HashMap::new();
    let mut out: BTreeMap<u32, Vec<Snapshot>> = BTreeMap::new();
    for &(key, value) in input {
        let (values, residues) = (
            values.entry(key).or_default(),
            residues.entry(key).or_default(),
        );
        if value % 17 == 0 {
            values.clear();
            residues.clear();
        }
        values.push(value);
        *residues.entry(value % 5).or_default() += 1;
        if value % 5 == 4 {
            residues.remove(&0);
        }
        let (sum, count) = (values.iter().sum::<i64>(), values.len() as i64);
        out.entry(key).or_default().push((
            key,
            count,
            values.clone(),
            residues.iter().map(|(r, n)| (*r, *n)).collect(),
            sum,
            sum as f64 / count as f64,
        ));
    }
    out
}

#[test]
fn every_state_kind_matches_a_hash_map_reference() {
    let mut rng = Rng::new(17);
    let input: Vec<(u32, i64)> = (0..4_000)
        .map(|_| (rng.below(40) as u32, rng.below(1_000) as i64))
        .collect();
    let expected = reference(&input);
    for parallelism in [1, 3] {
        let env = env(parallelism);
        let snapshots = env
            .from_collection(input.clone())
            .key_by(|r: &(u32, i64)| r.0)
            .process(AllStates::new())
            .execute_and_collect()
            .unwrap();
        let mut by_key: BTreeMap<u32, Vec<Snapshot>> = BTreeMap::new();
        for s in snapshots {
            by_key.entry(s.0).or_default().push(s);
        }
        assert_eq!(by_key, expected, "parallelism {parallelism}");
    }
}

/// `Some(v)` writes `v` to every state, `None` only reads them.
type TtlOp = Option<i64>;
/// What the states hold after an operation: `(on create and write, on read and write,
/// returned when expired, reducing sum (after writes only), list)`.
type TtlSeen = (Option<i64>, Option<i64>, Option<i64>, Option<i64>, Vec<i64>);

/// States with a time to live of one second, differing in when it restarts and in whether
/// expired values are returned.
#[derive(Clone)]
struct TtlProbe {
    on_write: ValueState<i64>,
    on_read: ValueState<i64>,
    returned: ValueState<i64>,
    sum: ReducingState<i64>,
    list: ListState<i64>,
}

impl TtlProbe {
    fn new() -> Self {
        let ttl = StateTtlConfig::new(Duration::from_secs(1));
        TtlProbe {
            on_write: ValueState::new("on write").with_ttl(ttl),
            on_read: ValueState::new("on read")
                .with_ttl(ttl.update_type(TtlUpdateType::OnReadAndWrite)),
            returned: ValueState::new("returned")
                .with_ttl(ttl.state_visibility(StateVisibility::ReturnExpiredIfNotCleanedUp)),
            sum: ReducingState::new("sum", |a, b| a + b).with_ttl(ttl),
            list: ListState::new("list").with_ttl(ttl),
        }
    }
}

impl KeyedProcessFunction<(), TtlOp, TtlSeen> for TtlProbe {
    fn process_element(
        &mut self,
        op: TtlOp,
        ctx: &mut KeyedContext<'_, (), TtlSeen>,
    ) -> Result<()> {
        if let Some(v) = op {
            self.on_write.update(ctx, v)?;
            self.on_read.update(ctx, v)?;
            self.returned.update(ctx, v)?;
            self.sum.add(ctx, v)?;
            self.list.add(ctx, v)?;
        }
        let seen = (
            self.on_write.value(ctx)?,
            self.on_read.value(ctx)?,
            self.returned.value(ctx)?,
            // Read only after writes: the expired 5 is still stored when 3 is added.
            match op {
                Some(_) => self.sum.get(ctx)?,
                None => None,
            },
            self.list.get(ctx)?,
        );
        ctx.collect(seen);
        Ok(())
    }
}

#[test]
fn state_ttl_expires_extends_on_read_and_may_return_expired_values() {
    // Write 5, read every 400 ms for 2 s, then write 3.
    let ms = Duration::from_millis;
    let mut ops = vec![(ms(0), Some(5))];
    ops.extend((0..5).map(|_| (ms(400), None)));
    ops.push((ms(0), Some(3)));
    let env = env(1);
    let seen = env
        .from_source(ScriptedSource::paced(ops), "Operations")
        .key_by(|_: &TtlOp| ())
        .process(TtlProbe::new())
        .execute_and_collect()
        .unwrap();
    assert_eq!(seen.len(), 7);
    assert_eq!(seen[0], (Some(5), Some(5), Some(5), Some(5), vec![5]));
    assert_eq!(
        seen[1],
        (Some(5), Some(5), Some(5), None, vec![5]),
        "nothing expired after 400 ms"
    );
    for (i, s) in seen.iter().enumerate().take(6).skip(3) {
        // 1.2 s and more after the write: expired, unless read in time or returned anyway.
        assert_eq!(s, &(None, Some(5), Some(5), None, vec![]), "read {i}");
    }
    // The expired sum and list are not combined with the new value.
    assert_eq!(seen[6], (Some(3), Some(3), Some(3), Some(3), vec![3]));
}

#[test]
fn one_state_name_with_two_types_is_a_clear_error() {
    #[derive(Clone)]
    struct TwoKinds {
        history: ValueState<Vec<i64>>,
        same_name: ListState<i64>,
    }
    impl KeyedProcessFunction<i64, i64, i64> for TwoKinds {
        fn process_element(
            &mut self,
            value: i64,
            ctx: &mut KeyedContext<'_, i64, i64>,
        ) -> Result<()> {
            self.history.update(ctx, vec![value])?;
            self.same_name.add(ctx, value)
        }
    }
    let env = env(1);
    env.from_sequence(1, 10)
        .key_by(|x: &i64| *x)
        .process(TwoKinds {
            history: ValueState::new("history"),
            same_name: ListState::new("history"),
        })
        .name("History")
        .print();
    let err = env.execute("two kinds").unwrap_err().to_string();
    assert!(
        err.contains(
            "operator 'History' (subtask 0) failed: state 'history' is declared twice with \
             different types: as ValueState<Vec<i64>> and as ListState<i64>"
        ),
        "{err}"
    );
}

#[test]
fn state_of_a_thousand_keys_stays_a_thousand_entries_over_a_million_records() {
    const RECORDS: u64 = 1_000_000;
    /// Counts per key and keeps the key's maximum; at the last record reports
    /// `(key, count, entries of "count", entries of "max", all entries)`.
    #[derive(Clone)]
    struct Sized {
        count: ValueState<u64>,
        max: ReducingState<u64>,
    }
    impl KeyedProcessFunction<u64, u64, (u64, u64, usize, usize, usize)> for Sized {
        fn process_element(
            &mut self,
            value: u64,
            ctx: &mut KeyedContext<'_, u64, (u64, u64, usize, usize, usize)>,
        ) -> Result<()> {
            let count = self.count.value(ctx)?.unwrap_or(0) + 1;
            self.count.update(ctx, count)?;
            self.max.add(ctx, value)?;
            if value == RECORDS - 1 {
                let backend = ctx.backend();
                let sizes = (
                    backend.entry_count("count")?,
                    backend.entry_count("max")?,
                    backend.total_entries()?,
                );
                ctx.collect((value % 1_000, count, sizes.0, sizes.1, sizes.2));
            }
            Ok(())
        }
    }
    let env = env(1);
    let report = env
        .from_generator(|i| i, Some(RECORDS), None)
        .key_by(|i: &u64| i % 1_000)
        .process(Sized {
            count: ValueState::new("count"),
            max: ReducingState::new("max", u64::max),
        })
        .execute_and_collect()
        .unwrap();
    assert_eq!(report, vec![(999, 1_000, 1_000, 1_000, 2_000)]);
}

/// What per-element TTL states hold after an operation: `(list, list refreshed on read, list
/// returning expired elements, map entries, value under 1 of the map refreshed on read, map
/// returning expired entries, stored (key, namespace) entries of "list" and "map")`.
type ElementTtlSeen = (
    Vec<i64>,
    Vec<i64>,
    Vec<i64>,
    Vec<(i64, i64)>,
    Option<i64>,
    Vec<(i64, i64)>,
    (usize, usize),
);

/// List and map states with a time to live of 800 ms; `Some(v)` adds `v` to the lists and
/// puts `v → 10 v` into the maps, then (as `None` alone does) everything is read.
#[derive(Clone)]
struct ElementTtlProbe {
    list: ListState<i64>,
    list_on_read: ListState<i64>,
    list_returned: ListState<i64>,
    map: MapState<i64, i64>,
    map_on_read: MapState<i64, i64>,
    map_returned: MapState<i64, i64>,
}

impl ElementTtlProbe {
    fn new() -> Self {
        let ttl = StateTtlConfig::new(Duration::from_millis(800));
        let on_read = ttl.update_type(TtlUpdateType::OnReadAndWrite);
        let returned = ttl.state_visibility(StateVisibility::ReturnExpiredIfNotCleanedUp);
        ElementTtlProbe {
            list: ListState::new("list").with_ttl(ttl),
            list_on_read: ListState::new("list on read").with_ttl(on_read),
            list_returned: ListState::new("list returned").with_ttl(returned),
            map: MapState::new("map").with_ttl(ttl),
            map_on_read: MapState::new("map on read").with_ttl(on_read),
            map_returned: MapState::new("map returned").with_ttl(returned),
        }
    }
}

impl KeyedProcessFunction<(), TtlOp, ElementTtlSeen> for ElementTtlProbe {
    fn process_element(
        &mut self,
        op: TtlOp,
        ctx: &mut KeyedContext<'_, (), ElementTtlSeen>,
    ) -> Result<()> {
        if let Some(v) = op {
            for list in [&self.list, &self.list_on_read, &self.list_returned] {
                list.add(ctx, v)?;
            }
            for map in [&self.map, &self.map_on_read, &self.map_returned] {
                map.put(ctx, v, 10 * v)?;
            }
        }
        let sorted = |mut entries: Vec<(i64, i64)>| {
            entries.sort();
            entries
        };
        let mut seen = (
            self.list.get(ctx)?,
            self.list_on_read.get(ctx)?,
            self.list_returned.get(ctx)?,
            sorted(self.map.entries(ctx)?),
            // Only the entry under 1 is read (and so refreshed).
            self.map_on_read.get(ctx, &1)?,
            sorted(self.map_returned.entries(ctx)?),
            (0, 0),
        );
        let backend = ctx.backend();
        seen.6 = (backend.entry_count("list")?, backend.entry_count("map")?);
        ctx.collect(seen);
        Ok(())
    }
}

#[test]
fn list_elements_and_map_entries_expire_one_by_one() {
    // Add 1 at 0 ms and 2 at 500 ms; read at 1000 ms, when only 1 has expired (unless read in
    // time), and at 2000 ms, when both have.
    let ms = Duration::from_millis;
    let ops = vec![
        (ms(0), Some(1)),
        (ms(500), Some(2)),
        (ms(500), None),
        (ms(1000), None),
    ];
    let env = env(1);
    let seen = env
        .from_source(ScriptedSource::paced(ops), "Operations")
        .key_by(|_: &TtlOp| ())
        .process(ElementTtlProbe::new())
        .execute_and_collect()
        .unwrap();
    let both = vec![(1, 10), (2, 20)];
    assert_eq!(
        seen,
        vec![
            (
                vec![1],
                vec![1],
                vec![1],
                vec![(1, 10)],
                Some(10),
                vec![(1, 10)],
                (1, 1)
            ),
            (
                vec![1, 2],
                vec![1, 2],
                vec![1, 2],
                both.clone(),
                Some(10),
                both.clone(),
                (1, 1)
            ),
            // 1 has expired, but not where reads refreshed it or expired elements are returned.
            (
                vec![2],
                vec![1, 2],
                vec![1, 2],
                vec![(2, 20)],
                Some(10),
                both.clone(),
                (1, 1)
            ),
            // All expired: the emptied list and map are removed from storage.
            (vec![], vec![], vec![1, 2], vec![], None, both, (0, 0)),
        ]
    );
}
