//! A restaurant may let its at-risk and win-back automations follow the predicted probability
//! that a member is still active (issue 31) instead of fixed day counts:
//! `restaurants.churn_by_prediction` (off by default), `at_risk_probability_bp` and
//! `win_back_probability_bp` (in basis points: below the first a member is at risk, below the
//! second lost and due a win-back).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, integer};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    ChurnByPrediction,
    AtRiskProbabilityBp,
    WinBackProbabilityBp,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        let columns = [
            boolean(R::ChurnByPrediction).default(false).to_owned(),
            integer(R::AtRiskProbabilityBp).default(5_000).to_owned(),
            integer(R::WinBackProbabilityBp).default(2_000).to_owned(),
        ];
        for column in columns {
            manager.alter_table(Table::alter().table(R::Table).add_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for column in [R::ChurnByPrediction, R::AtRiskProbabilityBp, R::WinBackProbabilityBp] {
            manager.alter_table(Table::alter().table(R::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
