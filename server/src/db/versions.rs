//! `model_versions`: the gate's decisions (every trained challenger, promoted or not) and the
//! promoted models' artifacts, which every process serves (see `predict::registry`).

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use shared::{Coin, Horizon};

use crate::db::entities::model_version::{self, Decision};

/// Decisions kept per coin and horizon (older ones are deleted by the retrain that adds one).
pub const KEEP_DECISIONS: u64 = 100;
/// Promoted versions per coin and horizon that keep their card and ONNX bytes (the running one
/// and the ones before it, to go back to); older promoted rows keep their figures only.
pub const KEEP_ARTIFACTS: u64 = 5;

/// A promoted model as stored: its card (JSON) and ONNX bytes.
#[derive(Debug, Clone)]
pub struct StoredModel {
    pub card: String,
    pub onnx: Vec<u8>,
    pub decided_at: i64,
}

/// Stores one decision and returns its id.
pub async fn record(db: &impl ConnectionTrait, row: model_version::ActiveModel) -> Result<i64, DbErr> {
    let res = model_version::Entity::insert(row).exec(db).await?;
    Ok(res.last_insert_id)
}

fn of(coin: Coin, horizon: Horizon) -> sea_orm::Select<model_version::Entity> {
    model_version::Entity::find()
        .filter(model_version::Column::Coin.eq(coin))
        .filter(model_version::Column::Horizon.eq(horizon))
}

/// The newest promoted model of each coin and horizon that has one (the running versions).
pub async fn running(db: &impl ConnectionTrait) -> Result<Vec<StoredModel>, DbErr> {
    let mut out = Vec::new();
    // Read as text: a row of a coin that does not read (none is written) is no running model,
    // not an error. Every read below is filtered by a known coin and horizon.
    let coins: Vec<String> = model_version::Entity::find()
        .select_only()
        .column(model_version::Column::Coin)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    for coin in coins.iter().filter_map(|c| Coin::from_ticker(c)) {
        for horizon in Horizon::ALL {
            let row = of(coin, horizon)
                .filter(model_version::Column::Decision.eq(Decision::Promoted))
                .filter(model_version::Column::Onnx.is_not_null())
                .order_by_desc(model_version::Column::DecidedAt)
                .order_by_desc(model_version::Column::Id)
                .one(db)
                .await?;
            if let Some(model_version::Model {
                card: Some(card),
                onnx: Some(onnx),
                decided_at,
                ..
            }) = row
            {
                out.push(StoredModel {
                    card,
                    onnx,
                    decided_at,
                });
            }
        }
    }
    Ok(out)
}

/// The newest `limit` decisions of every coin and horizon, without their artifacts, newest first:
/// one statement that reads only those (ranked per coin and horizon in the database, portable
/// SQL for SQLite and PostgreSQL), not the [`KEEP_DECISIONS`] per coin and horizon kept.
pub async fn all_decisions(
    db: &impl ConnectionTrait,
    limit: usize,
) -> Result<std::collections::HashMap<(Coin, Horizon), Vec<model_version::Model>>, DbErr> {
    let newest = sea_orm::sea_query::Expr::cust(format!(
        "id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY coin, horizon \
         ORDER BY decided_at DESC, id DESC) AS place FROM model_versions) AS ranked WHERE place <= {limit})"
    ));
    let mut out: std::collections::HashMap<(Coin, Horizon), Vec<model_version::Model>> =
        std::collections::HashMap::new();
    for row in without_artifacts(model_version::Entity::find().filter(newest))
        .all(db)
        .await?
    {
        out.entry((row.coin, row.horizon)).or_default().push(row);
    }
    Ok(out)
}

/// The rows of `rows` without their card and ONNX bytes, newest decision first.
fn without_artifacts(
    rows: sea_orm::Select<model_version::Entity>,
) -> sea_orm::Selector<sea_orm::SelectModel<model_version::Model>> {
    rows.select_only()
        .columns([
            model_version::Column::Id,
            model_version::Column::Coin,
            model_version::Column::Horizon,
            model_version::Column::ModelId,
            model_version::Column::ChampionId,
            model_version::Column::Decision,
            model_version::Column::Reason,
            model_version::Column::DecidedAt,
            model_version::Column::TrainedFrom,
            model_version::Column::TrainedTo,
            model_version::Column::WindowFrom,
            model_version::Column::WindowTo,
            model_version::Column::N,
            model_version::Column::ChampionLogLoss,
            model_version::Column::ChallengerLogLoss,
            model_version::Column::ChampionAccuracy,
            model_version::Column::ChallengerAccuracy,
            model_version::Column::DmStatistic,
            model_version::Column::PValue,
            model_version::Column::ChampionInSample,
        ])
        .expr_as(sea_orm::sea_query::Expr::cust("NULL"), "card")
        .expr_as(sea_orm::sea_query::Expr::cust("NULL"), "onnx")
        .order_by_desc(model_version::Column::DecidedAt)
        .order_by_desc(model_version::Column::Id)
        .into_model::<model_version::Model>()
}

/// Bounds the table: per coin and horizon, the newest [`KEEP_DECISIONS`] decisions stay, and only
/// the newest [`KEEP_ARTIFACTS`] promoted ones keep their card and ONNX bytes.
pub async fn prune(db: &impl ConnectionTrait, coin: Coin, horizon: Horizon) -> Result<(), DbErr> {
    let ids = |rows: Vec<model_version::Model>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let old = ids(of(coin, horizon)
        .order_by_desc(model_version::Column::DecidedAt)
        .order_by_desc(model_version::Column::Id)
        .offset(KEEP_DECISIONS)
        .limit(1000)
        .all(db)
        .await?);
    if !old.is_empty() {
        model_version::Entity::delete_many()
            .filter(model_version::Column::Id.is_in(old))
            .exec(db)
            .await?;
    }
    let stale = ids(of(coin, horizon)
        .filter(model_version::Column::Decision.eq(Decision::Promoted))
        .filter(model_version::Column::Onnx.is_not_null())
        .order_by_desc(model_version::Column::DecidedAt)
        .order_by_desc(model_version::Column::Id)
        .offset(KEEP_ARTIFACTS)
        .limit(1000)
        .all(db)
        .await?);
    if !stale.is_empty() {
        model_version::Entity::update_many()
            .col_expr(
                model_version::Column::Card,
                sea_orm::sea_query::Expr::cust("NULL"),
            )
            .col_expr(
                model_version::Column::Onnx,
                sea_orm::sea_query::Expr::cust("NULL"),
            )
            .filter(model_version::Column::Id.is_in(stale))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A new decision row (the caller fills in the figures it has).
pub fn new_row(
    coin: Coin,
    horizon: Horizon,
    model_id: &str,
    champion_id: &str,
    decision: Decision,
    reason: &str,
    decided_at: i64,
) -> model_version::ActiveModel {
    model_version::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        coin: Set(coin),
        horizon: Set(horizon),
        model_id: Set(model_id.to_owned()),
        champion_id: Set(champion_id.to_owned()),
        decision: Set(decision),
        reason: Set(reason.to_owned()),
        decided_at: Set(decided_at),
        trained_from: Set(None),
        trained_to: Set(None),
        window_from: Set(0),
        window_to: Set(0),
        n: Set(0),
        champion_log_loss: Set(None),
        challenger_log_loss: Set(None),
        champion_accuracy: Set(None),
        challenger_accuracy: Set(None),
        dm_statistic: Set(None),
        p_value: Set(None),
        champion_in_sample: Set(false),
        card: Set(None),
        onnx: Set(None),
    }
}
