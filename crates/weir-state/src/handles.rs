//! Typed handles to keyed state. A handle is also the state's descriptor: its name and TTL.
//! Declare handles in a function's fields (`count: ValueState::new("count")`) and use them
//! with the context the runtime passes: `self.count.value(ctx)?`. Each access reads or writes
//! the entry of the context's current key (and namespace).

use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use weir_core::Result;

use crate::backend::StateAccess;
use crate::data::{StateKey, StateValue};
use crate::ttl::{now_ms, StateTtlConfig};

/// The name, kind and TTL shared by all handles.
#[derive(Clone)]
struct Descriptor {
    name: Arc<str>,
    /// The handle's type, as in `ListState<i64>`: one name can have only one kind.
    kind: Arc<str>,
    ttl: Option<StateTtlConfig>,
}

impl Descriptor {
    /// The descriptor of the state `name` of handle type `H`.
    fn new<H: ?Sized>(name: &str) -> Self {
        Descriptor {
            name: name.into(),
            kind: short_type_name(std::any::type_name::<H>()).into(),
            ttl: None,
        }
    }

    /// Runs `f` on the backend with the id of this state's table of `S`.
    fn with<K: StateKey, S: StateValue, R>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        f: impl FnOnce(&mut crate::KeyedStateBackend<K>, usize, crate::Namespace) -> Result<R>,
    ) -> Result<R> {
        self.with_table::<K, S, R>(ctx, self.ttl, f)
    }

    /// [`with`](Self::with) for a table of elements with their own time stamps (list and map
    /// state with a TTL), whose entries as a whole do not expire.
    fn with_stamped<K: StateKey, S: StateValue, R>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        f: impl FnOnce(&mut crate::KeyedStateBackend<K>, usize, crate::Namespace) -> Result<R>,
    ) -> Result<R> {
        self.with_table::<K, S, R>(ctx, None, f)
    }

    fn with_table<K: StateKey, S: StateValue, R>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        table_ttl: Option<StateTtlConfig>,
        f: impl FnOnce(&mut crate::KeyedStateBackend<K>, usize, crate::Namespace) -> Result<R>,
    ) -> Result<R> {
        let ns = ctx.namespace();
        let backend = ctx.backend();
        let id = backend.table_id::<S>(&self.name, &self.kind, table_ttl)?;
        f(backend, id, ns)
    }
}

/// A type name without module paths: `ListState<String>` for
/// `weir_state::handles::ListState<alloc::string::String>`.
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut path_start = 0;
    for c in full.chars() {
        match c {
            ':' => out.truncate(path_start),
            c if c.is_alphanumeric() || c == '_' => out.push(c),
            c => {
                out.push(c);
                path_start = out.len();
            }
        }
    }
    out
}

/// `new`, `Clone`, `with_ttl` and `name` of the handles made of a descriptor alone.
macro_rules! handle_common {
    ($t:ident < $($p:ident),* >) => {
        impl<$($p),*> Clone for $t<$($p),*> {
            fn clone(&self) -> Self {
                $t { d: self.d.clone(), _v: PhantomData }
            }
        }
        impl<$($p),*> $t<$($p),*> {
            /// A state named `name`.
            pub fn new(name: &str) -> Self {
                $t { d: Descriptor::new::<Self>(name), _v: PhantomData }
            }
            /// Entries expire as `ttl` says.
            pub fn with_ttl(mut self, ttl: StateTtlConfig) -> Self {
                self.d.ttl = Some(ttl);
                self
            }
            /// The state's name.
            pub fn name(&self) -> &str {
                &self.d.name
            }
        }
    };
}

/// One value per key (Flink's `ValueState`).
pub struct ValueState<V> {
    d: Descriptor,
    _v: PhantomData<fn() -> V>,
}
handle_common!(ValueState<V>);

impl<V: StateValue> ValueState<V> {
    /// The current key's value.
    pub fn value<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
    ) -> Result<Option<V>> {
        self.d
            .with::<K, V, _>(ctx, |b, id, ns| Ok(b.get::<V>(id, ns)?.cloned()))
    }
    /// Sets the current key's value.
    pub fn update<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        value: V,
    ) -> Result<()> {
        self.d
            .with::<K, V, _>(ctx, |b, id, ns| b.put(id, ns, value))
    }
    /// Removes the current key's value.
    pub fn clear<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<()> {
        self.d
            .with::<K, V, _>(ctx, |b, id, ns| b.remove::<V>(id, ns).map(|_| ()))
    }
    /// Removes the current key's value and returns it, without copying it: read a value out
    /// to change it over several steps, then [`update`](Self::update) it back.
    pub fn take<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<Option<V>> {
        self.d.with::<K, V, _>(ctx, |b, id, ns| {
            // A read first, so that an expired value is not returned.
            if b.get::<V>(id, ns)?.is_none() {
                return Ok(None);
            }
            b.remove::<V>(id, ns)
        })
    }
    /// Runs `f` on the current key's value in place, without copying it (`None` if there is
    /// no value); what `f` changes counts as written.
    pub fn with_value_mut<K: StateKey, R>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        f: impl FnOnce(Option<&mut V>) -> R,
    ) -> Result<R> {
        self.d.with::<K, V, _>(ctx, |b, id, ns| {
            let result = f(b.get::<V>(id, ns)?);
            b.touch::<V>(id, ns)?;
            Ok(result)
        })
    }
}

/// A list element or map value with the time it was last accessed: what list and map state
/// store when they have a TTL (they expire per element); without one they store bare values.
type Stamped<V> = (V, i64);

/// A list or map of [`Stamped`] values.
trait StampedCollection {
    /// Drops the elements a read at `now` does not see (expired ones, unless `ttl` returns
    /// them), refreshing the others if reads restart their time to live.
    fn retain_live(&mut self, ttl: &StateTtlConfig, now: i64);
    fn is_empty(&self) -> bool;
}

impl<V> StampedCollection for Vec<Stamped<V>> {
    fn retain_live(&mut self, ttl: &StateTtlConfig, now: i64) {
        self.retain_mut(|(_, touched)| ttl.read(touched, now));
    }
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl<UK: Hash + Eq, UV> StampedCollection for HashMap<UK, Stamped<UV>> {
    fn retain_live(&mut self, ttl: &StateTtlConfig, now: i64) {
        self.retain(|_, (_, touched)| ttl.read(touched, now));
    }
    fn is_empty(&self) -> bool {
        HashMap::is_empty(self)
    }
}

/// The current key's stamped collection in `ns` after a read: its expired elements dropped,
/// and the collection removed (`None`) if that leaves it empty.
fn live<'b, K: StateKey, C: StampedCollection + StateValue>(
    b: &'b mut crate::KeyedStateBackend<K>,
    id: usize,
    ns: crate::Namespace,
    ttl: &StateTtlConfig,
) -> Result<Option<&'b mut C>> {
    let now = now_ms();
    let emptied = match b.get::<C>(id, ns)? {
        None => return Ok(None),
        Some(c) => {
            c.retain_live(ttl, now);
            c.is_empty()
        }
    };
    if emptied {
        b.remove::<C>(id, ns)?;
        return Ok(None);
    }
    b.get::<C>(id, ns)
}

/// A list of values per key (Flink's `ListState`). With a TTL, each element expires on its
/// own.
pub struct ListState<V> {
    d: Descriptor,
    _v: PhantomData<fn() -> V>,
}
handle_common!(ListState<V>);

impl<V: StateValue> ListState<V> {
    /// The current key's values (empty if none).
    pub fn get<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<Vec<V>> {
        let Some(ttl) = self.d.ttl else {
            return self.d.with::<K, Vec<V>, _>(ctx, |b, id, ns| {
                Ok(b.get::<Vec<V>>(id, ns)?.cloned().unwrap_or_default())
            });
        };
        self.d
            .with_stamped::<K, Vec<Stamped<V>>, _>(ctx, |b, id, ns| {
                Ok(live::<K, Vec<Stamped<V>>>(b, id, ns, &ttl)?
                    .map(|list| list.iter().map(|(v, _)| v.clone()).collect())
                    .unwrap_or_default())
            })
    }
    /// Appends a value.
    pub fn add<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        value: V,
    ) -> Result<()> {
        if self.d.ttl.is_some() {
            return self
                .d
                .with_stamped::<K, Vec<Stamped<V>>, _>(ctx, |b, id, ns| {
                    let element = (value, now_ms());
                    match b.get::<Vec<Stamped<V>>>(id, ns)? {
                        Some(list) => {
                            list.push(element);
                            Ok(())
                        }
                        None => b.put(id, ns, vec![element]),
                    }
                });
        }
        self.d
            .with::<K, Vec<V>, _>(ctx, |b, id, ns| match b.get::<Vec<V>>(id, ns)? {
                Some(list) => {
                    list.push(value);
                    b.touch::<Vec<V>>(id, ns)
                }
                None => b.put(id, ns, vec![value]),
            })
    }
    /// Replaces the values.
    pub fn update<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        values: Vec<V>,
    ) -> Result<()> {
        if self.d.ttl.is_some() {
            return self
                .d
                .with_stamped::<K, Vec<Stamped<V>>, _>(ctx, |b, id, ns| {
                    let now = now_ms();
                    b.put(
                        id,
                        ns,
                        values.into_iter().map(|v| (v, now)).collect::<Vec<_>>(),
                    )
                });
        }
        self.d
            .with::<K, Vec<V>, _>(ctx, |b, id, ns| b.put(id, ns, values))
    }
    /// Removes all values.
    pub fn clear<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<()> {
        if self.d.ttl.is_some() {
            return self
                .d
                .with_stamped::<K, Vec<Stamped<V>>, _>(ctx, |b, id, ns| {
                    b.remove::<Vec<Stamped<V>>>(id, ns).map(|_| ())
                });
        }
        self.d
            .with::<K, Vec<V>, _>(ctx, |b, id, ns| b.remove::<Vec<V>>(id, ns).map(|_| ()))
    }
}

/// A map per key (Flink's `MapState`). With a TTL, each entry expires on its own.
pub struct MapState<UK, UV> {
    d: Descriptor,
    _v: PhantomData<fn() -> (UK, UV)>,
}
handle_common!(MapState<UK, UV>);

impl<UK: StateKey, UV: StateValue> MapState<UK, UV> {
    /// The value under `user_key`.
    pub fn get<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        user_key: &UK,
    ) -> Result<Option<UV>> {
        let Some(ttl) = self.d.ttl else {
            return self.d.with::<K, HashMap<UK, UV>, _>(ctx, |b, id, ns| {
                Ok(b.get::<HashMap<UK, UV>>(id, ns)?
                    .and_then(|m| m.get(user_key).cloned()))
            });
        };
        self.d
            .with_stamped::<K, HashMap<UK, Stamped<UV>>, _>(ctx, |b, id, ns| {
                let Some(map) = b.get::<HashMap<UK, Stamped<UV>>>(id, ns)? else {
                    return Ok(None);
                };
                let Some((value, touched)) = map.get_mut(user_key) else {
                    return Ok(None);
                };
                if ttl.read(touched, now_ms()) {
                    return Ok(Some(value.clone()));
                }
                map.remove(user_key);
                if map.is_empty() {
                    b.remove::<HashMap<UK, Stamped<UV>>>(id, ns)?;
                }
                Ok(None)
            })
    }
    /// Sets the value under `user_key`.
    pub fn put<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        user_key: UK,
        value: UV,
    ) -> Result<()> {
        if self.d.ttl.is_some() {
            return self
                .d
                .with_stamped::<K, HashMap<UK, Stamped<UV>>, _>(ctx, |b, id, ns| {
                    let entry = (value, now_ms());
                    match b.get::<HashMap<UK, Stamped<UV>>>(id, ns)? {
                        Some(m) => {
                            m.insert(user_key, entry);
                            Ok(())
                        }
                        None => b.put(id, ns, HashMap::from([(user_key, entry)])),
                    }
                });
        }
        self.d.with::<K, HashMap<UK, UV>, _>(ctx, |b, id, ns| {
            match b.get::<HashMap<UK, UV>>(id, ns)? {
                Some(m) => {
                    m.insert(user_key, value);
                    b.touch::<HashMap<UK, UV>>(id, ns)
                }
                None => b.put(id, ns, HashMap::from([(user_key, value)])),
            }
        })
    }
    /// Removes `user_key`, returning its value unless it had expired; the current key's map
    /// goes once it is empty.
    pub fn remove<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        user_key: &UK,
    ) -> Result<Option<UV>> {
        let Some(ttl) = self.d.ttl else {
            return self.d.with::<K, HashMap<UK, UV>, _>(ctx, |b, id, ns| {
                let Some(map) = b.get::<HashMap<UK, UV>>(id, ns)? else {
                    return Ok(None);
                };
                let removed = map.remove(user_key);
                if map.is_empty() {
                    b.remove::<HashMap<UK, UV>>(id, ns)?;
                }
                Ok(removed)
            });
        };
        self.d
            .with_stamped::<K, HashMap<UK, Stamped<UV>>, _>(ctx, |b, id, ns| {
                let Some(map) = b.get::<HashMap<UK, Stamped<UV>>>(id, ns)? else {
                    return Ok(None);
                };
                let removed = map.remove(user_key);
                if map.is_empty() {
                    b.remove::<HashMap<UK, Stamped<UV>>>(id, ns)?;
                }
                let now = now_ms();
                Ok(removed.and_then(|(v, mut touched)| ttl.read(&mut touched, now).then_some(v)))
            })
    }
    /// Whether `user_key` has a value.
    pub fn contains<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        user_key: &UK,
    ) -> Result<bool> {
        Ok(self.get(ctx, user_key)?.is_some())
    }
    /// All entries of the current key.
    pub fn entries<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
    ) -> Result<Vec<(UK, UV)>> {
        let mut entries = Vec::new();
        self.for_each(ctx, |k, v| entries.push((k.clone(), v.clone())))?;
        Ok(entries)
    }
    /// Calls `f` with every entry of the current key, without copying them.
    pub fn for_each<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        mut f: impl FnMut(&UK, &UV),
    ) -> Result<()> {
        let Some(ttl) = self.d.ttl else {
            return self.d.with::<K, HashMap<UK, UV>, _>(ctx, |b, id, ns| {
                if let Some(m) = b.get::<HashMap<UK, UV>>(id, ns)? {
                    m.iter().for_each(|(k, v)| f(k, v));
                }
                Ok(())
            });
        };
        self.d
            .with_stamped::<K, HashMap<UK, Stamped<UV>>, _>(ctx, |b, id, ns| {
                if let Some(m) = live::<K, HashMap<UK, Stamped<UV>>>(b, id, ns, &ttl)? {
                    m.iter().for_each(|(k, (v, _))| f(k, v));
                }
                Ok(())
            })
    }
    /// Removes every entry of the current key.
    pub fn clear<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<()> {
        if self.d.ttl.is_some() {
            return self
                .d
                .with_stamped::<K, HashMap<UK, Stamped<UV>>, _>(ctx, |b, id, ns| {
                    b.remove::<HashMap<UK, Stamped<UV>>>(id, ns).map(|_| ())
                });
        }
        self.d.with::<K, HashMap<UK, UV>, _>(ctx, |b, id, ns| {
            b.remove::<HashMap<UK, UV>>(id, ns).map(|_| ())
        })
    }
}

/// A value per key that new values are reduced into (Flink's `ReducingState`).
pub struct ReducingState<V> {
    d: Descriptor,
    reduce: Arc<dyn Fn(V, V) -> V + Send + Sync>,
}

impl<V> Clone for ReducingState<V> {
    fn clone(&self) -> Self {
        ReducingState {
            d: self.d.clone(),
            reduce: Arc::clone(&self.reduce),
        }
    }
}

impl<V: StateValue> ReducingState<V> {
    /// A reducing state named `name` that combines values with `reduce`.
    pub fn new(name: &str, reduce: impl Fn(V, V) -> V + Send + Sync + 'static) -> Self {
        ReducingState {
            d: Descriptor::new::<Self>(name),
            reduce: Arc::new(reduce),
        }
    }
    /// Entries expire as `ttl` says.
    pub fn with_ttl(mut self, ttl: StateTtlConfig) -> Self {
        self.d.ttl = Some(ttl);
        self
    }
    /// The reduced value.
    pub fn get<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<Option<V>> {
        self.d
            .with::<K, V, _>(ctx, |b, id, ns| Ok(b.get::<V>(id, ns)?.cloned()))
    }
    /// Reduces `value` into the state.
    pub fn add<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        value: V,
    ) -> Result<()> {
        let reduce = &self.reduce;
        self.d.with::<K, V, _>(ctx, |b, id, ns| {
            // Through `get`, so that an expired value is not reduced into the new one.
            let current = match b.get::<V>(id, ns)? {
                Some(_) => b.remove::<V>(id, ns)?,
                None => None,
            };
            let next = match current {
                Some(current) => reduce(current, value),
                None => value,
            };
            b.put(id, ns, next)
        })
    }
    /// Removes the value.
    pub fn clear<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<()> {
        self.d
            .with::<K, V, _>(ctx, |b, id, ns| b.remove::<V>(id, ns).map(|_| ()))
    }
}

/// Incremental aggregation: values are added to an accumulator, from which the result is read
/// (Flink's `AggregateFunction`). Accumulators of merged windows are merged.
pub trait AggregateFunction<IN, ACC, OUT>: Send + Sync + 'static {
    /// A new, empty accumulator.
    fn create_accumulator(&self) -> ACC;
    /// Adds a value to the accumulator.
    fn add(&self, value: IN, accumulator: &mut ACC);
    /// The result for an accumulator.
    fn get_result(&self, accumulator: &ACC) -> OUT;
    /// Merges two accumulators (for merging windows).
    fn merge(&self, a: ACC, b: ACC) -> ACC;
}

/// A per-key accumulator of an [`AggregateFunction`] (Flink's `AggregatingState`).
pub struct AggregatingState<IN, ACC, OUT> {
    d: Descriptor,
    function: Arc<dyn AggregateFunction<IN, ACC, OUT>>,
}

impl<IN, ACC, OUT> Clone for AggregatingState<IN, ACC, OUT> {
    fn clone(&self) -> Self {
        AggregatingState {
            d: self.d.clone(),
            function: Arc::clone(&self.function),
        }
    }
}

impl<IN: 'static, ACC: StateValue, OUT: 'static> AggregatingState<IN, ACC, OUT> {
    /// An aggregating state named `name`.
    pub fn new(name: &str, function: impl AggregateFunction<IN, ACC, OUT>) -> Self {
        AggregatingState {
            d: Descriptor::new::<Self>(name),
            function: Arc::new(function),
        }
    }
    /// Entries expire as `ttl` says.
    pub fn with_ttl(mut self, ttl: StateTtlConfig) -> Self {
        self.d.ttl = Some(ttl);
        self
    }
    /// The result of the accumulated values, if any were added.
    pub fn get<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
    ) -> Result<Option<OUT>> {
        let f = &self.function;
        self.d.with::<K, ACC, _>(ctx, |b, id, ns| {
            Ok(b.get::<ACC>(id, ns)?.map(|acc| f.get_result(acc)))
        })
    }
    /// Adds a value.
    pub fn add<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        value: IN,
    ) -> Result<()> {
        let f = &self.function;
        self.d
            .with::<K, ACC, _>(ctx, |b, id, ns| match b.get::<ACC>(id, ns)? {
                Some(acc) => {
                    f.add(value, acc);
                    b.touch::<ACC>(id, ns)
                }
                None => {
                    let mut acc = f.create_accumulator();
                    f.add(value, &mut acc);
                    b.put(id, ns, acc)
                }
            })
    }
    /// Removes the accumulator.
    pub fn clear<K: StateKey>(&self, ctx: &mut (impl StateAccess<K> + ?Sized)) -> Result<()> {
        self.d
            .with::<K, ACC, _>(ctx, |b, id, ns| b.remove::<ACC>(id, ns).map(|_| ()))
    }
    /// Removes the accumulator of namespace `from` of the current key, merging it into the
    /// context's namespace (used when session windows merge).
    pub fn merge_namespace<K: StateKey>(
        &self,
        ctx: &mut (impl StateAccess<K> + ?Sized),
        from: crate::Namespace,
    ) -> Result<()> {
        let f = &self.function;
        self.d.with::<K, ACC, _>(ctx, |b, id, ns| {
            if let Some(source) = b.remove::<ACC>(id, from)? {
                let merged = match b.remove::<ACC>(id, ns)? {
                    Some(target) => f.merge(target, source),
                    None => source,
                };
                b.put(id, ns, merged)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_short_type_names() {
        assert_eq!(
            short_type_name(std::any::type_name::<MapState<String, (i64, Vec<u8>)>>()),
            "MapState<String, (i64, Vec<u8>)>"
        );
    }
}
