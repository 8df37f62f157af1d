//! sea-orm entities of the tables in `migrations/` (one module per table).

/// `candles`: OHLCV bars as a source reported them, keyed by (coin, bar size, open time).
pub mod candle {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "candles")]
    pub struct Model {
        /// The coin, stored as its ticker: BTC, ETH, ...
        #[sea_orm(primary_key, auto_increment = false)]
        pub coin: shared::Coin,
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

    impl Model {
        /// The bar this row stores.
        pub fn bar(&self) -> models::history::Bar {
            models::history::Bar {
                ts: self.ts,
                open: self.open,
                high: self.high,
                low: self.low,
                close: self.close,
                volume: self.volume,
            }
        }
    }
}

/// `series_points`: any other time series (mempool, TPS, tweets, markets), one value per
/// (series, timestamp), as the source reported it.
pub mod series_point {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "series_points")]
    pub struct Model {
        /// The series id (`mempool_count`, `tps`, `gold`, ...: see `collect::sources::SeriesId`).
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

/// `predictions`: every prediction made, and its outcome once its horizon has passed.
pub mod prediction {
    use sea_orm::entity::prelude::*;

    /// Where a prediction stands, stored as `pending`, `scored` or `unscorable`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
    pub enum Outcome {
        /// Its horizon has not passed, or the price at the target is not stored yet.
        #[sea_orm(string_value = "pending")]
        Pending,
        /// Scored against the realized close.
        #[sea_orm(string_value = "scored")]
        Scored,
        /// No price arrived near the target time.
        #[sea_orm(string_value = "unscorable")]
        Unscorable,
    }

    impl From<Outcome> for shared::Outcome {
        fn from(o: Outcome) -> Self {
            match o {
                Outcome::Pending => shared::Outcome::Pending,
                Outcome::Scored => shared::Outcome::Scored,
                Outcome::Unscorable => shared::Outcome::Unscorable,
            }
        }
    }

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "predictions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The coin's ticker. Text, not `shared::Coin`, like `horizon`: readers meet rows of every
        /// coin and horizon (the stream, history, the published state), and one that does not
        /// read (another version's horizon during a rolling deploy, a damaged restore) is skipped
        /// and counted (`db::predictions::to_dto`), not an error that stops the whole read.
        pub coin: String,
        /// `30m`, `1h`, ... (`Horizon::as_str`).
        pub horizon: String,
        /// The prediction time (a minute boundary): the reference price is the close just before it.
        pub made_at: i64,
        /// `made_at` + horizon: the direction is judged on the close just before it.
        pub target_at: i64,
        pub p_up: f64,
        pub reference_price: f64,
        pub model_id: String,
        /// Made after the fact from stored history (never counted with live predictions).
        pub backfilled: bool,
        /// Pending until scored; unscorable when no price came near the target time.
        pub outcome: Outcome,
        pub realized_price: Option<f64>,
        pub realized_return: Option<f64>,
        pub correct: Option<bool>,
        pub scored_at: Option<i64>,
        /// When the row was stored (absent for rows stored before the column existed).
        pub published_at: Option<i64>,
        /// The model's confidence threshold when it was made (LONG/SHORT at or above it).
        pub signal_threshold: Option<f64>,
        /// Walk-forward accuracy of the model's predictions at least this confident.
        pub band_accuracy: Option<f64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `events`: the event stream's one sequence (see `db::events`).
pub mod event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "events")]
    pub struct Model {
        /// The event id clients see (`id:` of the server-sent event, `Last-Event-ID`).
        #[sea_orm(primary_key)]
        pub id: i64,
        /// `prediction`, `score` or `price` (`shared::EventType`). Text, as the coin and horizon:
        /// the stream reads every kind, and skips (and logs) one it does not know rather than
        /// stopping (see `prediction`).
        pub kind: String,
        pub coin: String,
        /// The prediction's horizon (none for prices).
        pub horizon: Option<String>,
        /// The prediction's id, or the minute's open time for prices.
        pub subject: i64,
        /// The minute's close, for prices.
        pub price: Option<f64>,
        /// When it was recorded (Unix seconds).
        pub at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `model_versions`: every decision of the champion/challenger gate (see `db::versions`).
pub mod model_version {
    use sea_orm::entity::prelude::*;

    /// What the gate decided, stored as `promoted` or `kept`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
    pub enum Decision {
        /// The challenger replaced the champion (this row's card and ONNX are served).
        #[sea_orm(string_value = "promoted")]
        Promoted,
        /// The champion stayed.
        #[sea_orm(string_value = "kept")]
        Kept,
    }

    // The stored form of `shared::GateDecision` (the gate's and the API's one type).
    impl From<shared::GateDecision> for Decision {
        fn from(d: shared::GateDecision) -> Self {
            match d {
                shared::GateDecision::Promoted => Decision::Promoted,
                shared::GateDecision::Kept => Decision::Kept,
            }
        }
    }

    impl From<Decision> for shared::GateDecision {
        fn from(d: Decision) -> Self {
            match d {
                Decision::Promoted => shared::GateDecision::Promoted,
                Decision::Kept => shared::GateDecision::Kept,
            }
        }
    }

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "model_versions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub coin: shared::Coin,
        pub horizon: shared::Horizon,
        /// The challenger's id (`BTC-1h-<first 8 hex of its ONNX sha256>`).
        pub model_id: String,
        /// The running model it was compared with.
        pub champion_id: String,
        pub decision: Decision,
        pub reason: String,
        pub decided_at: i64,
        /// The challenger's training rows (none when it could not be trained).
        pub trained_from: Option<i64>,
        pub trained_to: Option<i64>,
        /// The window both were scored on (prediction times).
        pub window_from: i64,
        pub window_to: i64,
        pub n: i64,
        pub champion_log_loss: Option<f64>,
        pub challenger_log_loss: Option<f64>,
        pub champion_accuracy: Option<f64>,
        pub challenger_accuracy: Option<f64>,
        pub dm_statistic: Option<f64>,
        pub p_value: Option<f64>,
        /// The champion's training span overlaps the window (its figure there is in-sample).
        pub champion_in_sample: bool,
        /// The challenger's card (JSON) and ONNX bytes, kept for promoted rows only.
        pub card: Option<String>,
        pub onnx: Option<Vec<u8>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
