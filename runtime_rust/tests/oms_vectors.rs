//! The order manager against the test vectors it shares with runtime_cpp
//! (`runtime_cpp/tests/vectors/oms/*.txt`, format in the README there): both implementations
//! must produce exactly the same actions, states, positions and counters.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use runtime_rust::l2book::Side;
use runtime_rust::oms::{
    Action, ActionKind, DesiredQuote, ExecKind, ExecReport, OmsConfig, OrderManager, MAX_ACTIONS,
};

type Args = BTreeMap<String, String>;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime_cpp/tests/vectors/oms")
}

fn parse(path: &Path) -> Vec<(usize, String, Args)> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(verb) = words.next() else { continue };
        let mut args = Args::new();
        for w in words {
            let (k, v) = w
                .split_once('=')
                .unwrap_or_else(|| panic!("{}:{}: `{w}` is not key=value", path.display(), i + 1));
            args.insert(k.to_string(), v.to_string());
        }
        lines.push((i + 1, verb.to_string(), args));
    }
    lines
}

fn num(a: &Args, key: &str, fallback: i64) -> i64 {
    a.get(key).map_or(fallback, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("`{key}={v}` is not a number"))
    })
}

fn side_of(a: &Args) -> Side {
    if a.get("side").map(String::as_str) == Some("sell") {
        Side::Ask
    } else {
        Side::Bid
    }
}

fn desired(a: &Args, key: &str) -> DesiredQuote {
    match a.get(key).map(String::as_str) {
        None | Some("-") => DesiredQuote::NONE,
        Some(v) => {
            let (px, qty) = v
                .split_once('x')
                .unwrap_or_else(|| panic!("`{key}={v}` is not PRICExQTY"));
            DesiredQuote {
                px: px.parse().expect("price"),
                qty: qty.parse().expect("qty"),
            }
        }
    }
}

fn show(a: &Action) -> String {
    let side = if a.side == Side::Bid { "buy" } else { "sell" };
    format!(
        "kind={} cl={} orig={} side={side} px={} qty={}",
        a.kind.name(),
        a.cl_ord_id,
        a.orig_cl_ord_id,
        a.px,
        a.qty
    )
}

fn run_vector(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let lines = parse(path);
    let (_, verb, c) = lines
        .first()
        .unwrap_or_else(|| panic!("{name} holds no steps"));
    assert_eq!(verb, "config", "{name}: the first step is `config`");
    let mut om = OrderManager::new(OmsConfig {
        capacity: num(c, "capacity", 64) as usize,
        max_in_flight: num(c, "max_in_flight", 8) as u32,
        venue_replace: num(c, "replace", 1) != 0,
        first_cl_ord_id: num(c, "first_id", 1) as u64,
    });
    let mut pending: Vec<Action> = Vec::new();
    for (number, verb, args) in &lines[1..] {
        let at = format!("{name}:{number}");
        if verb != "action" {
            assert!(
                pending.is_empty(),
                "{at}: action(s) of the quote unchecked, first {}",
                show(&pending[pending.len() - 1])
            );
        }
        match verb.as_str() {
            "quote" => {
                let mut out = [Action::default(); MAX_ACTIONS];
                let n = om.quote(desired(args, "bid"), desired(args, "ask"), &mut out);
                assert_eq!(
                    n as i64,
                    num(args, "actions", -1),
                    "{at}: {:?}",
                    &out[..n].iter().map(show).collect::<Vec<_>>()
                );
                pending = out[..n].iter().rev().copied().collect();
            }
            "action" => {
                let got = pending
                    .pop()
                    .unwrap_or_else(|| panic!("{at}: no action left to check"));
                let kind = match args["kind"].as_str() {
                    "new" => ActionKind::New,
                    "cancel" => ActionKind::Cancel,
                    _ => ActionKind::Replace,
                };
                let want = Action {
                    kind,
                    cl_ord_id: num(args, "cl", 0) as u64,
                    orig_cl_ord_id: num(args, "orig", 0) as u64,
                    side: side_of(args),
                    px: num(args, "px", 0),
                    qty: num(args, "qty", 0),
                };
                assert_eq!(show(&got), show(&want), "{at}");
            }
            "report" => {
                let kind = ExecKind::ALL
                    .into_iter()
                    .find(|k| k.name() == args["kind"])
                    .unwrap_or_else(|| panic!("{at}: unknown report kind"));
                om.on_report(&ExecReport {
                    cl_ord_id: num(args, "cl", 0) as u64,
                    orig_cl_ord_id: num(args, "orig", 0) as u64,
                    kind,
                    side: side_of(args),
                    last_px: num(args, "px", 0),
                    last_qty: num(args, "qty", 0),
                });
            }
            "state" => {
                let o = om.find(num(args, "cl", 0) as u64);
                let got = o.map_or("closed", |o| o.state.name());
                assert_eq!(got, args["is"], "{at}");
                if let Some(o) = o {
                    if args.contains_key("cum") {
                        assert_eq!(o.cum_qty, num(args, "cum", 0), "{at}: cum");
                    }
                    if args.contains_key("leaves") {
                        assert_eq!(o.leaves(), num(args, "leaves", 0), "{at}: leaves");
                    }
                }
            }
            "check" => {
                let k = om.counters();
                for (key, value) in args {
                    let want: i64 = value.parse().expect("number");
                    let got = match key.as_str() {
                        "mark" => continue,
                        "pnl" => om.pnl(num(args, "mark", 0)),
                        "position" => om.position(),
                        "cash" => om.cash(),
                        "in_flight" => i64::from(om.in_flight()),
                        "live" => om.live_count() as i64,
                        "unknown" => k.unknown_reports as i64,
                        "late" => k.late_reports as i64,
                        "rejects" => k.rejects as i64,
                        "cancel_rejects" => k.cancel_rejects as i64,
                        "replace_rejects" => k.replace_rejects as i64,
                        "fills" => k.fills as i64,
                        "capacity_full" => k.capacity_full as i64,
                        other => panic!("{at}: unknown check `{other}`"),
                    };
                    assert_eq!(got, want, "{at}: {key}");
                }
            }
            other => panic!("{at}: unknown step `{other}`"),
        }
    }
    assert!(
        pending.is_empty(),
        "{name}: actions of the last quote unchecked"
    );
}

#[test]
fn oms_shared_vectors() {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "test vectors missing from {}",
        dir.display()
    );
    for f in &files {
        run_vector(f);
    }
}
