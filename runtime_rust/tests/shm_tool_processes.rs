//! Runs the `shm_tool` binary as two separate processes sharing one ring, and
//! checks its error reporting (the C++ <-> Rust variant lives in the
//! repository's pytest suite).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const TOOL: &str = env!("CARGO_BIN_EXE_shm_tool");

fn unique(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "hftc_rs_it_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(TOOL)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shm_tool")
}

#[test]
fn two_processes_consumer_first_and_producer_first() {
    for consumer_first in [true, false] {
        let name = unique("pair");
        let args_c = ["consume", name.as_str(), "50000", "256"];
        let args_p = ["produce", name.as_str(), "50000", "256"];
        let (c, p) = if consumer_first {
            let c = spawn(&args_c);
            (c, spawn(&args_p))
        } else {
            let p = spawn(&args_p);
            (spawn(&args_c), p)
        };
        let c = c.wait_with_output().unwrap();
        let p = p.wait_with_output().unwrap();
        assert!(c.status.success(), "consumer: {c:?}");
        assert!(p.status.success(), "producer: {p:?}");
        assert_eq!(stdout(&c).trim(), "ok 50000");
        assert_eq!(stdout(&p).trim(), "produced 50000");
        assert!(
            !Path::new("/dev/shm").join(&name).exists(),
            "producer unlinks the name"
        );
    }
}

#[test]
fn item_size_mismatch_is_reported() {
    let name = unique("mismatch");
    // A ring with 8-byte items: the tool expects 64-byte items.
    let mut ring = runtime_rust::shm::ShmProducer::create(&name, 8, 1024).unwrap();
    assert!(ring.push(&7u64.to_le_bytes()));
    let out = Command::new(TOOL)
        .args(["consume", &name, "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("item_size expected 64") && text.contains("found 8"),
        "{text}"
    );
}

#[test]
fn corrupted_item_is_reported_as_first_mismatch() {
    let name = unique("corrupt");
    let mut ring = runtime_rust::shm::ShmProducer::create(&name, 64, 1024).unwrap();
    for s in 0..3u64 {
        let mut item = [0u8; 64];
        for k in 0..8u64 {
            let mut v = s * 8 + k;
            if s == 2 && k == 5 {
                v = 12345;
            }
            item[k as usize * 8..k as usize * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        assert!(ring.push(&item));
    }
    let out = Command::new(TOOL)
        .args(["consume", &name, "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).trim(),
        "mismatch at item 2 word 5: expected 21, found 12345"
    );
}
