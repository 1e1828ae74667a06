//! map, flat_map, filter, union, connect (co-map, co-flat-map), process with side outputs,
//! each compared with the same computation done directly on the input.

mod common;

use common::env;
use weir_datastream::prelude::*;

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[test]
fn map_flat_map_filter_at_parallelism_3() {
    let input: Vec<i64> = (0..5000).collect();
    let env = env(3);
    let out = env
        .from_collection(input.clone())
        .rebalance()
        .map(|x: i64| x * 3)
        .filter(|x: &i64| x % 2 == 0)
        .flat_map(|x: i64| vec![x, -x])
        .execute_and_collect()
        .unwrap();
    let expected: Vec<i64> = input
        .iter()
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .flat_map(|x| [x, -x])
        .collect();
    assert_eq!(sorted(out), sorted(expected));
}

#[test]
fn union_merges_streams() {
    let env = env(2);
    let a = env.from_sequence(1, 100);
    let b = env.from_sequence(101, 150);
    let c = env.from_collection(vec![1000i64, 1001]);
    let out = a
        .union(&[b, c])
        .map(|x: i64| x)
        .execute_and_collect()
        .unwrap();
    let mut expected: Vec<i64> = (1..=150).collect();
    expected.extend([1000, 1001]);
    assert_eq!(sorted(out), expected);
}

#[test]
fn connect_co_map_and_co_flat_map() {
    let env = env(2);
    let numbers = env.from_sequence(1, 50);
    let words = env.from_collection(vec!["a".to_string(), "bb".to_string()]);
    let out = numbers
        .connect(&words)
        .map(|n: i64| format!("n{n}"), |w: String| format!("w{w}"))
        .execute_and_collect()
        .unwrap();
    let mut expected: Vec<String> = (1..=50).map(|n| format!("n{n}")).collect();
    expected.extend(["wa".to_string(), "wbb".to_string()]);
    assert_eq!(sorted(out), sorted(expected));

    let env = common::env(2);
    let out = env
        .from_sequence(1, 10)
        .connect(&env.from_collection(vec!["x y z".to_string()]))
        .flat_map(
            |n: i64| vec![n.to_string(); n as usize % 3],
            |s: String| s.split(' ').map(String::from).collect::<Vec<_>>(),
        )
        .execute_and_collect()
        .unwrap();
    let mut expected: Vec<String> = (1..=10)
        .flat_map(|n: i64| vec![n.to_string(); n as usize % 3])
        .collect();
    expected.extend(["x", "y", "z"].map(String::from));
    assert_eq!(sorted(out), sorted(expected));
}

#[test]
fn process_with_side_outputs() {
    let env = env(2);
    let odd = OutputTag::<String>::new("odd");
    let big = OutputTag::<i64>::new("big");
    let (odd_in, big_in) = (odd.clone(), big.clone());
    let main =
        env.from_sequence(1, 1000)
            .process(move |x: i64, ctx: &mut ProcessContext<'_, i64>| {
                if x % 2 == 1 {
                    ctx.output(&odd_in, format!("odd {x}"));
                } else {
                    ctx.collect(x);
                }
                if x > 990 {
                    ctx.output(&big_in, x);
                }
                Ok(())
            });
    let odd_out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&odd_out);
    main.get_side_output(&odd).sink_to(
        move |batch: Vec<String>| {
            sink.lock().unwrap().extend(batch);
            Ok(())
        },
        "odd sink",
    );
    let big_out = main
        .get_side_output(&big)
        .map(|x: i64| x * 10)
        .execute_and_collect();
    assert_eq!(
        sorted(big_out.unwrap()),
        (991..=1000).map(|x| x * 10).collect::<Vec<_>>()
    );
    let mut expected_odd: Vec<String> = (1..=1000)
        .filter(|x| x % 2 == 1)
        .map(|x| format!("odd {x}"))
        .collect();
    expected_odd.sort();
    assert_eq!(sorted(odd_out.lock().unwrap().clone()), expected_odd);
}

#[test]
fn main_output_of_a_process_function() {
    let env = env(3);
    let out = env
        .from_sequence(1, 300)
        .process(|x: i64, ctx: &mut ProcessContext<'_, i64>| {
            if x % 3 == 0 {
                ctx.collect(x / 3);
            }
            Ok(())
        })
        .execute_and_collect()
        .unwrap();
    assert_eq!(sorted(out), (1..=100).collect::<Vec<_>>());
}
