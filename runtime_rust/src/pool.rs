//! Fixed-size object pool with an index free list.
//!
//! All `capacity` objects are constructed up front; [`Pool::acquire`] and
//! [`Pool::release`] are O(1) and never allocate: the free list is a `Vec<u32>`
//! stack whose capacity is reserved at construction and which never holds more
//! than `capacity` entries. The stack is LIFO on purpose, so the most recently
//! released (and therefore cache-warm) object is handed out next.
//!
//! Objects are addressed through a [`PoolHandle`], which is neither `Clone` nor
//! `Copy` and is consumed by `release`, so a handle cannot be released twice.
//! A per-slot "in use" flag additionally catches handles used with the wrong
//! pool.

#![deny(unsafe_code)]

use std::fmt;

/// Exclusive claim on one object of a [`Pool`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PoolHandle {
    index: u32,
}

impl PoolHandle {
    /// The slot index in `0..capacity` (stable while the handle is held; useful
    /// as a compact id).
    pub fn index(&self) -> usize {
        self.index as usize
    }
}

/// A fixed set of preconstructed `T`s handed out and returned in O(1).
pub struct Pool<T> {
    objects: Box<[T]>,
    in_use: Box<[bool]>,
    /// Stack of free slot indices.
    free: Vec<u32>,
}

impl<T> Pool<T> {
    /// Builds a pool of `capacity` objects, each created by `init`.
    ///
    /// # Panics
    /// If `capacity` exceeds `u32::MAX`.
    pub fn new<F: FnMut() -> T>(capacity: usize, mut init: F) -> Self {
        assert!(
            u32::try_from(capacity).is_ok(),
            "pool capacity {capacity} exceeds u32::MAX"
        );
        let objects: Box<[T]> = (0..capacity).map(|_| init()).collect();
        let in_use = vec![false; capacity].into_boxed_slice();
        let mut free = Vec::with_capacity(capacity);
        // Reverse so that the first acquisitions hand out 0, 1, 2, ...
        free.extend((0..capacity as u32).rev());
        Pool {
            objects,
            in_use,
            free,
        }
    }

    /// Takes a free object, or `None` when all are in use. The object keeps
    /// whatever state its previous user left; see [`acquire_with`] to reset it.
    ///
    /// [`acquire_with`]: Pool::acquire_with
    #[inline]
    pub fn acquire(&mut self) -> Option<PoolHandle> {
        let index = self.free.pop()?;
        self.in_use[index as usize] = true;
        Some(PoolHandle { index })
    }

    /// Takes a free object and overwrites it with `value`; gives `value` back
    /// when the pool is exhausted.
    #[inline]
    pub fn acquire_with(&mut self, value: T) -> Result<PoolHandle, T> {
        match self.acquire() {
            Some(h) => {
                self.objects[h.index()] = value;
                Ok(h)
            }
            None => Err(value),
        }
    }

    /// Returns an object to the pool.
    ///
    /// # Panics
    /// If the handle does not belong to a live slot of this pool.
    #[inline]
    pub fn release(&mut self, handle: PoolHandle) {
        let i = handle.index();
        assert!(
            i < self.in_use.len() && self.in_use[i],
            "pool handle {i} does not belong to a live object of this pool"
        );
        self.in_use[i] = false;
        // Cannot reallocate: at most `capacity` indices are ever free.
        self.free.push(handle.index);
    }

    /// Shared access to the object behind `handle`.
    #[inline]
    pub fn get(&self, handle: &PoolHandle) -> &T {
        debug_assert!(self.in_use[handle.index()]);
        &self.objects[handle.index()]
    }

    /// Exclusive access to the object behind `handle`.
    #[inline]
    pub fn get_mut(&mut self, handle: &PoolHandle) -> &mut T {
        debug_assert!(self.in_use[handle.index()]);
        &mut self.objects[handle.index()]
    }

    /// Total number of objects.
    pub fn capacity(&self) -> usize {
        self.objects.len()
    }

    /// Objects currently acquired.
    pub fn len(&self) -> usize {
        self.objects.len() - self.free.len()
    }

    /// `true` when no object is acquired.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Objects currently free.
    pub fn available(&self) -> usize {
        self.free.len()
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("capacity", &self.capacity())
            .field("in_use", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_until_exhausted_then_reuse_lifo() {
        let mut pool = Pool::new(3, || 0u64);
        assert_eq!(pool.capacity(), 3);
        assert!(pool.is_empty());
        let a = pool.acquire().unwrap();
        let b = pool.acquire().unwrap();
        let c = pool.acquire().unwrap();
        assert_eq!((a.index(), b.index(), c.index()), (0, 1, 2));
        assert!(pool.acquire().is_none());
        assert_eq!(pool.len(), 3);
        assert_eq!(pool.available(), 0);
        *pool.get_mut(&b) = 42;
        pool.release(b);
        let d = pool.acquire().unwrap();
        assert_eq!(d.index(), 1);
        // Acquire keeps the previous contents.
        assert_eq!(*pool.get(&d), 42);
        pool.release(a);
        pool.release(c);
        pool.release(d);
        assert!(pool.is_empty());
        assert_eq!(pool.available(), 3);
    }

    #[test]
    fn acquire_with_sets_value_and_returns_it_when_full() {
        let mut pool = Pool::new(1, String::new);
        let h = pool.acquire_with("x".to_string()).unwrap();
        assert_eq!(pool.get(&h), "x");
        assert_eq!(pool.acquire_with("y".to_string()), Err("y".to_string()));
        pool.release(h);
    }

    #[test]
    fn free_list_never_reallocates() {
        let mut pool = Pool::new(64, || [0u8; 16]);
        let cap_before = pool.free.capacity();
        for _ in 0..10 {
            let hs: Vec<_> = (0..64).map(|_| pool.acquire().unwrap()).collect();
            for h in hs {
                pool.release(h);
            }
        }
        assert_eq!(pool.free.capacity(), cap_before);
    }

    #[test]
    #[should_panic(expected = "does not belong")]
    fn foreign_handle_is_rejected() {
        let mut big = Pool::new(8, || 0u8);
        let mut small = Pool::new(2, || 0u8);
        let hs: Vec<_> = (0..8).map(|_| big.acquire().unwrap()).collect();
        let last = hs.into_iter().last().unwrap();
        small.release(last);
    }

    #[test]
    fn empty_pool() {
        let mut pool: Pool<u8> = Pool::new(0, || 0);
        assert!(pool.acquire().is_none());
        assert_eq!(format!("{pool:?}"), "Pool { capacity: 0, in_use: 0 }");
    }
}
