//! sea-orm entities of the tables in `migrations/` (one module per table).

/// `candles`: OHLCV bars as a source reported them, keyed by (coin, bar size, open time).
pub mod candle {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "candles")]
    pub struct Model {
        /// Ticker: BTC, LTC, XRP.
        #[sea_orm(primary_key, auto_increment = false)]
        pub coin: String,
        /// Bar size in seconds (60 for live minute candles).
        #[sea_orm(primary_key, auto_increment = false)]
        pub interval_s: i32,
        /// Open time, Unix seconds UTC.
        #[sea_orm(primary_key, auto_increment = false)]
        pub ts: i64,
        pub open: f64,
        pub high: f64,
        pub low: f64,
        pub close: f64,
        pub volume: f64,
        pub source: String,
        pub fetched_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
