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

/// `series_points`: any other time series (mempool, TPS, tweets, markets), one value per
/// (series, timestamp), as the source reported it.
pub mod series_point {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "series_points")]
    pub struct Model {
        /// The series id (`mempool_count`, `tps`, `gold`, ...: see `collectors::Series`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub series: String,
        /// Unix seconds UTC of the observation.
        #[sea_orm(primary_key, auto_increment = false)]
        pub ts: i64,
        pub value: f64,
        pub source: String,
        pub fetched_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `source_status`: the health of each upstream source, updated by every collector run.
pub mod source_status {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "source_status")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub source: String,
        pub last_success_at: Option<i64>,
        pub last_error_at: Option<i64>,
        pub last_error: Option<String>,
        pub consecutive_failures: i32,
        pub latest_data_at: Option<i64>,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `app_meta`: named values kept across restarts.
pub mod app_meta {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "app_meta")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub value: String,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
