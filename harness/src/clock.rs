//! The injected clock that every time check reads.
//!
//! Token expiry, `nbf`, credential expiration and `CreateDate` all come from
//! a [`Clock`], so a scenario can pin "now" and move it, and expiry cases are
//! exact to the second.

use std::sync::Mutex;

use time::OffsetDateTime;

/// Source of the current time for a world.
pub trait Clock: Send + Sync {
    /// Returns the current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The host's wall clock, used by `serve` unless a scenario pins the time.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stays where it is set until it is moved.
#[derive(Debug)]
pub struct FixedClock {
    now: Mutex<OffsetDateTime>,
}

impl FixedClock {
    /// Creates a clock stopped at `now`.
    pub fn new(now: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Creates a clock stopped at `epoch_seconds` (Unix time).
    pub fn at_unix(epoch_seconds: i64) -> Self {
        let now = OffsetDateTime::from_unix_timestamp(epoch_seconds)
            .expect("a Unix time in i64 seconds within the supported year range");
        Self::new(now)
    }

    /// Sets the clock to `now`.
    pub fn set(&self, now: OffsetDateTime) {
        *self.lock() = now;
    }

    /// Moves the clock forward (or back, for a negative duration); fails,
    /// leaving the clock where it was, when the result is beyond the years
    /// the clock can show.
    pub fn advance(&self, by: time::Duration) -> Result<(), String> {
        let mut now = self.lock();
        let moved = now.checked_add(by).ok_or_else(|| {
            format!(
                "moving the clock from {} by {by} leaves the supported years",
                *now
            )
        })?;
        *now = moved;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OffsetDateTime> {
        // A panic while holding this lock cannot leave the time half-written,
        // so a poisoned lock still holds a valid value.
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.lock()
    }
}
