//! What each client records (sequence-number bitsets, latencies), and the
//! exact lost/duplicate accounting once every client has reported.

use std::sync::Mutex;

use hdrhistogram::Histogram;

/// A growable set of sequence numbers.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bitset(Vec<u64>);

impl Bitset {
    /// Adds `n`; false when it was already there.
    pub(crate) fn insert(&mut self, n: u64) -> bool {
        let (word, bit) = ((n / 64) as usize, n % 64);
        if word >= self.0.len() {
            self.0.resize(word + 1, 0);
        }
        let fresh = self.0[word] & (1 << bit) == 0;
        self.0[word] |= 1 << bit;
        fresh
    }

    pub(crate) fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Members of `self` missing from `other`, added to `into`; returns how many.
    pub(crate) fn missing_from(&self, other: Option<&Bitset>, into: &mut Bitset) -> u64 {
        if into.0.len() < self.0.len() {
            into.0.resize(self.0.len(), 0);
        }
        let mut n = 0;
        for (i, w) in self.0.iter().enumerate() {
            let have = other.and_then(|o| o.0.get(i)).copied().unwrap_or(0);
            let miss = w & !have;
            n += u64::from(miss.count_ones());
            into.0[i] |= miss;
        }
        n
    }
}

/// The largest latency the histogram keeps apart (µs); longer ones count as this.
const MAX_LATENCY_US: u64 = 60_000_000;

/// One histogram for all clients: a histogram each would cost ~100 KiB per
/// socket, so clients batch samples and merge them here.
pub(crate) struct Latencies(Mutex<Histogram<u64>>);

impl Latencies {
    pub(crate) fn new() -> Result<Self, String> {
        Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .map(|h| Self(Mutex::new(h)))
            .map_err(|e| format!("histogram: {e}"))
    }

    pub(crate) fn merge(&self, samples: &mut Vec<u64>) {
        let mut h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for s in samples.drain(..) {
            h.saturating_record(s.clamp(1, MAX_LATENCY_US));
        }
    }

    /// (p50, p99, max, samples) in µs.
    pub(crate) fn summary(&self) -> (u64, u64, u64, u64) {
        let h = self.0.lock().unwrap_or_else(|p| p.into_inner());
        (
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.99),
            h.max(),
            h.len(),
        )
    }
}

/// What one client saw, handed back when it ends.
#[derive(Debug, Default)]
pub(crate) struct ClientReport {
    pub(crate) index: usize,
    pub(crate) room: usize,
    /// Connected and joined.
    pub(crate) joined: bool,
    /// Sequence numbers received, per sender (client index) of its room.
    pub(crate) received: Vec<(usize, Bitset)>,
    pub(crate) duplicates: u64,
    /// `chat`s whose body was not one of ours, or from another room's sender.
    pub(crate) foreign: u64,
    pub(crate) sent: u64,
    /// Sequence numbers whose ack was `ok: true`.
    pub(crate) acked_ok: Bitset,
    pub(crate) acked_err: u64,
    /// Open-loop ticks that found the window full.
    pub(crate) skipped: u64,
    pub(crate) first_error: Option<String>,
    /// Why the client stopped early (connect failure, closed connection...).
    pub(crate) failure: Option<String>,
    /// Restart storm: how this client got back in.
    pub(crate) rejoins: Rejoins,
}

/// What reconnecting took, for one client or added up over all of them.
#[derive(Debug, Default, Clone)]
pub(crate) struct Rejoins {
    /// Times back in after a lost connection.
    pub(crate) reconnects: u64,
    /// Attempts refused while nothing listened, and attempts that failed
    /// otherwise (timed out, reset, refused by the server).
    pub(crate) refused_attempts: u64,
    pub(crate) failed_attempts: u64,
    /// Why the first attempt that failed otherwise failed.
    pub(crate) first_attempt_error: Option<String>,
    /// Chats dropped as already had (a join's documented overlap of replay
    /// and live delivery).
    pub(crate) overlap: u64,
    /// Chats a rejoin's replay (`history` after `since`) carried: what the
    /// client missed while away.
    pub(crate) replayed: u64,
}

impl Rejoins {
    pub(crate) fn add(&mut self, other: &Self) {
        self.reconnects += other.reconnects;
        self.refused_attempts += other.refused_attempts;
        self.failed_attempts += other.failed_attempts;
        if self.first_attempt_error.is_none() {
            self.first_attempt_error = other.first_attempt_error.clone();
        }
        self.overlap += other.overlap;
        self.replayed += other.replayed;
    }
}

impl ClientReport {
    pub(crate) fn received_from(&self, sender: usize) -> Option<&Bitset> {
        self.received
            .iter()
            .find(|(s, _)| *s == sender)
            .map(|(_, b)| b)
    }
}

/// Exact loss: every chat a sender had acked `ok`, checked at every joined
/// member of its room (the sender included: the contract echoes to it too).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Loss {
    /// (message, member) pairs that never arrived.
    pub(crate) lost_deliveries: u64,
    /// Messages that missed at least one member.
    pub(crate) lost_messages: u64,
}

pub(crate) fn loss(reports: &[ClientReport], rooms: usize) -> Loss {
    let mut by_room: Vec<Vec<&ClientReport>> = vec![Vec::new(); rooms];
    for r in reports.iter().filter(|r| r.joined) {
        by_room[r.room].push(r);
    }
    let mut out = Loss::default();
    for members in &by_room {
        for sender in members.iter().filter(|r| r.sent > 0) {
            let mut missed = Bitset::default();
            for m in members {
                out.lost_deliveries += sender
                    .acked_ok
                    .missing_from(m.received_from(sender.index), &mut missed);
            }
            out.lost_messages += missed.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(index: usize, got: &[u64]) -> ClientReport {
        let mut b = Bitset::default();
        for n in got {
            b.insert(*n);
        }
        ClientReport {
            index,
            joined: true,
            received: vec![(0, b)],
            ..Default::default()
        }
    }

    #[test]
    fn loss_counts_each_missing_pair_and_each_message_once() {
        let mut sender = member(0, &[0, 1, 2, 3, 4]);
        sender.sent = 5;
        for n in 0..5 {
            sender.acked_ok.insert(n);
        }
        let a = member(1, &[0, 1, 3, 4]); // misses 2
        let b = member(2, &[0, 1, 3]); // misses 2 and 4
        let l = loss(&[sender, a, b], 1);
        assert_eq!(
            l,
            Loss {
                lost_deliveries: 3,
                lost_messages: 2
            }
        );
    }

    #[test]
    fn bitset_reports_repeats() {
        let mut b = Bitset::default();
        assert!(b.insert(130));
        assert!(!b.insert(130));
        assert_eq!(b.len(), 1);
    }
}
