//! The hook by which a store announces what it has durably committed.
//!
//! The store calls the sink in commit order, so whatever the sink feeds (the
//! bus, and through it every session) sees a user's events in id order even
//! when the HTTP requests that created them finished in another order.

use crate::model::{Activity, Task};

pub trait EventSink: Send + Sync + 'static {
    /// An activity is durably stored.
    fn activity_committed(&self, activity: &Activity);
    /// A task was created or changed and the change is durably stored.
    fn task_committed(&self, task: &Task);
}
