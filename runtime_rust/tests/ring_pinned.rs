//! The in-process ring through its public API, with the two ends pinned to
//! different CPUs when the machine allows it (as the generated code does).

use runtime_rust::affinity::{current_thread_affinity, pin_current_thread, SpinWait};
use runtime_rust::pool::Pool;
use runtime_rust::ring::channel;
use std::thread;

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Quote {
    seq: u64,
    px: i64,
    qty: i64,
    side: u8,
}

#[test]
fn pinned_producer_consumer_in_order() {
    const N: u64 = 500_000;
    let cpus: Vec<usize> = current_thread_affinity()
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    let producer_cpu = cpus.first().copied();
    let consumer_cpu = cpus.get(1).copied().or(producer_cpu);

    let (mut tx, mut rx) = channel::<Quote>(1024);
    let producer = thread::spawn(move || {
        if let Some(cpu) = producer_cpu {
            pin_current_thread(cpu).unwrap();
        }
        let mut batch = [Quote {
            seq: 0,
            px: 0,
            qty: 0,
            side: 0,
        }; 16];
        let mut next = 0u64;
        let mut wait = SpinWait::new();
        while next < N {
            let k = ((N - next) as usize).min(batch.len());
            for (i, q) in batch[..k].iter_mut().enumerate() {
                let s = next + i as u64;
                *q = Quote {
                    seq: s,
                    px: 10_000 + (s % 7) as i64,
                    qty: (s % 100) as i64,
                    side: (s % 2) as u8,
                };
            }
            let n = tx.push_slice(&batch[..k]);
            if n == 0 {
                wait.spin();
            } else {
                wait.reset();
            }
            next += n as u64;
        }
    });
    if let Some(cpu) = consumer_cpu {
        pin_current_thread(cpu).unwrap();
    }
    // Consumed quotes are parked in a pool, as an order book would.
    let mut pool = Pool::new(64, || Quote {
        seq: 0,
        px: 0,
        qty: 0,
        side: 0,
    });
    let mut held = Vec::with_capacity(64);
    for s in 0..N {
        let q = rx.pop_blocking();
        assert_eq!(q.seq, s);
        assert_eq!(q.px, 10_000 + (s % 7) as i64);
        assert_eq!(q.side, (s % 2) as u8);
        let h = pool.acquire_with(q).expect("pool sized for the window");
        held.push(h);
        if held.len() == 64 {
            for h in held.drain(..) {
                pool.release(h);
            }
        }
    }
    producer.join().unwrap();
    assert!(rx.try_pop().is_none());
    assert_eq!(pool.len(), held.len());
}
