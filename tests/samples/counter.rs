//! Counters that stop or wrap at a limit, and a registry of named counters.

use std::fmt;

/// What a counter does when it reaches its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Stay at the limit.
    Saturate,
    /// Start again from zero.
    Wrap,
}

/// Something that can go back to its initial state.
pub trait Reset {
    /// Puts the value back where it started.
    fn reset(&mut self);

    /// Resets, and says whether the value was not initial already.
    fn reset_changed(&mut self) -> bool {
        self.reset();
        true
    }
}

/// A counter that never passes `limit`.
///
/// See [`Overflow`] for what happens at the limit.
#[derive(Debug)]
pub struct Counter {
    value: u64,
    limit: u64,
    overflow: Overflow,
}

impl Counter {
    /// A counter at zero.
    pub fn new(limit: u64, overflow: Overflow) -> Self {
        Self { value: 0, limit, overflow }
    }

    /// Adds `by`, then saturates or wraps at the limit; returns the new value.
    pub fn bump(&mut self, by: u64) -> u64 {
        let next = self.value.saturating_add(by);
        self.value = match self.overflow {
            Overflow::Saturate => next.min(self.limit),
            Overflow::Wrap => next % (self.limit + 1),
        };
        self.value
    }

    pub fn value(&self) -> u64 { self.value }
}

impl Reset for Counter {
    fn reset(&mut self) {
        self.value = 0;
    }
}

impl fmt::Display for Counter {
    /// Shows `value/limit`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.value, self.limit)
    }
}

pub mod registry {
    use super::{Counter, Overflow};
    use std::collections::HashMap;

    /// Counters by name, made on first use.
    #[derive(Default)]
    pub struct Registry {
        counters: HashMap<String, Counter>,
    }

    impl Registry {
        /// Bumps the counter called `name` by one.
        pub fn bump(&mut self, name: &str) -> u64 {
            let counter = self.counters.entry(name.to_owned())
                .or_insert_with(|| Counter::new(100, Overflow::Saturate);
            counter.bump(1)
        }

        /// Writes every counter to `sink`, one line each.
        pub async fn flush<W: Sink>(&self, mut sink: W) -> std::io::Result<usize> {
            for (name, counter) in &self.counters {
                sink.send(format!("{name} {counter}")).await?;
            }
            Ok(self.counters.len())
        }
    }
}

/// Where flushed lines go.
pub trait Sink {
    async fn send(&mut self, line: String) -> std::io::Result<()>;
}

/// The unit shown after counts: "Zähler" is German for counter.
pub fn unit() -> &'static str { "Zähler ⏱" }
