//! The connections a local server holds, and who gives way when they run out.
//!
//! A flood of connections that send nothing, or half a request, used to fill
//! every slot and make real clients wait in the accept queue for seconds (a
//! probe went from 1 ms to 7 s under 1,100 such connections). Now a new
//! connection takes the slot of the one idle longest, where "idle" includes
//! still sending its first request's headers; a connection with a request in
//! service (its body still arriving, or its answer still being sent) is never
//! closed for another, nor is one admitted less than a `grace` ago, so that
//! a flood of reconnections cannot close a real client's connection before
//! its request arrives; of the idle ones, those of the address holding the
//! most give way first. When no slot can be freed, a new connection waits.
//! One address may hold at most `per_address` connections (0: no limit, for
//! servers behind a proxy, where every client has the proxy's address); past
//! that its idle ones give way to it, or it is closed at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// `Activity::requests` of a connection closed to free its slot.
const CLOSED: u64 = u64::MAX;

/// Every open connection, and the limits they share.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    per_address: usize,
    grace: u64,
    epoch: Instant,
    open: Mutex<Open>,
    freed: Notify,
}

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    connections: HashMap<u64, (IpAddr, Arc<Activity>)>,
    by_address: HashMap<IpAddr, usize>,
}

/// What one connection is doing, shared with the service that answers it.
#[derive(Debug)]
pub struct Activity {
    /// Requests in service (0 or 1 over HTTP/1), or [`CLOSED`].
    requests: AtomicU64,
    /// Milliseconds after the server's epoch when it last began or ended one.
    last: AtomicU64,
    /// Whether any request has begun on it.
    began: AtomicBool,
    close: Notify,
}

/// Why a connection was not given a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No slot can be freed now: wait for one, or (`Some`) at most this long,
    /// when an idle connection's grace ends.
    Full(Option<Duration>),
    /// Its address holds as many connections as it may, none of which can
    /// give way now: close it.
    AddressFull,
}

/// Why no connection could be closed for another.
enum Kept {
    /// All are busy.
    Busy,
    /// The idle ones are within their grace; the first's ends this many milliseconds from now.
    Young(u64),
}

/// A connection's slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    connection: Connection,
}

/// One connection's activity, for the service that marks its requests.
#[derive(Debug, Clone)]
pub struct Connection {
    slots: Arc<Slots>,
    activity: Arc<Activity>,
}

/// A request in service; the connection is idle again when it is dropped
/// (the answer's body sent, or abandoned).
#[derive(Debug)]
pub struct Busy(Connection);

impl Slots {
    /// Room for `max` connections, at most `per_address` from one address
    /// (0: any), each safe from giving way for `grace` after it is admitted
    /// or last active.
    #[must_use]
    pub fn new(max: usize, per_address: usize, grace: Duration) -> Arc<Self> {
        let grace = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        Arc::new(Self { max, per_address, grace, epoch: Instant::now(), open: Mutex::default(), freed: Notify::new() })
    }

    /// A slot for a connection from `address`, waiting while every slot is
    /// busy; `None` when its address may hold no more.
    pub async fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.try_admit(address) {
                Ok(slot) => return Some(slot),
                Err(Refused::AddressFull) => return None,
                Err(Refused::Full(None)) => freed.await,
                Err(Refused::Full(Some(grace_ends))) => {
                    let _ = tokio::time::timeout(grace_ends, freed).await;
                }
            }
        }
    }

    /// A slot now, closing an idle connection if that is what it takes.
    ///
    /// # Errors
    /// [`Refused`] when no slot can be had now.
    pub fn try_admit(self: &Arc<Self>, address: IpAddr) -> Result<Slot, Refused> {
        let now = self.millis();
        let idle_since = now - self.grace;
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if self.per_address > 0 && open.by_address.get(&address).copied().unwrap_or(0) >= self.per_address {
            open.close_idlest(idle_since, |from| from == address).map_err(|_| Refused::AddressFull)?;
        }
        if open.connections.len() >= self.max {
            open.close_idlest(idle_since, |_| true).map_err(|kept| match kept {
                Kept::Busy => Refused::Full(None),
                Kept::Young(last) => Refused::Full(Some(Duration::from_millis(last + self.grace - now + 1))),
            })?;
        }
        let id = open.next_id;
        open.next_id += 1;
        let activity = Arc::new(Activity {
            requests: AtomicU64::new(0),
            last: AtomicU64::new(self.millis()),
            began: AtomicBool::new(false),
            close: Notify::new(),
        });
        open.connections.insert(id, (address, activity.clone()));
        *open.by_address.entry(address).or_default() += 1;
        Ok(Slot { id, connection: Connection { slots: self.clone(), activity } })
    }

    /// Milliseconds since the epoch, counted from `grace` so that `now - grace` never underflows.
    fn millis(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX).saturating_add(self.grace)
    }

    fn release(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.forget(id) {
            drop(open);
            self.freed.notify_one();
        }
    }
}

impl Open {
    /// Closes an idle connection among those `eligible` by address, idle
    /// since `idle_since` (milliseconds) at least: one of the address holding
    /// the most connections, so that a flood costs the flooder first, and
    /// of those the one idle longest. Forgets it at once so its slot is free now.
    fn close_idlest(&mut self, idle_since: u64, eligible: impl Fn(IpAddr) -> bool) -> Result<(), Kept> {
        let idle = || {
            self.connections
                .iter()
                .filter(|(_, (address, activity))| eligible(*address) && activity.requests.load(Ordering::Acquire) == 0)
        };
        let held = |address: &IpAddr| self.by_address.get(address).copied().unwrap_or(0);
        let chosen = idle()
            .map(|(&id, (address, activity))| {
                (std::cmp::Reverse(held(address)), activity.last.load(Ordering::Relaxed), id)
            })
            .filter(|&(_, last, _)| last <= idle_since)
            .min();
        let Some((_, _, id)) = chosen else {
            let youngest_grace = idle().map(|(_, (_, activity))| activity.last.load(Ordering::Relaxed)).min();
            return Err(youngest_grace.map_or(Kept::Busy, Kept::Young));
        };
        let (_, activity) = &self.connections[&id];
        // A request may have begun since the scan: then it is not idle after all.
        if activity.requests.compare_exchange(0, CLOSED, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err(Kept::Busy);
        }
        activity.close.notify_one();
        self.forget(id);
        Ok(())
    }

    fn forget(&mut self, id: u64) -> bool {
        let Some((address, _)) = self.connections.remove(&id) else { return false };
        if let Some(count) = self.by_address.get_mut(&address) {
            *count -= 1;
            if *count == 0 {
                self.by_address.remove(&address);
            }
        }
        true
    }
}

impl Slot {
    /// The connection, for the service that answers it.
    #[must_use]
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Completes when the connection must close to free its slot.
    pub async fn closed(&self) {
        self.connection.activity.close.notified().await;
    }

    /// Whether a request has begun on this connection.
    #[must_use]
    pub fn has_begun(&self) -> bool {
        self.connection.activity.began.load(Ordering::Relaxed)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connection.slots.release(self.id);
    }
}

impl Connection {
    /// Marks a request as begun; `None` when the connection was closed to
    /// free its slot.
    #[must_use]
    pub fn begin(&self) -> Option<Busy> {
        let activity = &self.activity;
        activity.requests.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n != CLOSED).then(|| n + 1)).ok()?;
        activity.began.store(true, Ordering::Relaxed);
        Some(Busy(self.clone()))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let Connection { slots, activity } = &self.0;
        activity.last.store(slots.millis(), Ordering::Relaxed);
        let _ = activity
            .requests
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n != CLOSED && n > 0).then(|| n - 1));
        // A connection waiting for a slot may now take this one's.
        slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn a_new_connection_takes_the_slot_of_the_one_idle_longest() {
        let slots = Slots::new(2, 0, Duration::ZERO);
        let first = slots.try_admit(ip(1)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = slots.try_admit(ip(1)).unwrap();
        let _third = slots.try_admit(ip(2)).unwrap();
        assert!(first.connection().begin().is_none(), "the idlest connection was closed");
        assert!(second.connection().begin().is_some(), "the other one was not");
    }

    #[test]
    fn a_connection_with_a_request_in_service_is_never_closed_for_another() {
        let slots = Slots::new(2, 0, Duration::ZERO);
        let (a, b) = (slots.try_admit(ip(1)).unwrap(), slots.try_admit(ip(1)).unwrap());
        let (_busy_a, busy_b) = (a.connection().begin().unwrap(), b.connection().begin().unwrap());
        assert_eq!(slots.try_admit(ip(2)).unwrap_err(), Refused::Full(None));
        drop(busy_b);
        let _c = slots.try_admit(ip(2)).unwrap();
        assert!(b.connection().begin().is_none(), "b, idle again, gave way");
        assert!(a.connection().begin().is_some(), "a, still busy, kept its slot");
    }

    #[test]
    fn one_address_gives_way_to_itself_before_it_is_refused() {
        let slots = Slots::new(10, 2, Duration::ZERO);
        let (a, b) = (slots.try_admit(ip(1)).unwrap(), slots.try_admit(ip(1)).unwrap());
        let busy_a = a.connection().begin().unwrap();
        let c = slots.try_admit(ip(1)).unwrap();
        assert!(b.connection().begin().is_none(), "the address's idle connection gave way");
        let _busy_c = c.connection().begin().unwrap();
        assert_eq!(slots.try_admit(ip(1)).unwrap_err(), Refused::AddressFull);
        assert!(slots.try_admit(ip(2)).is_ok(), "other addresses are not held back");
        drop(busy_a);
    }

    #[test]
    fn a_closed_slot_is_free_again() {
        let slots = Slots::new(1, 1, Duration::ZERO);
        let a = slots.try_admit(ip(1)).unwrap();
        let busy = a.connection().begin().unwrap();
        assert!(slots.try_admit(ip(2)).is_err());
        drop(busy);
        drop(a);
        assert!(slots.try_admit(ip(1)).is_ok());
    }

    #[test]
    fn a_connection_within_its_grace_is_not_closed_for_another() {
        let slots = Slots::new(2, 0, Duration::from_secs(3600));
        let (a, b) = (slots.try_admit(ip(1)).unwrap(), slots.try_admit(ip(1)).unwrap());
        let waits = slots.try_admit(ip(2));
        assert!(matches!(waits, Err(Refused::Full(Some(wait))) if wait > Duration::from_secs(3000)), "{waits:?}");
        assert!(matches!(slots.try_admit(ip(1)), Err(Refused::Full(Some(_)))), "the flooder's newcomer waits too");
        assert!(a.connection().begin().is_some() && b.connection().begin().is_some(), "both are still open");
    }

    #[test]
    fn the_address_holding_the_most_gives_way_first() {
        let slots = Slots::new(3, 0, Duration::ZERO);
        let mine = slots.try_admit(ip(2)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let flood = [slots.try_admit(ip(1)).unwrap(), slots.try_admit(ip(1)).unwrap()];
        let _newcomer = slots.try_admit(ip(3)).unwrap();
        assert!(mine.connection().begin().is_some(), "the lone connection, though idle longest, stays");
        assert_eq!(flood.iter().filter(|slot| slot.connection().begin().is_none()).count(), 1);
    }

    #[tokio::test]
    async fn a_waiting_connection_is_admitted_when_a_busy_one_ends() {
        let slots = Slots::new(1, 0, Duration::ZERO);
        let a = slots.try_admit(ip(1)).unwrap();
        let busy = a.connection().begin().unwrap();
        let waiting = tokio::spawn({
            let slots = slots.clone();
            async move { slots.admit(ip(2)).await.is_some() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(busy);
        drop(a);
        assert!(waiting.await.unwrap());
    }
}
