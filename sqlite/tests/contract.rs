//! The store contract suite (`hub_core::store::contract`) against the SQLite
//! store: each property on a fresh database file in its own temporary
//! directory, removed when the property ends.

use std::sync::Arc;

use hub_core::settings::Synchronous;
use hub_core::store::contract::Fixture;
use hub_core::EventSink;
use hub_sqlite::SqliteStore;

/// A new store on an empty database in a temporary directory.
async fn open(sink: Arc<dyn EventSink>) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        SqliteStore::open(dir.path(), Synchronous::Normal, 64, sink).expect("the store opens");
    Fixture::new(Arc::new(store), dir)
}

hub_core::store_contract_tests!(open);
