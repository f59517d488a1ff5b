//! Storage back-ends. The contract is `hub_core::Store`; embedded mode uses
//! [`sqlite::SqliteStore`].

pub mod sqlite;
