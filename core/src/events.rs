//! The hook by which a store announces what it has durably committed.
//!
//! The store calls the sink in commit order, so whatever the sink feeds (the
//! bus, and through it every session) sees a user's events in id order even
//! when the HTTP requests that created them finished in another order.

use crate::model::{Activity, Task};
use crate::webhook::Delivery;

pub trait EventSink: Send + Sync + 'static {
    /// An activity is durably stored.
    fn activity_committed(&self, activity: &Activity);
    /// A task was created or changed and the change is durably stored.
    fn task_committed(&self, task: &Task);
    /// Webhook deliveries are durably stored (pending), in the commit that
    /// stored their activity; announced right after that activity. The
    /// delivery actors start on them at once instead of polling the store.
    fn deliveries_committed(&self, deliveries: &[Delivery]);
}
