//! The hook by which a store announces what it has durably committed.
//!
//! The embedded store calls the sink in commit order, from its writer
//! thread: the in-process bus it feeds, and through it every session, sees
//! a user's events in id order even when the HTTP requests that created
//! them finished in another order.
//!
//! The Redis store calls it from the caller's task once its script has
//! returned, so concurrent appends may be announced in any order. Nothing
//! there depends on that order: sessions are fed by the script's own
//! `PUBLISH` (in id order), the sink only counts, and a webhook endpoint
//! keeps its deliveries by id (deliveries are not promised in order; a
//! retry reorders them anyway). The store contract suite checks the order
//! for appends made one after another, which both stores keep.

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
