//! What a lawful, useful marketing email needs from its restaurant: the postal address (no
//! marketing email goes out without it), phone, website, booking or ordering URL, logo, brand
//! colour, the locale dates and numbers are written in, and whether voucher codes come with a QR code.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Restaurants {
    Table,
    PostalAddress,
    Phone,
    WebsiteUrl,
    BookingUrl,
    LogoUrl,
    BrandColor,
    Locale,
    VoucherQrCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for mut col in [
            text_null(R::PostalAddress),
            string_len_null(R::Phone, 40),
            string_len_null(R::WebsiteUrl, 500),
            string_len_null(R::BookingUrl, 500),
            string_len_null(R::LogoUrl, 500),
            string_len(R::BrandColor, 7).default("#2f4f4f").to_owned(),
            string_len(R::Locale, 8).default("en-US").to_owned(),
            boolean(R::VoucherQrCode).default(false).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(R::Table).add_column(&mut col).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Restaurants as R;
        for col in [R::PostalAddress, R::Phone, R::WebsiteUrl, R::BookingUrl, R::LogoUrl, R::BrandColor, R::Locale, R::VoucherQrCode] {
            manager.alter_table(Table::alter().table(R::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
