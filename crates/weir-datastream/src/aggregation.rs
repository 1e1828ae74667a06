//! Rolling aggregations by field position (`sum(1)`, `min(1)`, `max_by(2)`), as Flink's
//! `KeyedStream` offers them on tuples.
//!
//! Semantics follow Flink: `sum`, `min` and `max` keep the first record of a key and update
//! only the aggregated field; `min_by` and `max_by` emit the whole record holding the
//! extreme value, keeping the earlier record on ties.

use std::cmp::Ordering;

/// The rolling aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    Sum,
    Min,
    Max,
    MinBy,
    MaxBy,
}

/// A value that can be a field of an aggregated record.
pub trait FieldValue: Clone {
    /// Whether `sum` applies.
    const NUMERIC: bool;
    /// `self + other` (wrapping for integers, as Java's arithmetic); unused unless numeric.
    fn add(&self, other: &Self) -> Self;
    /// The order of two values (floats: NaN compares equal).
    fn compare(&self, other: &Self) -> Ordering;
}

macro_rules! numeric_field {
    ($add:ident: $($t:ty),*) => {$(
        impl FieldValue for $t {
            const NUMERIC: bool = true;
            fn add(&self, other: &Self) -> Self { numeric_field!(@$add self, other) }
            fn compare(&self, other: &Self) -> Ordering { self.partial_cmp(other).unwrap_or(Ordering::Equal) }
        }
    )*};
    (@wrapping $a:ident, $b:ident) => { $a.wrapping_add(*$b) };
    (@float $a:ident, $b:ident) => { *$a + *$b };
}
numeric_field!(wrapping: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
numeric_field!(float: f32, f64);

macro_rules! ordered_field {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            const NUMERIC: bool = false;
            fn add(&self, _other: &Self) -> Self { self.clone() }
            fn compare(&self, other: &Self) -> Ordering { self.cmp(other) }
        }
    )*};
}
ordered_field!(String, bool, char);

/// A record whose fields can be aggregated by position: tuples of [`FieldValue`]s and single
/// field values (position 0).
pub trait Aggregatable: Clone {
    /// Number of fields.
    fn arity(&self) -> usize;
    /// Whether field `pos` is numeric.
    fn is_numeric(pos: usize) -> bool;
    /// Compares field `pos` of two records.
    fn compare_field(&self, other: &Self, pos: usize) -> Ordering;
    /// Sets field `pos` to the sum of both records' field `pos`.
    fn add_field(&mut self, other: &Self, pos: usize);
    /// Sets field `pos` to `other`'s field `pos`.
    fn copy_field(&mut self, other: &Self, pos: usize);
    /// Number of fields, known without a value.
    fn static_arity() -> usize;
}

macro_rules! scalar_aggregatable {
    ($($t:ty),*) => {$(
        impl Aggregatable for $t {
            fn arity(&self) -> usize { 1 }
            fn static_arity() -> usize { 1 }
            fn is_numeric(_pos: usize) -> bool { <$t as FieldValue>::NUMERIC }
            fn compare_field(&self, other: &Self, _pos: usize) -> Ordering { self.compare(other) }
            fn add_field(&mut self, other: &Self, _pos: usize) { *self = FieldValue::add(self, other) }
            fn copy_field(&mut self, other: &Self, _pos: usize) { *self = other.clone() }
        }
    )*};
}
scalar_aggregatable!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, String, bool, char
);

macro_rules! tuple_aggregatable {
    ($n:expr; $($idx:tt $name:ident),+) => {
        impl<$($name: FieldValue),+> Aggregatable for ($($name,)+) {
            fn arity(&self) -> usize { $n }
            fn static_arity() -> usize { $n }
            fn is_numeric(pos: usize) -> bool {
                match pos { $($idx => $name::NUMERIC,)+ _ => false }
            }
            fn compare_field(&self, other: &Self, pos: usize) -> Ordering {
                match pos { $($idx => self.$idx.compare(&other.$idx),)+ _ => Ordering::Equal }
            }
            fn add_field(&mut self, other: &Self, pos: usize) {
                match pos { $($idx => self.$idx = self.$idx.add(&other.$idx),)+ _ => {} }
            }
            fn copy_field(&mut self, other: &Self, pos: usize) {
                match pos { $($idx => self.$idx = other.$idx.clone(),)+ _ => {} }
            }
        }
    };
}
tuple_aggregatable!(1; 0 A);
tuple_aggregatable!(2; 0 A, 1 B);
tuple_aggregatable!(3; 0 A, 1 B, 2 C);
tuple_aggregatable!(4; 0 A, 1 B, 2 C, 3 D);
tuple_aggregatable!(5; 0 A, 1 B, 2 C, 3 D, 4 E);
tuple_aggregatable!(6; 0 A, 1 B, 2 C, 3 D, 4 E, 5 F);

/// Checks that `aggregation` can apply to field `pos` of `T`; the message explains why not.
pub fn check<T: Aggregatable>(aggregation: Aggregation, pos: usize) -> Result<(), String> {
    let arity = T::static_arity();
    if pos >= arity {
        return Err(format!(
            "field position {pos} is out of range for records of {arity} field(s) ({})",
            std::any::type_name::<T>()
        ));
    }
    if aggregation == Aggregation::Sum && !T::is_numeric(pos) {
        return Err(format!(
            "cannot sum field {pos} of {}: it is not numeric",
            std::any::type_name::<T>()
        ));
    }
    Ok(())
}

/// The reduce step of `aggregation` on field `pos`: `current` is the stored value, `next`
/// the new record.
pub fn reduce<T: Aggregatable>(aggregation: Aggregation, pos: usize, mut current: T, next: T) -> T {
    match aggregation {
        Aggregation::Sum => current.add_field(&next, pos),
        Aggregation::Min if current.compare_field(&next, pos) != Ordering::Less => {
            current.copy_field(&next, pos)
        }
        Aggregation::Max if current.compare_field(&next, pos) != Ordering::Greater => {
            current.copy_field(&next, pos)
        }
        Aggregation::MinBy if current.compare_field(&next, pos) == Ordering::Greater => {
            return next
        }
        Aggregation::MaxBy if current.compare_field(&next, pos) == Ordering::Less => return next,
        _ => {}
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(agg: Aggregation, values: &[(&str, i32, i32)]) -> Vec<(String, i32, i32)> {
        let mut out = Vec::new();
        let mut cur: Option<(String, i32, i32)> = None;
        for (a, b, c) in values {
            let v = (a.to_string(), *b, *c);
            let next = match cur.take() {
                None => v,
                Some(c) => reduce(agg, 2, c, v),
            };
            out.push(next.clone());
            cur = Some(next);
        }
        out
    }

    #[test]
    fn min_keeps_first_record_min_by_swaps_records() {
        let input = [("k", 1, 5), ("k", 2, 3), ("k", 3, 3), ("k", 4, 7)];
        let min: Vec<_> = fold(Aggregation::Min, &input)
            .into_iter()
            .map(|r| (r.1, r.2))
            .collect();
        assert_eq!(min, vec![(1, 5), (1, 3), (1, 3), (1, 3)]);
        let min_by: Vec<_> = fold(Aggregation::MinBy, &input)
            .into_iter()
            .map(|r| (r.1, r.2))
            .collect();
        assert_eq!(min_by, vec![(1, 5), (2, 3), (2, 3), (2, 3)]);
        let max_by: Vec<_> = fold(Aggregation::MaxBy, &input)
            .into_iter()
            .map(|r| (r.1, r.2))
            .collect();
        assert_eq!(max_by, vec![(1, 5), (1, 5), (1, 5), (4, 7)]);
        let sum: Vec<_> = fold(Aggregation::Sum, &input)
            .into_iter()
            .map(|r| (r.1, r.2))
            .collect();
        assert_eq!(sum, vec![(1, 5), (1, 8), (1, 11), (1, 18)]);
    }

    #[test]
    fn checks_position_and_type() {
        assert!(check::<(String, i64)>(Aggregation::Sum, 1).is_ok());
        assert!(check::<(String, i64)>(Aggregation::Sum, 0)
            .unwrap_err()
            .contains("not numeric"));
        assert!(check::<(String, i64)>(Aggregation::Max, 2)
            .unwrap_err()
            .contains("out of range"));
        assert!(check::<String>(Aggregation::Min, 0).is_ok());
    }
}
