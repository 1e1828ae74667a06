//! Failures end the job with an error that names the operator and the cause; building
//! mistakes are reported by `execute`; nothing panics through.

mod common;

use common::{env, TempDir};
use weir_datastream::prelude::*;

#[test]
fn an_operator_error_fails_the_job_and_names_the_operator() {
    let env = env(2);
    env.from_sequence(1, 1000)
        .try_map(|x: i64| {
            if x == 777 {
                Err(WeirError::user("seven hundred seventy-seven is unlucky"))
            } else {
                Ok(x)
            }
        })
        .name("Unlucky Filter")
        .print();
    let err = env.execute("failing").unwrap_err().to_string();
    assert!(err.contains("operator 'Unlucky Filter'"), "{err}");
    assert!(
        err.contains("seven hundred seventy-seven is unlucky"),
        "{err}"
    );
}

#[test]
fn a_panic_in_user_code_becomes_an_error() {
    let env = env(1);
    env.from_sequence(1, 10)
        .map(|x: i64| if x == 5 { panic!("boom at {x}") } else { x })
        .name("Exploding Map")
        .print();
    let err = env.execute("panicking").unwrap_err().to_string();
    assert!(err.contains("operator 'Exploding Map'"), "{err}");
    assert!(err.contains("boom at 5"), "{err}");
}

#[test]
fn a_failure_downstream_stops_an_unbounded_source() {
    let env = env(2);
    env.from_generator(|i| i, None, None)
        .key_by(|x: &u64| *x % 7)
        .reduce(|a, b| {
            assert!(b < 100_000, "too many");
            a + b
        })
        .print();
    let err = env.execute("unbounded failing").unwrap_err().to_string();
    assert!(err.contains("too many"), "{err}");
}

#[test]
fn a_missing_file_and_an_unreachable_socket_are_named() {
    let env = env(1);
    env.read_text_file("/does/not/exist.txt").print();
    let err = env.execute("missing").unwrap_err().to_string();
    assert!(
        err.contains("cannot read text file '/does/not/exist.txt'"),
        "{err}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = common::env(1);
    env.socket_text_stream("127.0.0.1", port).print();
    let err = env.execute("socket").unwrap_err().to_string();
    assert!(
        err.contains(&format!("cannot connect to socket 127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn invalid_utf8_is_reported_with_file_and_line() {
    let dir = TempDir::new("utf8");
    let path = dir.path("bad.txt");
    std::fs::write(&path, b"good\nstill good\nbad \xff\xfe\n").unwrap();
    let env = env(1);
    env.read_text_file(&path).print();
    let err = env.execute("utf8").unwrap_err().to_string();
    assert!(err.contains(&format!("{}:3", path.display())), "{err}");
    assert!(err.contains("not valid UTF-8"), "{err}");
}

#[test]
fn invalid_configuration_and_bad_aggregations_fail_before_running() {
    let env = env(1);
    env.configure("pipeline.operator-chaining.enabled", "maybe");
    env.from_sequence(1, 3).print();
    let err = env.execute("bad config").unwrap_err().to_string();
    assert!(
        err.contains("pipeline.operator-chaining.enabled") && err.contains("maybe"),
        "{err}"
    );

    let env = common::env(1);
    env.from_collection(vec![("a".to_string(), 1i64)])
        .key_by(|r: &(String, i64)| r.0.clone())
        .sum(0)
        .print();
    let err = env.execute("bad sum").unwrap_err().to_string();
    assert!(
        err.contains("cannot sum field 0") && err.contains("not numeric"),
        "{err}"
    );

    let env = common::env(1);
    env.from_collection(vec![(1i64, 2i64)])
        .key_by(|r: &(i64, i64)| r.0)
        .max(2)
        .print();
    let err = env.execute("bad position").unwrap_err().to_string();
    assert!(err.contains("field position 2 is out of range"), "{err}");

    let env = common::env(1);
    let err = env.execute("empty").unwrap_err().to_string();
    assert!(err.contains("no operators"), "{err}");
}

#[test]
fn not_enough_slots_is_refused() {
    let env = env(4);
    env.configure("taskmanager.numberOfTaskSlots", "2");
    env.from_sequence(1, 10).print();
    let err = env.execute("slots").unwrap_err().to_string();
    assert!(err.contains("needs 4") && err.contains("has 2"), "{err}");
}
