//! The run over time, at a fixed resolution: one [`Bucket`] per second of the test (requests,
//! failures, and small log-scale sketches of `http_req_duration` and `llm_ttft`), at most
//! [`MAX_BUCKETS`] of them; a longer run doubles the bucket width and merges neighbours, so
//! memory is bounded whatever the duration or the request rate. The HTML report draws its
//! charts from it. No I/O, no knowledge of HTTP or tokio.

use std::time::Duration;

/// The most buckets a timeline keeps: ten minutes at one second each.
pub const MAX_BUCKETS: usize = 600;

/// Sub-buckets per power of two: a quantile is within ±4.5% of the true value, plenty for a
/// chart (the summary's exact figures come from the HDR histograms).
const PER_OCTAVE: f64 = 8.0;
/// Enough sketch cells for 1 µs up to 2^33 µs (2.4 h); longer samples land in the last.
const CELLS: usize = 8 * 33 + 1;

/// A log-scale histogram of microseconds, allocated on its first sample.
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    cells: Option<Box<[u32; CELLS]>>,
    count: u64,
}

impl Sketch {
    fn cell(us: u64) -> usize {
        if us == 0 {
            return 0;
        }
        (((us as f64).log2() * PER_OCTAVE) as usize + 1).min(CELLS - 1)
    }

    pub fn record_us(&mut self, us: u64) {
        let cells = self.cells.get_or_insert_with(|| Box::new([0; CELLS]));
        let cell = &mut cells[Self::cell(us)];
        *cell = cell.saturating_add(1);
        self.count += 1;
    }

    pub fn add(&mut self, other: &Sketch) {
        if let Some(theirs) = &other.cells {
            let ours = self.cells.get_or_insert_with(|| Box::new([0; CELLS]));
            for (a, b) in ours.iter_mut().zip(theirs.iter()) {
                *a = a.saturating_add(*b);
            }
        }
        self.count += other.count;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `p`th percentile in milliseconds (the middle of its cell), or `None` when empty.
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let cells = self.cells.as_ref()?;
        let total: u64 = cells.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return None;
        }
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (i, &c) in cells.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                if i == 0 {
                    return Some(0.0);
                }
                let us = ((i as f64 - 0.5) / PER_OCTAVE).exp2();
                return Some(us / 1000.0);
            }
        }
        None
    }
}

/// One slice of the run.
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    /// Requests that ended in this slice (`http_reqs`).
    pub requests: u64,
    /// Of those, failed ones (`http_req_failed`: transport error or unexpected status).
    pub failures: u64,
    pub duration: Sketch,
    pub ttft: Sketch,
}

impl Bucket {
    fn add(&mut self, other: &Bucket) {
        self.requests += other.requests;
        self.failures += other.failures;
        self.duration.add(&other.duration);
        self.ttft.add(&other.ttft);
    }
}

/// The run's buckets, `width` each, from the test's start.
#[derive(Debug, Clone)]
pub struct Timeline {
    width: Duration,
    buckets: Vec<Bucket>,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            width: Duration::from_secs(1),
            buckets: Vec::new(),
        }
    }
}

impl Timeline {
    pub fn width(&self) -> Duration {
        self.width
    }

    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Records one request that ended `at` after the start: its `http_req_duration` and
    /// `llm_ttft` when it got a response, and whether it failed.
    pub fn request(
        &mut self,
        at: Duration,
        duration: Option<Duration>,
        ttft: Option<Duration>,
        failed: bool,
    ) {
        let bucket = self.bucket_mut(at);
        bucket.requests += 1;
        bucket.failures += u64::from(failed);
        if let Some(d) = duration {
            bucket.duration.record_us(micros(d));
        }
        if let Some(t) = ttft {
            bucket.ttft.record_us(micros(t));
        }
    }

    fn bucket_mut(&mut self, at: Duration) -> &mut Bucket {
        let mut index = (at.as_nanos() / self.width.as_nanos()) as usize;
        while index >= MAX_BUCKETS {
            self.coarsen();
            index = (at.as_nanos() / self.width.as_nanos()) as usize;
        }
        if self.buckets.len() <= index {
            self.buckets.resize_with(index + 1, Bucket::default);
        }
        &mut self.buckets[index]
    }

    /// Doubles the bucket width, merging neighbours in place (no second vector: the peak
    /// memory of a long run stays that of its buckets).
    fn coarsen(&mut self) {
        let merged = self.buckets.len().div_ceil(2);
        for i in 0..merged {
            let mut bucket = std::mem::take(&mut self.buckets[2 * i]);
            if let Some(second) = self.buckets.get_mut(2 * i + 1) {
                bucket.add(&std::mem::take(second));
            }
            self.buckets[i] = bucket;
        }
        self.buckets.truncate(merged);
        self.width *= 2;
    }

    /// Adds another shard's timeline (at the coarser of the two widths).
    pub fn merge(&mut self, other: &Timeline) {
        let mut other = other.clone();
        while self.width < other.width {
            self.coarsen();
        }
        while other.width < self.width {
            other.coarsen();
        }
        if self.buckets.len() < other.buckets.len() {
            self.buckets
                .resize_with(other.buckets.len(), Bucket::default);
        }
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            a.add(b);
        }
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sketch_percentiles_are_within_five_percent() {
        let mut sketch = Sketch::default();
        for ms in 1..=1000u64 {
            sketch.record_us(ms * 1000);
        }
        for (p, want) in [(50.0, 500.0), (95.0, 950.0), (99.0, 990.0)] {
            let got = sketch.percentile_ms(p).unwrap();
            assert!((got - want).abs() / want < 0.05, "p{p}: {got} vs {want}");
        }
        assert_eq!(Sketch::default().percentile_ms(50.0), None);
    }

    #[test]
    fn a_long_run_keeps_a_bounded_number_of_buckets() {
        let mut timeline = Timeline::default();
        for s in 0..3600u64 {
            timeline.request(
                Duration::from_secs(s),
                Some(Duration::from_millis(5)),
                None,
                s % 10 == 0,
            );
        }
        assert!(timeline.buckets().len() <= MAX_BUCKETS);
        assert_eq!(timeline.width(), Duration::from_secs(8));
        let requests: u64 = timeline.buckets().iter().map(|b| b.requests).sum();
        let failures: u64 = timeline.buckets().iter().map(|b| b.failures).sum();
        assert_eq!((requests, failures), (3600, 360));
    }

    #[test]
    fn shards_of_different_widths_merge() {
        let mut a = Timeline::default();
        let mut b = Timeline::default();
        a.request(
            Duration::from_secs(2),
            Some(Duration::from_millis(1)),
            None,
            false,
        );
        for s in 0..1000u64 {
            b.request(Duration::from_secs(s), None, None, true);
        }
        a.merge(&b);
        assert_eq!(a.width(), Duration::from_secs(2));
        assert_eq!(a.buckets()[1].requests, 3);
        assert_eq!(a.buckets()[1].failures, 2);
        assert_eq!(a.buckets()[1].duration.count(), 1);
    }
}
