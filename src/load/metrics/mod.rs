//! Load-test metrics: what can be measured ([`Metric`]), how a threshold names a selection of
//! it ([`Selector`], [`Aggregation`]), the numbers a series keeps ([`Trend`], [`Aggregate`], the per-second [`Timeline`]) and
//! the sharded [`Recorder`] the virtual users write into. Layered one way inside: `metric` ←
//! `selector` ← `aggregate` ← `series`; `thresholds`, the run and the report point here, never
//! the other way. No I/O, no knowledge of HTTP or tokio.

mod aggregate;
mod metric;
mod selector;
mod series;
mod timeline;

pub use aggregate::{Aggregate, GaugeValue, Trend};
pub use metric::{Group, Metric, MetricKind};
pub(crate) use selector::syntax;
pub use selector::{Aggregation, Selector, ThresholdSyntaxError};
pub use series::{Layout, Recorder, Route, Series};
pub use timeline::{Bucket, Sketch, Timeline, MAX_BUCKETS};
