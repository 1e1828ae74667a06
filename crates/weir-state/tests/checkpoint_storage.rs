//! Checkpoint storage on a directory: layout, atomic completion, retention, and refusal of
//! incomplete or corrupt checkpoints with fallback to the previous complete one.

use std::fs;
use std::path::{Path, PathBuf};

use weir_core::config::Configuration;
use weir_core::keygroup::KeyGroupRange;
use weir_state::storage::{
    load, CheckpointStorage, CompletedCheckpoint, OperatorSubtaskState, METADATA_FILE,
};

const JOB: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("weir-ckstore-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn storage(base: &Path, retained: usize) -> CheckpointStorage {
    let mut config = Configuration::new();
    config.set_string(
        "execution.checkpointing.dir",
        format!("file://{}", base.display()),
    );
    config.set_string("execution.checkpointing.num-retained", retained.to_string());
    CheckpointStorage::from_config(&config, JOB).unwrap()
}

/// Writes checkpoint `id` with two subtasks of a keyed operator and one of a source, each
/// state file's content derived from `id`.
fn write_checkpoint(storage: &CheckpointStorage, id: u64) -> CompletedCheckpoint {
    let mut pending = storage.begin(id).unwrap();
    let mut metadata = pending.new_metadata();
    let mut keyed = Vec::new();
    for subtask in 0..2 {
        let handle = pending
            .write_state(
                &format!("window-{subtask}"),
                format!("window state {subtask} of checkpoint {id}").as_bytes(),
            )
            .unwrap();
        keyed.push(OperatorSubtaskState {
            subtask,
            key_group_range: Some(KeyGroupRange::for_subtask(128, 2, subtask)),
            handles: vec![handle],
        });
    }
    metadata.operators.insert("window".into(), keyed);
    let handle = pending
        .write_state("source-0", format!("offset {}", id * 100).as_bytes())
        .unwrap();
    metadata.operators.insert(
        "source".into(),
        vec![OperatorSubtaskState {
            subtask: 0,
            key_group_range: None,
            handles: vec![handle],
        }],
    );
    pending.complete(metadata).unwrap()
}

fn read_source_offset(checkpoint: &CompletedCheckpoint) -> String {
    let handle = &checkpoint.metadata().operators["source"][0].handles[0];
    String::from_utf8(checkpoint.read_state(handle).unwrap()).unwrap()
}

#[test]
fn writes_flink_layout_and_reads_back() {
    let tmp = TempDir::new("roundtrip");
    let storage = storage(&tmp.0, 1);
    let written = write_checkpoint(&storage, 1);

    let job_dir = tmp.0.join(JOB);
    assert_eq!(storage.job_dir(), job_dir);
    assert!(job_dir.join("shared").is_dir());
    assert!(job_dir.join("taskowned").is_dir());
    let chk = job_dir.join("chk-1");
    assert!(chk.join(METADATA_FILE).is_file());
    assert!(chk.join("window-0").is_file());
    assert!(!chk.join("_metadata.inprogress").exists());
    assert_eq!(written.metadata_path(), chk.join(METADATA_FILE));

    let latest = storage.latest_completed().unwrap().unwrap();
    assert_eq!(latest.checkpoint_id(), 1);
    assert_eq!(latest.dir(), chk);
    assert_eq!(latest.metadata(), written.metadata());
    assert_eq!(latest.metadata().job_id, JOB);
    assert!(!latest.metadata().is_savepoint);
    let window = &latest.metadata().operators["window"];
    assert_eq!(window.len(), 2);
    assert_eq!(
        window[1].key_group_range,
        Some(KeyGroupRange {
            start: 64,
            end_inclusive: 127
        })
    );
    assert_eq!(
        latest.read_state(&window[1].handles[0]).unwrap(),
        b"window state 1 of checkpoint 1"
    );
    assert_eq!(read_source_offset(&latest), "offset 100");

    // The metadata is readable JSON after its header line.
    let text = fs::read_to_string(chk.join(METADATA_FILE)).unwrap();
    assert!(
        text.starts_with("weir-checkpoint-metadata v1 crc32:"),
        "{text}"
    );
    assert!(text.contains("\"checkpoint_id\": 1"), "{text}");

    // Explicit restore paths: the directory, its _metadata, as a file:// URI.
    for path in [
        chk.display().to_string(),
        chk.join(METADATA_FILE).display().to_string(),
        format!("file://{}", chk.display()),
    ] {
        assert_eq!(load(&path).unwrap().checkpoint_id(), 1, "{path}");
    }
}

#[test]
fn retention_keeps_the_newest_n() {
    let tmp = TempDir::new("retention");
    let storage = storage(&tmp.0, 3);
    assert_eq!(storage.num_retained(), 3);
    for id in 1..=6 {
        write_checkpoint(&storage, id);
    }
    assert_eq!(storage.completed_ids().unwrap(), vec![4, 5, 6]);
    assert!(!tmp.0.join(JOB).join("chk-3").exists());

    // An incomplete directory older than a completed checkpoint is subsumed on completion.
    let abandoned = storage.begin(7).unwrap();
    drop(abandoned);
    write_checkpoint(&storage, 8);
    assert!(!tmp.0.join(JOB).join("chk-7").exists());
    assert_eq!(storage.completed_ids().unwrap(), vec![5, 6, 8]);
}

#[test]
fn incomplete_checkpoint_falls_back_to_previous() {
    let tmp = TempDir::new("incomplete");
    let storage = storage(&tmp.0, 2);
    write_checkpoint(&storage, 1);
    // A crash after the state files were written, before _metadata was renamed into place.
    let mut pending = storage.begin(2).unwrap();
    pending.write_state("source-0", b"offset 200").unwrap();
    fs::write(
        pending.dir().join("_metadata.inprogress"),
        b"weir-checkpoint-metadata v1",
    )
    .unwrap();
    drop(pending);

    let scan = storage.scan().unwrap();
    assert_eq!(scan.latest.as_ref().unwrap().checkpoint_id(), 1);
    assert_eq!(scan.refused.len(), 1);
    let message = scan.refused[0].to_string();
    assert!(message.contains("chk-2"), "{message}");
    assert!(message.contains("incomplete: no _metadata"), "{message}");
    assert_eq!(
        read_source_offset(&storage.latest_completed().unwrap().unwrap()),
        "offset 100"
    );

    let err = load(&tmp.0.join(JOB).join("chk-2").display().to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("chk-2") && err.contains("incomplete"), "{err}");

    // The next checkpoint with the same id replaces the leftover directory.
    write_checkpoint(&storage, 2);
    assert_eq!(
        storage.latest_completed().unwrap().unwrap().checkpoint_id(),
        2
    );
}

#[test]
fn truncated_state_file_is_refused() {
    let tmp = TempDir::new("truncated");
    let storage = storage(&tmp.0, 3);
    write_checkpoint(&storage, 1);
    write_checkpoint(&storage, 2);
    let file = tmp.0.join(JOB).join("chk-2").join("window-1");
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, &bytes[..bytes.len() - 5]).unwrap();

    let scan = storage.scan().unwrap();
    assert_eq!(scan.latest.unwrap().checkpoint_id(), 1);
    let message = scan.refused[0].to_string();
    assert!(message.contains("corrupt"), "{message}");
    assert!(
        message.contains("window-1") && message.contains("'window'"),
        "{message}"
    );
    assert!(message.contains("truncated"), "{message}");

    let err = load(&file.parent().unwrap().display().to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("chk-2") && err.contains("window-1"), "{err}");

    // Same size, different content: the checksum catches it.
    write_checkpoint(&storage, 3);
    let file = tmp.0.join(JOB).join("chk-3").join("source-0");
    let mut bytes = fs::read(&file).unwrap();
    bytes[0] ^= 0x01;
    fs::write(&file, &bytes).unwrap();
    let scan = storage.scan().unwrap();
    assert_eq!(scan.latest.unwrap().checkpoint_id(), 1);
    assert_eq!(scan.refused.len(), 2);
    let message = scan.refused[0].to_string();
    assert!(
        message.contains("checksum mismatch") && message.contains("source-0"),
        "{message}"
    );
}

#[test]
fn flipped_byte_in_metadata_is_refused() {
    let tmp = TempDir::new("metadata");
    let storage = storage(&tmp.0, 2);
    write_checkpoint(&storage, 1);
    write_checkpoint(&storage, 2);
    let metadata = tmp.0.join(JOB).join("chk-2").join(METADATA_FILE);
    let mut bytes = fs::read(&metadata).unwrap();
    // Flip a byte of the body (one of the digits of an operator's key group range, say).
    let at = bytes.len() - 40;
    bytes[at] ^= 0x01;
    fs::write(&metadata, &bytes).unwrap();

    let scan = storage.scan().unwrap();
    assert_eq!(scan.latest.unwrap().checkpoint_id(), 1);
    let message = scan.refused[0].to_string();
    assert!(message.contains("_metadata"), "{message}");
    assert!(
        message.contains("corrupt: metadata checksum mismatch"),
        "{message}"
    );
    assert_eq!(
        read_source_offset(&storage.latest_completed().unwrap().unwrap()),
        "offset 100"
    );

    // A truncated metadata file is refused too.
    fs::write(&metadata, &bytes[..bytes.len() / 2]).unwrap();
    let message = storage.scan().unwrap().refused[0].to_string();
    assert!(message.contains("truncated"), "{message}");

    let err = load(&metadata.display().to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("chk-2") && err.contains("corrupt"), "{err}");
}

#[test]
fn nothing_to_restore() {
    let tmp = TempDir::new("empty");
    let storage = storage(&tmp.0, 1);
    assert!(storage.latest_completed().unwrap().is_none());
    storage.begin(1).unwrap();
    let scan = storage.scan().unwrap();
    assert!(scan.latest.is_none());
    assert_eq!(scan.refused.len(), 1);

    let err = load(&tmp.0.join("nope").display().to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nope") && err.contains("no such file"),
        "{err}"
    );
    let err = load(&tmp.0.join(JOB).display().to_string())
        .unwrap_err()
        .to_string();
    assert!(err.contains("chk-<n>"), "{err}");
}

#[test]
fn savepoint_is_self_contained_and_relocatable() {
    let tmp = TempDir::new("savepoint");
    let storage = storage(&tmp.0.join("checkpoints"), 1);
    let target = tmp.0.join("savepoints");
    let mut pending = storage
        .begin_savepoint(Some(&format!("file://{}", target.display())), 7)
        .unwrap();
    assert!(pending.is_savepoint());
    let mut metadata = pending.new_metadata();
    let handle = pending.write_state("source-0", b"offset 700").unwrap();
    metadata.operators.insert(
        "source".into(),
        vec![OperatorSubtaskState {
            subtask: 0,
            key_group_range: None,
            handles: vec![handle],
        }],
    );
    let savepoint = pending.complete(metadata).unwrap();
    let name = savepoint
        .dir()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(name.starts_with("savepoint-a1b2c3-"), "{name}");
    assert_eq!(name.len(), "savepoint-a1b2c3-".len() + 12, "{name}");
    assert_eq!(savepoint.dir().parent().unwrap(), target);
    // Savepoints are not subject to checkpoint retention and are not checkpoints.
    assert!(storage.latest_completed().unwrap().is_none());

    let moved = tmp.0.join("elsewhere").join("my-savepoint");
    fs::create_dir_all(moved.parent().unwrap()).unwrap();
    fs::rename(savepoint.dir(), &moved).unwrap();
    let loaded = load(&moved.display().to_string()).unwrap();
    assert!(loaded.metadata().is_savepoint);
    assert_eq!(loaded.checkpoint_id(), 7);
    assert_eq!(read_source_offset(&loaded), "offset 700");
    let loaded = load(&moved.join(METADATA_FILE).display().to_string()).unwrap();
    assert_eq!(loaded.dir(), moved);
}

#[test]
fn savepoint_directory_from_config_or_error() {
    let tmp = TempDir::new("savepoint-config");
    let storage = storage(&tmp.0, 1);
    let err = storage.begin_savepoint(None, 1).unwrap_err().to_string();
    assert!(
        err.contains("execution.checkpointing.savepoint-dir"),
        "{err}"
    );

    let mut config = Configuration::new();
    config.set_string("state.checkpoints.dir", tmp.0.display().to_string());
    config.set_string(
        "state.savepoints.dir",
        tmp.0.join("sp").display().to_string(),
    );
    let storage = CheckpointStorage::from_config(&config, JOB).unwrap();
    assert_eq!(storage.job_dir(), tmp.0.join(JOB));
    let pending = storage.begin_savepoint(None, 1).unwrap();
    assert_eq!(pending.dir().parent().unwrap(), tmp.0.join("sp"));
    let metadata = pending.new_metadata();
    pending.complete(metadata).unwrap();
}

#[test]
fn bad_configuration_is_refused_naming_the_key() {
    let mut config = Configuration::new();
    let err = CheckpointStorage::from_config(&config, JOB)
        .unwrap_err()
        .to_string();
    assert!(err.contains("execution.checkpointing.dir"), "{err}");

    config.set_string("execution.checkpointing.dir", "s3://bucket/checkpoints");
    let err = CheckpointStorage::from_config(&config, JOB)
        .unwrap_err()
        .to_string();
    assert!(err.contains("execution.checkpointing.dir"), "{err}");
    assert!(
        err.contains("s3://") && err.contains("not supported yet"),
        "{err}"
    );

    let mut config = Configuration::new();
    config.set_string("state.checkpoints.dir", "hdfs://nn/checkpoints");
    let err = CheckpointStorage::from_config(&config, JOB)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hdfs://") && err.contains("not supported yet"),
        "{err}"
    );
}

#[test]
fn misuse_is_refused() {
    let tmp = TempDir::new("misuse");
    let storage = storage(&tmp.0, 1);
    write_checkpoint(&storage, 1);
    let err = storage.begin(1).unwrap_err().to_string();
    assert!(
        err.contains("already holds a completed checkpoint"),
        "{err}"
    );

    let mut pending = storage.begin(2).unwrap();
    assert!(pending.write_state("_metadata", b"x").is_err());
    assert!(pending.write_state("../escape", b"x").is_err());
    pending.write_state("a", b"x").unwrap();
    assert!(pending.write_state("a", b"y").is_err());
    // Metadata referring to a file this checkpoint did not write.
    let mut metadata = pending.new_metadata();
    let foreign = storage
        .latest_completed()
        .unwrap()
        .unwrap()
        .metadata()
        .operators["source"]
        .clone();
    metadata.operators.insert("source".into(), foreign);
    let err = pending.complete(metadata).unwrap_err().to_string();
    assert!(err.contains("not written to this checkpoint"), "{err}");
    assert!(!tmp.0.join(JOB).join("chk-2").join(METADATA_FILE).exists());

    let pending = storage.begin(3).unwrap();
    let dir = pending.dir().to_path_buf();
    pending.abort().unwrap();
    assert!(!dir.exists());
}

/// Completes checkpoint `id` whose one keyed subtask references the shared files `files`
/// (`(owner, name)`, written now unless an earlier checkpoint wrote them).
fn write_incremental(storage: &CheckpointStorage, id: u64, files: &[(&str, &str)]) {
    use weir_state::storage::CheckpointFiles;
    let mut pending = storage.begin(id).unwrap();
    let source = pending.dir().join("source");
    fs::write(&source, format!("file of checkpoint {id}")).unwrap();
    let shared = storage.job_dir().join("shared");
    let writer = pending.file_writer();
    let mut handles = Vec::new();
    for (owner, name) in files {
        let existing = shared.join(owner).join(name);
        let handle = if existing.exists() {
            let bytes = fs::read(&existing).unwrap();
            weir_state::storage::StateHandle {
                path: format!("../shared/{owner}/{name}"),
                size: bytes.len() as u64,
                checksum: weir_state::storage::format_checksum(&bytes),
            }
        } else {
            writer.copy_shared(owner, name, &source).unwrap()
        };
        pending.add_written(handle.clone());
        handles.push(handle);
    }
    fs::remove_file(&source).unwrap();
    let mut metadata = pending.new_metadata();
    metadata.operators.insert(
        "window".into(),
        vec![OperatorSubtaskState {
            subtask: 0,
            key_group_range: Some(KeyGroupRange::for_subtask(128, 1, 0)),
            handles,
        }],
    );
    pending.complete(metadata).unwrap();
}

/// The shared files on disk, as `owner/name`.
fn shared_on_disk(storage: &CheckpointStorage) -> Vec<String> {
    let shared = storage.job_dir().join("shared");
    let mut found = Vec::new();
    for owner in fs::read_dir(&shared).unwrap() {
        let owner = owner.unwrap().path();
        for file in fs::read_dir(&owner).unwrap() {
            let file = file.unwrap().path();
            found.push(file.strip_prefix(&shared).unwrap().display().to_string());
        }
    }
    found.sort();
    found
}

#[test]
fn shared_files_go_with_the_last_checkpoint_that_references_them() {
    let base = TempDir::new("shared");
    let storage = storage(&base.0, 1);
    write_incremental(&storage, 1, &[("a", "1.sst"), ("a", "2.sst")]);
    // Checkpoint 2 still holds 2.sst; 1.sst was compacted away.
    write_incremental(&storage, 2, &[("a", "2.sst"), ("a", "3.sst")]);
    assert_eq!(shared_on_disk(&storage), ["a/2.sst", "a/3.sst"]);
    // Instance a writes 4.sst for a checkpoint still running: it stays.
    use weir_state::storage::CheckpointFiles;
    let running = storage.begin(3).unwrap();
    let source = base.0.join("source");
    fs::write(&source, "running").unwrap();
    running
        .file_writer()
        .copy_shared("a", "4.sst", &source)
        .unwrap();
    // After a restart, instance b's checkpoint completes (the running one never will): the
    // files of a, which no checkpoint references any more, are deleted.
    write_incremental(&storage, 4, &[("b", "1.sst")]);
    assert_eq!(shared_on_disk(&storage), ["b/1.sst"]);
    // A checkpoint referencing a file of the shared folder that is missing is refused.
    fs::remove_file(storage.job_dir().join("shared/b/1.sst")).unwrap();
    let err = load(&storage.checkpoint_dir(4).display().to_string())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("shared/b/1.sst") && err.contains("missing"),
        "{err}"
    );
}
