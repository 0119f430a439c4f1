//! Values the deployment generates once and keeps in `service_settings`: the secret that signs
//! unsubscribe links (when none is configured) and the deployment's id, which makes every
//! email's `Message-ID` unique across deployments.

use rand::RngExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entities::service_setting;
use crate::{DomainError, DomainResult};

/// Key of the unsubscribe-link secret.
pub const UNSUBSCRIBE_SECRET: &str = "unsubscribe_secret";
/// Key of the secret that signs members' own tokens (`createMemberToken`).
pub const MEMBER_TOKEN_SECRET: &str = "member_token_secret";
/// Key of the deployment's id.
pub const DEPLOYMENT_ID: &str = "deployment_id";

/// The value stored under `key`, created at random (32 hex bytes) on first use; every replica
/// reads the same one.
pub async fn generated(db: &impl ConnectionTrait, key: &str) -> DomainResult<String> {
    let fresh: String = {
        let mut rng = rand::rng();
        (0..32).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
    };
    service_setting::Entity::insert(service_setting::ActiveModel { key: Set(key.into()), value: Set(fresh) })
        .on_conflict(OnConflict::column(service_setting::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let row = service_setting::Entity::find_by_id(key.to_string())
        .one(db)
        .await?
        .ok_or_else(|| DomainError::internal(format!("service setting {key} missing")))?;
    Ok(row.value)
}
