//! Time as the runtime sees it. All time comes from here: on the wall clock
//! in production, and on tokio's paused clock in tests and the simulator,
//! where a day passes in as long as the work takes.

use std::pin::Pin;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::{Instant, Sleep};

/// An instant on the calendar, read from tokio's clock.
#[derive(Clone, Debug)]
pub struct Clock {
    origin: Timestamp,
    start: Instant,
}

impl Clock {
    /// The wall clock.
    pub fn wall() -> Clock {
        Clock::starting_at(Timestamp::now())
    }

    /// A clock that reads `origin` now; under tokio's paused time it only
    /// moves when the runtime sleeps.
    pub fn starting_at(origin: Timestamp) -> Clock {
        Clock {
            origin,
            start: Instant::now(),
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = Instant::now().saturating_duration_since(self.start);
        self.origin
            .checked_add(jiff::SignedDuration::try_from(elapsed).unwrap_or_default())
            .unwrap_or(self.origin)
    }

    /// Milliseconds since the clock started.
    pub fn elapsed_ms(&self) -> i64 {
        Instant::now()
            .saturating_duration_since(self.start)
            .as_millis() as i64
    }

    pub async fn sleep(&self, ms: i64) {
        tokio::time::sleep(Duration::from_millis(ms.max(0) as u64)).await;
    }

    /// A timer that fires `ms` from now and can be set again
    /// ([`Clock::reset`]): for a task that sleeps over and over, one timer
    /// rather than a new one for each sleep.
    pub fn timer(&self, ms: i64) -> Sleep {
        tokio::time::sleep(Duration::from_millis(ms.max(0) as u64))
    }

    /// Sets a timer made by [`Clock::timer`] to fire `ms` from now, whether
    /// or not it has fired.
    pub fn reset(&self, timer: Pin<&mut Sleep>, ms: i64) {
        timer.reset(Instant::now() + Duration::from_millis(ms.max(0) as u64));
    }
}
