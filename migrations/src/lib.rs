//! coincast's schema, one migration per change, applied in order at server start and by
//! `coincast migrate`.
//!
//! Invariant: only portable schema statements (sea-query builders, no raw SQLite SQL), so every
//! migration also runs on PostgreSQL. Times are stored as Unix seconds (UTC) in BIGINT columns:
//! the same on both backends, cheap to index and compare.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_initial;
mod m20261124_000002_app_meta;
mod m20261202_000003_prediction_indexes;
mod m20261202_000004_events;
mod m20261202_000005_signals;
mod m20261203_000006_model_versions;
mod m20261206_000007_accuracy_blocks_index;

/// Applies coincast's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_initial::Migration),
            Box::new(m20261124_000002_app_meta::Migration),
            Box::new(m20261202_000003_prediction_indexes::Migration),
            Box::new(m20261202_000004_events::Migration),
            Box::new(m20261202_000005_signals::Migration),
            Box::new(m20261203_000006_model_versions::Migration),
            Box::new(m20261206_000007_accuracy_blocks_index::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{ConnectionTrait, Database, Statement};

    #[tokio::test]
    async fn migrations_apply_roll_back_and_reapply_on_sqlite() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        for table in [
            "candles",
            "series_points",
            "source_status",
            "predictions",
            "app_meta",
            "events",
            "model_versions",
        ] {
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap_or_else(|e| panic!("table {table} missing: {e}"));
        }
        assert_eq!(
            Migrator::get_applied_migrations(&db).await.unwrap().len(),
            Migrator::migrations().len()
        );
        Migrator::down(&db, None).await.unwrap();
        assert!(Migrator::get_applied_migrations(&db).await.unwrap().is_empty());
        Migrator::up(&db, None).await.unwrap();
    }
}
