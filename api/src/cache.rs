//! A small time-bounded cache with single flight: concurrent requests for a key that is not
//! cached wait for one load instead of each running it (a dashboard opened by 30 tablets
//! aggregates the million-row table once).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

struct Slot<V> {
    value: OnceCell<V>,
    created: Instant,
}

/// Values kept for `ttl` after they were first asked for; a zero `ttl` turns caching off.
pub struct TtlCache<K, V> {
    ttl: Duration,
    slots: Mutex<HashMap<K, Arc<Slot<V>>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, slots: Mutex::new(HashMap::new()) }
    }

    /// The cached value of `key`, or the result of `load` (shared with every caller asking
    /// for `key` while it runs). A failed load is not cached.
    pub async fn get_or_try_load<E, F, Fut>(&self, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if self.ttl.is_zero() {
            return load().await;
        }
        let slot = {
            let now = Instant::now();
            let mut slots = self.slots.lock().expect("cache lock");
            slots.retain(|_, slot| now.duration_since(slot.created) < self.ttl);
            slots.entry(key).or_insert_with(|| Arc::new(Slot { value: OnceCell::new(), created: now })).clone()
        };
        slot.value.get_or_try_init(load).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_misses_load_once_and_values_expire() {
        let cache = Arc::new(TtlCache::<&str, usize>::new(Duration::from_millis(200)));
        let loads = Arc::new(AtomicUsize::new(0));
        let ask = || {
            let (cache, loads) = (cache.clone(), loads.clone());
            async move {
                cache
                    .get_or_try_load("stats", || async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(loads.fetch_add(1, Ordering::SeqCst) + 1)
                    })
                    .await
            }
        };
        let answers = futures_util::future::join_all((0..20).map(|_| ask())).await;
        assert!(answers.iter().all(|a| *a == Ok(1)), "{answers:?}");
        assert_eq!(ask().await, Ok(1), "still cached");
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(ask().await, Ok(2), "loaded again after the ttl");
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_zero_ttl_always_loads() {
        let cache = TtlCache::<u8, u8>::new(Duration::from_secs(60));
        assert_eq!(cache.get_or_try_load(1, || async { Err::<u8, &str>("down") }).await, Err("down"));
        assert_eq!(cache.get_or_try_load(1, || async { Ok::<u8, &str>(7) }).await, Ok(7));
        let off = TtlCache::<u8, u8>::new(Duration::ZERO);
        assert_eq!(off.get_or_try_load(1, || async { Ok::<u8, ()>(1) }).await, Ok(1));
        assert_eq!(off.get_or_try_load(1, || async { Ok::<u8, ()>(2) }).await, Ok(2));
    }
}
