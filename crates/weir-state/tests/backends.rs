//! One suite of keyed state tests run against every backend (`hashmap::*` and, with the cargo
//! feature `rocksdb`, `rocksdb::*`): every state kind reads back what a reference model says,
//! TTL expires entries, and snapshots restore on any parallelism and on the other backend.
//! `rocksdb_incremental::*` runs the suite with incremental checkpoints, whose snapshots are
//! RocksDB files; a few tests below check what only they do.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use weir_core::config::Configuration;
use weir_core::keygroup::KeyGroupRange;
use weir_state::storage::CheckpointStorage;
use weir_state::testing::backend_options;
use weir_state::{
    for_each_backend, AggregateFunction, AggregatingState, KeyedStateBackend, ListState, MapState,
    Namespace, OperatorSnapshot, ReducingState, RestoredState, StateAccess, StateBackendConfig,
    StateSnapshot, StateTtlConfig, ValueState,
};

const MAX_PARALLELISM: usize = 128;
const KEYS: u64 = 500;

/// The backends compiled into this test build.
fn compiled_backends() -> Vec<&'static str> {
    if cfg!(feature = "rocksdb") {
        vec!["hashmap", "rocksdb", "rocksdb-incremental"]
    } else {
        vec!["hashmap"]
    }
}

/// A backend of kind `backend` for subtask `subtask` of `parallelism`, as a state context.
fn open(backend: &str, parallelism: usize, subtask: usize) -> Ctx {
    let mut config = Configuration::new();
    for (key, value) in backend_options(backend) {
        config.set_string(key, value);
    }
    let config = StateBackendConfig::from_configuration(&config).unwrap();
    let range = KeyGroupRange::for_subtask(MAX_PARALLELISM, parallelism, subtask);
    Ctx {
        backend: KeyedStateBackend::open(&config, range, MAX_PARALLELISM).unwrap(),
        range,
        namespace: Namespace::Void,
        checkpoints: Checkpoints::new(),
    }
}

struct Ctx {
    backend: KeyedStateBackend<u64>,
    range: KeyGroupRange,
    namespace: Namespace,
    checkpoints: Checkpoints,
}

/// A checkpoint directory of the test's own (deleted at the end), where snapshots write the
/// files of incremental checkpoints.
struct Checkpoints {
    base: PathBuf,
    storage: CheckpointStorage,
    next_id: u64,
}

impl Checkpoints {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("weir-backends-{}-{n}", std::process::id()));
        let storage = CheckpointStorage::new(&base, "job");
        Checkpoints {
            base,
            storage,
            next_id: 0,
        }
    }

    /// A new checkpoint id.
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Materializes `snapshot` as a checkpoint would, its files in a checkpoint of its own.
    fn write(&mut self, snapshot: StateSnapshot) -> OperatorSnapshot {
        let pending = self.storage.begin(snapshot.checkpoint_id()).unwrap();
        let mut written = snapshot.materialize(Some(&pending.file_writer())).unwrap();
        if let Some(native) = &mut written.native {
            native.base = pending.dir().to_path_buf();
        }
        written
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

impl StateAccess<u64> for Ctx {
    fn backend(&mut self) -> &mut KeyedStateBackend<u64> {
        &mut self.backend
    }
    fn namespace(&self) -> Namespace {
        self.namespace
    }
}

impl Ctx {
    /// Makes `key` current; false if this subtask does not own it.
    fn key(&mut self, key: u64) -> bool {
        let owned = self.range.contains(weir_core::keygroup::key_group_for_key(
            &key,
            MAX_PARALLELISM,
        ));
        owned && self.backend.set_current_key(key).is_ok()
    }

    /// A checkpoint's snapshot of the backend.
    fn snapshot(&mut self) -> OperatorSnapshot {
        let id = self.checkpoints.next_id();
        self.take(StateSnapshot::new(id))
    }

    /// A savepoint's snapshot of the backend.
    fn savepoint(&mut self) -> OperatorSnapshot {
        let id = self.checkpoints.next_id();
        self.take(StateSnapshot::savepoint(id))
    }

    fn take(&mut self, mut snapshot: StateSnapshot) -> OperatorSnapshot {
        self.backend.snapshot(&mut snapshot).unwrap();
        self.checkpoints.write(snapshot)
    }
}

/// Sum and count, for the average of the values added.
struct Average;

impl AggregateFunction<u64, (u64, u64), f64> for Average {
    fn create_accumulator(&self) -> (u64, u64) {
        (0, 0)
    }
    fn add(&self, value: u64, acc: &mut (u64, u64)) {
        acc.0 += value;
        acc.1 += 1;
    }
    fn get_result(&self, acc: &(u64, u64)) -> f64 {
        acc.0 as f64 / acc.1 as f64
    }
    fn merge(&self, a: (u64, u64), b: (u64, u64)) -> (u64, u64) {
        (a.0 + b.0, a.1 + b.1)
    }
}

/// The handles of the suite.
struct States {
    last: ValueState<u64>,
    all: ListState<u64>,
    by_digit: MapState<u64, u64>,
    max: ReducingState<u64>,
    average: AggregatingState<u64, (u64, u64), f64>,
}

impl States {
    fn new() -> Self {
        States {
            last: ValueState::new("last"),
            all: ListState::new("all"),
            by_digit: MapState::new("by-digit"),
            max: ReducingState::new("max", u64::max),
            average: AggregatingState::new("average", Average),
        }
    }

    /// Adds `value` under the current key to every state.
    fn add(&self, ctx: &mut Ctx, value: u64) {
        self.last.update(ctx, value).unwrap();
        self.all.add(ctx, value).unwrap();
        let digit = value % 10;
        let count = self.by_digit.get(ctx, &digit).unwrap().unwrap_or(0);
        self.by_digit.put(ctx, digit, count + 1).unwrap();
        self.max.add(ctx, value).unwrap();
        self.average.add(ctx, value).unwrap();
    }

    /// What every state says about the current key.
    fn read(&self, ctx: &mut Ctx) -> Seen {
        let mut by_digit = self.by_digit.entries(ctx).unwrap();
        by_digit.sort_unstable();
        Seen {
            last: self.last.value(ctx).unwrap(),
            all: self.all.get(ctx).unwrap(),
            by_digit,
            max: self.max.get(ctx).unwrap(),
            average: self.average.get(ctx).unwrap(),
        }
    }
}

#[derive(Debug, Default, PartialEq)]
struct Seen {
    last: Option<u64>,
    all: Vec<u64>,
    by_digit: Vec<(u64, u64)>,
    max: Option<u64>,
    average: Option<f64>,
}

/// The values added to key `k`: `k * 7 + i` for `i` in `0..=k % 13`.
fn values(k: u64) -> impl Iterator<Item = u64> {
    (0..=k % 13).map(move |i| k * 7 + i)
}

/// What [`States::read`] must say about key `k` after [`fill`], computed without state.
fn reference(k: u64) -> Seen {
    let all: Vec<u64> = values(k).collect();
    let mut by_digit: BTreeMap<u64, u64> = BTreeMap::new();
    for v in &all {
        *by_digit.entry(v % 10).or_default() += 1;
    }
    Seen {
        last: all.last().copied(),
        max: all.iter().copied().max(),
        average: Some(all.iter().sum::<u64>() as f64 / all.len() as f64),
        by_digit: by_digit.into_iter().collect(),
        all,
    }
}

/// Adds the values of every owned key, key after key in rounds (so that keys interleave).
fn fill(ctx: &mut Ctx, states: &States) {
    let per_key: HashMap<u64, Vec<u64>> = (0..KEYS).map(|k| (k, values(k).collect())).collect();
    for round in 0..13 {
        for k in 0..KEYS {
            if let Some(v) = per_key[&k].get(round) {
                if ctx.key(k) {
                    states.add(ctx, *v);
                }
            }
        }
    }
}

/// Checks every owned key against the reference; returns how many keys were owned.
fn check(ctx: &mut Ctx, states: &States) -> u64 {
    let mut owned = 0;
    for k in 0..KEYS {
        if ctx.key(k) {
            assert_eq!(states.read(ctx), reference(k), "key {k}");
            owned += 1;
        }
    }
    owned
}

fn every_state_kind_reads_back_what_was_written(backend: &str) {
    let (mut ctx, states) = (open(backend, 1, 0), States::new());
    fill(&mut ctx, &states);
    assert_eq!(check(&mut ctx, &states), KEYS);
    assert_eq!(ctx.backend.entry_count("last").unwrap(), KEYS as usize);
    assert_eq!(ctx.backend.total_entries().unwrap(), 5 * KEYS as usize);
    for k in 0..KEYS {
        ctx.key(k);
        states.last.clear(&mut ctx).unwrap();
        states.all.clear(&mut ctx).unwrap();
        let digit = k * 7 % 10;
        let count = reference(k)
            .by_digit
            .iter()
            .find(|(d, _)| *d == digit)
            .map(|(_, c)| *c);
        assert_eq!(states.by_digit.remove(&mut ctx, &digit).unwrap(), count);
    }
    ctx.key(3);
    assert_eq!(states.last.value(&mut ctx).unwrap(), None);
    assert!(states.all.get(&mut ctx).unwrap().is_empty());
    assert_eq!(ctx.backend.entry_count("last").unwrap(), 0);
    assert_eq!(ctx.backend.entry_count("all").unwrap(), 0);
}

fn namespaces_separate_windows_and_merge(backend: &str) {
    let mut ctx = open(backend, 1, 0);
    let average = AggregatingState::new("average", Average);
    let windows = [
        Namespace::Window { start: 0, end: 10 },
        Namespace::Window { start: 10, end: 20 },
        Namespace::Global,
    ];
    for k in 0..50u64 {
        ctx.key(k);
        for (i, ns) in windows.iter().enumerate() {
            ctx.namespace = *ns;
            average.add(&mut ctx, k + i as u64 * 100).unwrap();
        }
    }
    for k in 0..50u64 {
        ctx.key(k);
        ctx.namespace = windows[1];
        average.merge_namespace(&mut ctx, windows[0]).unwrap();
        assert_eq!(average.get(&mut ctx).unwrap(), Some(k as f64 + 50.0));
        ctx.namespace = windows[0];
        assert_eq!(average.get(&mut ctx).unwrap(), None);
        ctx.namespace = windows[2];
        assert_eq!(average.get(&mut ctx).unwrap(), Some(k as f64 + 200.0));
    }
}

fn a_snapshot_restores_on_another_parallelism_and_backend(backend: &str) {
    let (mut ctx, states) = (open(backend, 1, 0), States::new());
    fill(&mut ctx, &states);
    let checkpoint = ctx.snapshot();
    let savepoint = ctx.savepoint();
    for target in compiled_backends() {
        // Backends change through savepoints (incremental checkpoints are RocksDB's own).
        let snapshot = if target == backend {
            &checkpoint
        } else {
            &savepoint
        };
        let mut owned = 0;
        for subtask in 0..3 {
            let mut restored = open(target, 3, subtask);
            let range = restored.range;
            let parts = RestoredState::assemble(std::slice::from_ref(snapshot), subtask, 3, range);
            restored.backend.restore(&parts).unwrap();
            owned += check(&mut restored, &states);
            // And back again from the restored subtask's own snapshot.
            let again = if target == backend {
                restored.snapshot()
            } else {
                restored.savepoint()
            };
            let mut back = open(backend, 3, subtask);
            back.backend
                .restore(&RestoredState::assemble(&[again], subtask, 3, range))
                .unwrap();
            check(&mut back, &states);
        }
        assert_eq!(owned, KEYS, "from {backend} to {target}");
    }
}

fn a_snapshot_keeps_the_state_of_its_time(backend: &str) {
    let (mut ctx, states) = (open(backend, 1, 0), States::new());
    fill(&mut ctx, &states);
    let mut pending = StateSnapshot::new(ctx.checkpoints.next_id());
    ctx.backend.snapshot(&mut pending).unwrap();
    for k in 0..KEYS {
        ctx.key(k);
        states.add(&mut ctx, 1_000_000);
        states.last.clear(&mut ctx).unwrap();
    }
    let snapshot = ctx.checkpoints.write(pending);
    let mut restored = open(backend, 1, 0);
    let range = restored.range;
    (restored.backend)
        .restore(&RestoredState::assemble(&[snapshot], 0, 1, range))
        .unwrap();
    assert_eq!(check(&mut restored, &states), KEYS);
}

fn restored_state_not_declared_yet_is_passed_on(backend: &str) {
    let (mut ctx, states) = (open(backend, 1, 0), States::new());
    fill(&mut ctx, &states);
    let first = ctx.snapshot();
    let mut idle = open(backend, 1, 0);
    let range = idle.range;
    idle.backend
        .restore(&RestoredState::assemble(&[first], 0, 1, range))
        .unwrap();
    // Only one state is used before the next snapshot.
    idle.key(1);
    assert_eq!(states.max.get(&mut idle).unwrap(), reference(1).max);
    let second = idle.snapshot();
    let mut last = open(backend, 1, 0);
    last.backend
        .restore(&RestoredState::assemble(&[second], 0, 1, range))
        .unwrap();
    assert_eq!(check(&mut last, &states), KEYS);
}

fn expired_entries_are_not_returned(backend: &str) {
    let mut ctx = open(backend, 1, 0);
    let ttl = StateTtlConfig::new(Duration::from_millis(30));
    let value = ValueState::<u64>::new("v").with_ttl(ttl);
    let list = ListState::<u64>::new("l").with_ttl(ttl);
    let map = MapState::<u64, u64>::new("m").with_ttl(ttl);
    ctx.key(7);
    value.update(&mut ctx, 1).unwrap();
    list.add(&mut ctx, 1).unwrap();
    map.put(&mut ctx, 1, 10).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // The list element added now lives on; the older one has expired.
    list.add(&mut ctx, 2).unwrap();
    map.put(&mut ctx, 2, 20).unwrap();
    assert_eq!(value.value(&mut ctx).unwrap(), None);
    assert_eq!(list.get(&mut ctx).unwrap(), vec![2]);
    assert_eq!(map.entries(&mut ctx).unwrap(), vec![(2, 20)]);
    assert_eq!(ctx.backend.entry_count("v").unwrap(), 0);
    std::thread::sleep(Duration::from_millis(50));
    // An expired map entry is not returned when removed, and its map goes.
    assert_eq!(map.remove(&mut ctx, &2).unwrap(), None);
    assert_eq!(ctx.backend.entry_count("m").unwrap(), 0);
}

fn a_taken_value_is_gone_until_updated(backend: &str) {
    let mut ctx = open(backend, 1, 0);
    let value = ValueState::<Vec<u64>>::new("v");
    ctx.key(7);
    value.update(&mut ctx, vec![1, 2]).unwrap();
    ctx.key(8);
    assert_eq!(value.take(&mut ctx).unwrap(), None);
    ctx.key(7);
    assert_eq!(value.take(&mut ctx).unwrap(), Some(vec![1, 2]));
    assert_eq!(value.value(&mut ctx).unwrap(), None);
    assert_eq!(ctx.backend.entry_count("v").unwrap(), 0);
    value.update(&mut ctx, vec![3]).unwrap();
    ctx.key(8);
    ctx.key(7);
    assert_eq!(value.value(&mut ctx).unwrap(), Some(vec![3]));
}

fn a_list_with_and_without_ttl_under_one_name_is_an_error(backend: &str) {
    let mut ctx = open(backend, 1, 0);
    ctx.key(7);
    ListState::<i64>::new("l").add(&mut ctx, 1).unwrap();
    let err = ListState::<i64>::new("l")
        .with_ttl(StateTtlConfig::new(Duration::from_secs(1)))
        .add(&mut ctx, 2)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "state 'l' (ListState<i64>) is declared twice, once with a time-to-live and once without"
        ),
        "{err}"
    );
}

for_each_backend!(
    every_state_kind_reads_back_what_was_written,
    namespaces_separate_windows_and_merge,
    a_snapshot_restores_on_another_parallelism_and_backend,
    a_snapshot_keeps_the_state_of_its_time,
    restored_state_not_declared_yet_is_passed_on,
    expired_entries_are_not_returned,
    a_taken_value_is_gone_until_updated,
    a_list_with_and_without_ttl_under_one_name_is_an_error,
);

/// The SST files an incremental snapshot references: path → size.
#[cfg(feature = "rocksdb")]
fn sst_files(snapshot: &OperatorSnapshot) -> BTreeMap<String, u64> {
    let native = snapshot.native.as_ref().expect("an incremental snapshot");
    (native.files.iter())
        .filter(|(name, _)| name.ends_with(".sst"))
        .map(|(_, h)| (h.path.clone(), h.size))
        .collect()
}

/// After a small change, the next incremental checkpoint references the files of the one
/// before and writes only a small new one; restored on two subtasks, every key has its
/// latest value.
#[cfg(feature = "rocksdb")]
#[test]
fn an_incremental_checkpoint_writes_only_new_files() {
    const MANY: u64 = 20_000;
    let mut ctx = open("rocksdb-incremental", 1, 0);
    let value = ValueState::<u64>::new("value");
    let mut expected: BTreeMap<u64, u64> = BTreeMap::new();
    for k in 0..MANY {
        ctx.key(k);
        value.update(&mut ctx, k * 3).unwrap();
        expected.insert(k, k * 3);
    }
    let first = ctx.snapshot();
    for k in 0..10 {
        ctx.key(k);
        value.update(&mut ctx, 7).unwrap();
        expected.insert(k, 7);
    }
    let second = ctx.snapshot();
    let (old, new) = (sst_files(&first), sst_files(&second));
    assert!(!old.is_empty() && old.keys().all(|path| new.contains_key(path)));
    let old_bytes: u64 = old.values().sum();
    let added_bytes: u64 = (new.iter())
        .filter(|(path, _)| !old.contains_key(*path))
        .map(|(_, size)| size)
        .sum();
    assert!(
        added_bytes > 0 && added_bytes * 10 < old_bytes,
        "the second checkpoint wrote {added_bytes} new bytes of SST files, the first {old_bytes}"
    );
    let mut seen = BTreeMap::new();
    for subtask in 0..2 {
        let mut restored = open("rocksdb-incremental", 2, subtask);
        let range = restored.range;
        (restored.backend)
            .restore(&RestoredState::assemble(
                std::slice::from_ref(&second),
                subtask,
                2,
                range,
            ))
            .unwrap();
        for k in 0..MANY {
            if restored.key(k) {
                seen.insert(k, value.value(&mut restored).unwrap().unwrap());
            }
        }
    }
    assert_eq!(seen, expected);
}

#[cfg(feature = "rocksdb")]
#[test]
fn the_heap_backend_refuses_an_incremental_checkpoint() {
    let (mut ctx, states) = (open("rocksdb-incremental", 1, 0), States::new());
    fill(&mut ctx, &states);
    let snapshot = ctx.snapshot();
    let mut heap = open("hashmap", 1, 0);
    let range = heap.range;
    let err = (heap.backend)
        .restore(&RestoredState::assemble(&[snapshot], 0, 1, range))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("incremental checkpoint") && err.contains("savepoint"),
        "{err}"
    );
}
