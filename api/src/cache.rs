//! A small time-bounded cache with single flight and refresh in the background: concurrent
//! requests for a key that is not cached wait for one load instead of each running it (a
//! dashboard opened by 30 tablets aggregates the million-row table once), and a value past its
//! time is still answered while one background task loads its successor, so steady traffic
//! never waits for a reload.

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

struct Entry<V> {
    slot: Arc<Slot<V>>,
    refreshing: bool,
}

type Slots<K, V> = Arc<Mutex<HashMap<K, Entry<V>>>>;

/// Values are fresh for `ttl`; from `ttl` to twice `ttl` they are still answered while a
/// background load replaces them; after that a caller waits for a new load. A zero `ttl`
/// turns caching off.
pub struct TtlCache<K, V> {
    ttl: Duration,
    slots: Slots<K, V>,
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, slots: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// The cached value of `key`, or the result of `load` (shared with every caller asking
    /// for `key` while it runs). A failed load is not cached.
    pub async fn get_or_try_load<E, F, Fut>(&self, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: Send + 'static,
    {
        if self.ttl.is_zero() {
            return load().await;
        }
        let (slot, refresh) = {
            let now = Instant::now();
            let mut slots = self.slots.lock().expect("cache lock");
            slots.retain(|_, e| now.duration_since(e.slot.created) < 2 * self.ttl);
            let entry = slots.entry(key.clone()).or_insert_with(|| Entry { slot: Arc::new(Slot { value: OnceCell::new(), created: now }), refreshing: false });
            let stale = now.duration_since(entry.slot.created) >= self.ttl && entry.slot.value.initialized();
            let refresh = stale && !entry.refreshing;
            entry.refreshing |= refresh;
            (entry.slot.clone(), refresh)
        };
        if refresh {
            let (slots, next) = (self.slots.clone(), load());
            tokio::spawn(async move {
                let loaded = next.await;
                let mut slots = slots.lock().expect("cache lock");
                match loaded {
                    Ok(value) => {
                        let slot = Slot { value: OnceCell::new_with(Some(value)), created: Instant::now() };
                        slots.insert(key, Entry { slot: Arc::new(slot), refreshing: false });
                    }
                    Err(_) => {
                        if let Some(entry) = slots.get_mut(&key) {
                            entry.refreshing = false;
                        }
                    }
                }
            });
            return Ok(slot.value.get().expect("stale slots hold a value").clone());
        }
        slot.value.get_or_try_init(load).await.cloned()
    }
}

/// The whole-programme aggregates, kept per restaurant for `LOYALTY_STATS_CACHE_SECS` and
/// refreshed in the background after that (they read every customer row: ~0.2 s at a million
/// members).
pub struct StatsCache {
    pub(crate) tiers: TtlCache<String, Vec<entity::ops::stats::TierRow>>,
    pub(crate) statuses: TtlCache<String, Vec<entity::ops::stats::StatusRow>>,
    pub(crate) totals: TtlCache<String, entity::ops::stats::Totals>,
}

impl StatsCache {
    /// Figures kept for `ttl` (zero: computed on every request).
    pub fn new(ttl: Duration) -> Self {
        Self { tiers: TtlCache::new(ttl), statuses: TtlCache::new(ttl), totals: TtlCache::new(ttl) }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting_cache(ttl_ms: u64) -> (Arc<TtlCache<&'static str, usize>>, Arc<AtomicUsize>) {
        (Arc::new(TtlCache::new(Duration::from_millis(ttl_ms))), Arc::new(AtomicUsize::new(0)))
    }

    async fn ask(cache: &TtlCache<&'static str, usize>, loads: &Arc<AtomicUsize>) -> Result<usize, ()> {
        let loads = loads.clone();
        cache
            .get_or_try_load("stats", || async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(loads.fetch_add(1, Ordering::SeqCst) + 1)
            })
            .await
    }

    #[tokio::test]
    async fn concurrent_misses_load_once() {
        let (cache, loads) = counting_cache(10_000);
        let answers = futures_util::future::join_all((0..20).map(|_| ask(&cache, &loads))).await;
        assert!(answers.iter().all(|a| *a == Ok(1)), "{answers:?}");
        assert_eq!(ask(&cache, &loads).await, Ok(1), "still cached");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn stale_values_are_answered_while_one_refresh_runs() {
        let (cache, loads) = counting_cache(200);
        assert_eq!(ask(&cache, &loads).await, Ok(1));
        tokio::time::sleep(Duration::from_millis(250)).await;
        let answers = futures_util::future::join_all((0..10).map(|_| ask(&cache, &loads))).await;
        assert!(answers.iter().all(|a| *a == Ok(1)), "the stale value, not waiting for the reload: {answers:?}");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(ask(&cache, &loads).await, Ok(2), "the background load replaced it");
        assert_eq!(loads.load(Ordering::SeqCst), 2, "one refresh for ten stale answers");
    }

    #[tokio::test]
    async fn values_older_than_twice_the_ttl_are_loaded_again_and_waited_for() {
        let (cache, loads) = counting_cache(100);
        assert_eq!(ask(&cache, &loads).await, Ok(1));
        tokio::time::sleep(Duration::from_millis(220)).await;
        assert_eq!(ask(&cache, &loads).await, Ok(2));
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
