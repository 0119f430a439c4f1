//! What the deployment generates once: the secrets that sign unsubscribe links (when none is
//! configured) and members' own tokens, kept in the key store under the master key (never in
//! the data, so a data backup signs nothing); and in `service_settings` the deployment's id,
//! which makes every email's `Message-ID` unique across deployments, and the tag that binds
//! the data to its key store.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::entities::service_setting;
use crate::vault::Vault;
use crate::vault::crypto::Key;
use crate::{DomainError, DomainResult};

/// Name of the unsubscribe-link secret.
pub const UNSUBSCRIBE_SECRET: &str = "unsubscribe_secret";
/// Name of the secret that signs members' own tokens (`createMemberToken`).
pub const MEMBER_TOKEN_SECRET: &str = "member_token_secret";
/// Key of the deployment's id.
pub const DEPLOYMENT_ID: &str = "deployment_id";
/// Key of the tag that names the key store this data belongs to.
const KEYSTORE_BINDING: &str = "keystore_binding";

/// The value stored under `key`, created at random (32 hex bytes) on first use; every replica
/// reads the same one.
pub async fn generated(db: &impl ConnectionTrait, key: &str) -> DomainResult<String> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let fresh = hex::encode(bytes);
    stored_or(db, key, fresh).await
}

/// The value under `key`, `value` stored first if there is none.
async fn stored_or(db: &impl ConnectionTrait, key: &str, value: String) -> DomainResult<String> {
    service_setting::Entity::insert(service_setting::ActiveModel { key: Set(key.into()), value: Set(value) })
        .on_conflict(OnConflict::column(service_setting::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let row =
        service_setting::Entity::find_by_id(key.to_string()).one(db).await?.ok_or_else(|| DomainError::internal(format!("service setting {key} missing")))?;
    Ok(row.value)
}

/// The deployment's secret `name` (hex) from the key store, created there on first use. A
/// secret an older version kept in `service_settings` is moved into the key store (so links
/// and tokens signed with it stay valid) and deleted from the data.
pub async fn secret(db: &impl ConnectionTrait, vault: &Vault, name: &str) -> DomainResult<String> {
    let legacy = service_setting::Entity::find_by_id(name.to_string()).one(db).await?;
    let key = vault.service_secret(name, legacy.as_ref().and_then(|row| Key::parse(&row.value).ok())).await?;
    if legacy.is_some() {
        service_setting::Entity::delete_by_id(name.to_string()).exec(db).await?;
    }
    Ok(key.to_hex())
}

/// Whether the data belongs to the key store `vault` opened: the data keeps a tag of the key
/// store's own binding secret (recorded on the first start with both). `false` when the data
/// was bound to another key store.
pub async fn bound_to(db: &impl ConnectionTrait, vault: &Vault) -> DomainResult<bool> {
    let tag = vault.service_secret("binding", None).await?.blind_index("binding", "key store");
    Ok(stored_or(db, KEYSTORE_BINDING, tag.clone()).await? == tag)
}

/// Whether any customer's values are sealed (whose keys a key store must then hold), across
/// restaurants: a deployment-wide start-up check.
pub async fn holds_sealed(db: &impl ConnectionTrait) -> DomainResult<bool> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};

    use crate::entities::customer;
    let found: Option<i64> =
        customer::Entity::find().select_only().column(customer::Column::Id).filter(customer::Column::KeyId.is_not_null()).into_tuple().one(db).await?;
    Ok(found.is_some())
}
