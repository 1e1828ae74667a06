//! Where reading starts (`scan.startup.mode`) and where a bounded read ends
//! (`scan.bounded.mode`), and how a start is turned into an offset per partition.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use weir_core::{Result, WeirError};

use super::split::TopicPartition;
use crate::options::{invalid, parse_name, ConnectorOptions};

/// `scan.startup.mode` with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupMode {
    /// `earliest-offset`: from the first record of each partition.
    EarliestOffset,
    /// `latest-offset`: only records written after the source starts.
    LatestOffset,
    /// `group-offsets`: from the offsets committed by the consumer group
    /// (`properties.group.id`); a partition without one follows
    /// `properties.auto.offset.reset` (`earliest`, `latest`, or by default `none`: an error).
    GroupOffsets,
    /// `timestamp`: from the first record at or after `scan.startup.timestamp-millis`.
    Timestamp(i64),
    /// `specific-offsets`: from the offsets in `scan.startup.specific-offsets`
    /// (`partition:0,offset:42;partition:1,offset:300`); other partitions from the group's
    /// committed offsets if `properties.group.id` is set, else (or where there is none) by
    /// `properties.auto.offset.reset`, by default `earliest`.
    SpecificOffsets(BTreeMap<i32, i64>),
}

impl StartupMode {
    /// Reads `scan.startup.mode` (default `earliest-offset`, as Flink's `KafkaSource`) and its
    /// parameters.
    pub fn from_options(options: &ConnectorOptions) -> Result<Self> {
        const KEY: &str = "scan.startup.mode";
        let Some(mode) = options.get(KEY) else {
            return Ok(StartupMode::EarliestOffset);
        };
        let names = [
            ("earliest-offset", 0),
            ("latest-offset", 1),
            ("group-offsets", 2),
            ("timestamp", 3),
            ("specific-offsets", 4),
        ];
        Ok(
            match parse_name(mode, &names).map_err(|e| invalid(KEY, mode, &e))? {
                0 => StartupMode::EarliestOffset,
                1 => StartupMode::LatestOffset,
                2 => StartupMode::GroupOffsets,
                3 => {
                    const TS: &str = "scan.startup.timestamp-millis";
                    let millis = options.parsed::<i64>(TS)?.ok_or_else(|| {
                        WeirError::Config(format!(
                            "'{KEY}' = 'timestamp' needs the Kafka option '{TS}'"
                        ))
                    })?;
                    StartupMode::Timestamp(millis)
                }
                _ => {
                    const OFFSETS: &str = "scan.startup.specific-offsets";
                    StartupMode::SpecificOffsets(parse_specific_offsets(
                        OFFSETS,
                        options.required(OFFSETS)?,
                    )?)
                }
            },
        )
    }

    /// Writes this mode into `options` under Flink's keys.
    pub fn to_options(&self, options: &mut ConnectorOptions) {
        let mode = match self {
            StartupMode::EarliestOffset => "earliest-offset",
            StartupMode::LatestOffset => "latest-offset",
            StartupMode::GroupOffsets => "group-offsets",
            StartupMode::Timestamp(millis) => {
                options.set("scan.startup.timestamp-millis", millis.to_string());
                "timestamp"
            }
            StartupMode::SpecificOffsets(offsets) => {
                let text: Vec<String> = offsets
                    .iter()
                    .map(|(p, o)| format!("partition:{p},offset:{o}"))
                    .collect();
                options.set("scan.startup.specific-offsets", text.join(";"));
                "specific-offsets"
            }
        };
        options.set("scan.startup.mode", mode);
    }
}

/// Parses `partition:0,offset:42;partition:1,offset:300`.
fn parse_specific_offsets(key: &str, text: &str) -> Result<BTreeMap<i32, i64>> {
    let expected = "expected 'partition:<n>,offset:<n>' pairs separated by ';'";
    text.split(';')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let (partition, offset) = entry
                .trim()
                .strip_prefix("partition:")
                .and_then(|rest| rest.split_once(",offset:"))
                .ok_or_else(|| invalid(key, text, expected))?;
            Ok((
                partition
                    .trim()
                    .parse()
                    .map_err(|_| invalid(key, text, expected))?,
                offset
                    .trim()
                    .parse()
                    .map_err(|_| invalid(key, text, expected))?,
            ))
        })
        .collect()
}

/// What `properties.auto.offset.reset` says for a partition without a committed offset.
fn reset_offset(options: &ConnectorOptions, default: &str) -> Result<Option<Offset>> {
    let text = options.property("auto.offset.reset").unwrap_or(default);
    match text.to_ascii_lowercase().as_str() {
        "earliest" | "smallest" | "beginning" => Ok(Some(Offset::Beginning)),
        "latest" | "largest" | "end" => Ok(Some(Offset::End)),
        "none" | "error" => Ok(None),
        _ => Err(invalid(
            "properties.auto.offset.reset",
            text,
            "expected earliest, latest or none",
        )),
    }
}

/// Resolves where each of `partitions` starts under `mode`.
pub(crate) fn starting_offsets(
    mode: &StartupMode,
    options: &ConnectorOptions,
    consumer: &BaseConsumer,
    partitions: &[TopicPartition],
    timeout: Duration,
) -> Result<Vec<(TopicPartition, Offset)>> {
    let fixed = |offset: Offset| partitions.iter().map(|tp| (tp.clone(), offset)).collect();
    match mode {
        StartupMode::EarliestOffset => Ok(fixed(Offset::Beginning)),
        StartupMode::LatestOffset => Ok(fixed(Offset::End)),
        StartupMode::GroupOffsets => committed(options, consumer, partitions, timeout, "none"),
        StartupMode::SpecificOffsets(offsets) => {
            let (given, rest): (Vec<_>, Vec<_>) = partitions
                .iter()
                .cloned()
                .partition(|tp| offsets.contains_key(&tp.partition));
            let mut result: Vec<_> = given
                .into_iter()
                .map(|tp| {
                    let offset = Offset::Offset(offsets[&tp.partition]);
                    (tp, offset)
                })
                .collect();
            result.extend(committed(options, consumer, &rest, timeout, "earliest")?);
            Ok(result)
        }
        StartupMode::Timestamp(millis) => {
            let mut list = TopicPartitionList::new();
            for tp in partitions {
                list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*millis))
                    .map_err(|e| WeirError::io(format!("Kafka {tp}"), e))?;
            }
            let found = consumer
                .offsets_for_times(list, timeout)
                .map_err(|e| lookup_error("the offsets for a timestamp", e))?;
            Ok(found
                .elements()
                .iter()
                .map(|e| {
                    let offset = match e.offset() {
                        Offset::Offset(n) => Offset::Offset(n),
                        // No record at or after the timestamp: start at the end.
                        _ => Offset::End,
                    };
                    (TopicPartition::new(e.topic(), e.partition()), offset)
                })
                .collect())
        }
    }
}

/// The committed offsets of the group, with the reset strategy where there is none.
fn committed(
    options: &ConnectorOptions,
    consumer: &BaseConsumer,
    partitions: &[TopicPartition],
    timeout: Duration,
    default_reset: &str,
) -> Result<Vec<(TopicPartition, Offset)>> {
    if partitions.is_empty() {
        return Ok(Vec::new());
    }
    let reset = reset_offset(options, default_reset)?;
    let Some(group) = options.property("group.id") else {
        return match reset {
            // `specific-offsets` without a group: the other partitions start at the reset.
            Some(offset) if default_reset != "none" => {
                Ok(partitions.iter().map(|tp| (tp.clone(), offset)).collect())
            }
            _ => Err(WeirError::Config(
                "starting from the group's offsets needs 'properties.group.id'".to_string(),
            )),
        };
    };
    let mut list = TopicPartitionList::new();
    for tp in partitions {
        list.add_partition(&tp.topic, tp.partition);
    }
    let found = consumer
        .committed_offsets(list, timeout)
        .map_err(|e| lookup_error("the committed offsets", e))?;
    found
        .elements()
        .iter()
        .map(|e| {
            let tp = TopicPartition::new(e.topic(), e.partition());
            let offset = match (e.offset(), reset) {
                (Offset::Offset(n), _) => Offset::Offset(n),
                (_, Some(reset)) => reset,
                (_, None) => {
                    return Err(WeirError::Config(format!(
                        "the consumer group '{group}' has no committed offset for {tp}, and \
                         'properties.auto.offset.reset' is not 'earliest' or 'latest'"
                    )))
                }
            };
            Ok((tp, offset))
        })
        .collect()
}

fn lookup_error(what: &str, e: rdkafka::error::KafkaError) -> WeirError {
    WeirError::io(format!("looking up {what} in Kafka"), e)
}

/// `scan.bounded.mode`: whether the source ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundedMode {
    /// `unbounded` (the default): reads forever.
    Unbounded,
    /// `latest-offset`: each partition ends where it ends when the source gets there.
    LatestOffset,
}

impl BoundedMode {
    /// Reads `scan.bounded.mode`.
    pub fn from_options(options: &ConnectorOptions) -> Result<Self> {
        options.choice("scan.bounded.mode", BoundedMode::Unbounded)
    }
}

impl std::str::FromStr for BoundedMode {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        parse_name(
            text,
            &[
                ("unbounded", BoundedMode::Unbounded),
                ("latest-offset", BoundedMode::LatestOffset),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> ConnectorOptions {
        let mut options = ConnectorOptions::default();
        for (k, v) in pairs {
            options.set(k, *v);
        }
        options
    }

    #[test]
    fn modes_round_trip_through_flink_options() {
        let modes = [
            StartupMode::EarliestOffset,
            StartupMode::LatestOffset,
            StartupMode::GroupOffsets,
            StartupMode::Timestamp(1_700_000_000_000),
            StartupMode::SpecificOffsets(BTreeMap::from([(0, 42), (3, 7)])),
        ];
        for mode in modes {
            let mut o = ConnectorOptions::default();
            mode.to_options(&mut o);
            assert_eq!(StartupMode::from_options(&o).unwrap(), mode);
        }
        assert_eq!(
            StartupMode::from_options(&ConnectorOptions::default()).unwrap(),
            StartupMode::EarliestOffset
        );
    }

    #[test]
    fn bad_modes_and_parameters_are_explained() {
        let err = StartupMode::from_options(&options(&[("scan.startup.mode", "newest")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'newest'") && err.contains("earliest-offset"),
            "{err}"
        );
        let err = StartupMode::from_options(&options(&[("scan.startup.mode", "timestamp")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("scan.startup.timestamp-millis"), "{err}");
        let err = StartupMode::from_options(&options(&[
            ("scan.startup.mode", "specific-offsets"),
            ("scan.startup.specific-offsets", "partition:0;offset:1"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("'partition:<n>,offset:<n>'"), "{err}");
    }
}
