//! `model_versions`: every decision of the champion/challenger gate. One row per trained
//! challenger (coin, horizon): both models' figures on the same window, the test statistic and
//! the decision with its reason. A promoted row also holds the challenger's card and ONNX bytes, so
//! every process (on one database) serves the same version; the newest promoted row of a coin and
//! horizon is its running model (the shipped one when there is none).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ModelVersions::Table)
                    .if_not_exists()
                    .col(big_pk_auto(ModelVersions::Id))
                    .col(string_len(ModelVersions::Coin, 8))
                    .col(string_len(ModelVersions::Horizon, 8))
                    .col(string_len(ModelVersions::ModelId, 64))
                    .col(string_len(ModelVersions::ChampionId, 64))
                    .col(string_len(ModelVersions::Decision, 16))
                    .col(text(ModelVersions::Reason))
                    .col(big_integer(ModelVersions::DecidedAt))
                    .col(big_integer_null(ModelVersions::TrainedFrom))
                    .col(big_integer_null(ModelVersions::TrainedTo))
                    .col(big_integer(ModelVersions::WindowFrom))
                    .col(big_integer(ModelVersions::WindowTo))
                    .col(big_integer(ModelVersions::N))
                    .col(double_null(ModelVersions::ChampionLogLoss))
                    .col(double_null(ModelVersions::ChallengerLogLoss))
                    .col(double_null(ModelVersions::ChampionAccuracy))
                    .col(double_null(ModelVersions::ChallengerAccuracy))
                    .col(double_null(ModelVersions::DmStatistic))
                    .col(double_null(ModelVersions::PValue))
                    .col(boolean(ModelVersions::ChampionInSample))
                    .col(text_null(ModelVersions::Card))
                    .col(blob_null(ModelVersions::Onnx))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("model_versions_by_model")
                    .table(ModelVersions::Table)
                    .col(ModelVersions::Coin)
                    .col(ModelVersions::Horizon)
                    .col(ModelVersions::DecidedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ModelVersions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ModelVersions {
    Table,
    Id,
    Coin,
    Horizon,
    ModelId,
    ChampionId,
    Decision,
    Reason,
    DecidedAt,
    TrainedFrom,
    TrainedTo,
    WindowFrom,
    WindowTo,
    N,
    ChampionLogLoss,
    ChallengerLogLoss,
    ChampionAccuracy,
    ChallengerAccuracy,
    DmStatistic,
    PValue,
    ChampionInSample,
    Card,
    Onnx,
}
