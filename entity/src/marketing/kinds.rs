//! The kinds of email marketing sends, in one table ([`KINDS`]): for each built-in campaign its
//! stored name, the consent it needs besides `emailOptIn`, whether it counts toward the
//! frequency cap, whether it starts switched off, and its default wording (the folders of
//! `wording/`, embedded at compile time; marketers change it with `updateCampaign`).
//! Everything that asks "may this member get this email" or "does it count" reads this table.

use sea_orm::{ColumnTrait, Condition};
use serde::Serialize;

use crate::entities::{CampaignKind, CustomerStatus, customer};
use crate::rules::programme::Programme;

/// The built-in campaigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Campaign {
    Birthday,
    Anniversary,
    /// Dormant members, once per win-back period.
    WinBack,
    /// The warning before a member's points expire (written by the expiry job).
    PointsExpiry,
    /// Automation: one welcome email after a member's first visit (or sign-up with consent).
    Welcome,
    /// Automation: a nudge when a member enters the at-risk window, once per entry.
    AtRisk,
    /// Automation: congratulations right after a tier upgrade (written when it happens).
    TierUp,
    /// Automation: the custom occasions staff add, on the day (or the restaurant's lead days
    /// ahead), like birthdays.
    Occasion,
    /// Automation: the second welcome email, the restaurant's `welcome_follow_up_days` after a
    /// first visit, to members who have not returned.
    WelcomeFollowUp,
    /// Automation: the yearly anniversary of the day a member joined (`member_since`).
    MemberAnniversary,
    /// Automation: a member within the restaurant's `nearing_points` of a reward of the
    /// catalogue or of the next tier.
    NearingReward,
}

/// The consent flag an email needs besides `emailOptIn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offers {
    /// `emailOptIn` is enough (service emails and welcomes).
    None,
    Birthday,
    Anniversary,
    Special,
}

/// When an email counts toward the restaurant's frequency cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    Always,
    /// Only when the restaurant's cap includes occasions.
    Occasion,
    Never,
}

/// The default wording of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording {
    pub subject: &'static str,
    pub text: &'static str,
    pub html: &'static str,
}

/// One kind of built-in email.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    pub campaign: Campaign,
    /// Stored on deliveries; the folder of its wording.
    pub name: &'static str,
    /// The name its campaign row is created with.
    pub title: &'static str,
    /// Its campaign row's kind.
    pub stored: CampaignKind,
    pub offers: Offers,
    pub cap: Cap,
    /// Automations are off until a restaurant switches them on.
    pub starts_off: bool,
    pub wording: Wording,
}

macro_rules! wording {
    ($name:literal) => {
        Wording {
            subject: include_str!(concat!("wording/", $name, "/subject.txt")),
            text: include_str!(concat!("wording/", $name, "/body.txt")),
            html: include_str!(concat!("wording/", $name, "/body.html")),
        }
    };
}

/// Every built-in kind, in [`Campaign`]'s order.
pub const KINDS: [Kind; 11] = [
    Kind {
        campaign: Campaign::Birthday,
        name: "birthday",
        title: "Birthday",
        stored: CampaignKind::Birthday,
        offers: Offers::Birthday,
        cap: Cap::Occasion,
        starts_off: false,
        wording: wording!("birthday"),
    },
    Kind {
        campaign: Campaign::Anniversary,
        name: "anniversary",
        title: "Anniversary",
        stored: CampaignKind::Anniversary,
        offers: Offers::Anniversary,
        cap: Cap::Occasion,
        starts_off: false,
        wording: wording!("anniversary"),
    },
    Kind {
        campaign: Campaign::WinBack,
        name: "win-back",
        title: "Win-back",
        stored: CampaignKind::WinBack,
        offers: Offers::Special,
        cap: Cap::Always,
        starts_off: false,
        wording: wording!("win-back"),
    },
    Kind {
        campaign: Campaign::PointsExpiry,
        name: "points-expiry",
        title: "Points expiry warning",
        stored: CampaignKind::PointsExpiry,
        offers: Offers::None,
        cap: Cap::Never,
        starts_off: false,
        wording: wording!("points-expiry"),
    },
    Kind {
        campaign: Campaign::Welcome,
        name: "welcome",
        title: "Welcome",
        stored: CampaignKind::Welcome,
        offers: Offers::None,
        cap: Cap::Always,
        starts_off: true,
        wording: wording!("welcome"),
    },
    Kind {
        campaign: Campaign::AtRisk,
        name: "at-risk",
        title: "At-risk nudge",
        stored: CampaignKind::AtRisk,
        offers: Offers::Special,
        cap: Cap::Always,
        starts_off: true,
        wording: wording!("at-risk"),
    },
    Kind {
        campaign: Campaign::TierUp,
        name: "tier-up",
        title: "Tier up",
        stored: CampaignKind::TierUp,
        offers: Offers::None,
        cap: Cap::Never,
        starts_off: true,
        wording: wording!("tier-up"),
    },
    Kind {
        campaign: Campaign::Occasion,
        name: "occasion",
        title: "Special occasion",
        stored: CampaignKind::Occasion,
        offers: Offers::Special,
        cap: Cap::Occasion,
        starts_off: true,
        wording: wording!("occasion"),
    },
    Kind {
        campaign: Campaign::WelcomeFollowUp,
        name: "welcome-2",
        title: "Welcome, second email",
        stored: CampaignKind::WelcomeFollowUp,
        offers: Offers::None,
        cap: Cap::Always,
        starts_off: true,
        wording: wording!("welcome-2"),
    },
    Kind {
        campaign: Campaign::MemberAnniversary,
        name: "membership",
        title: "Membership anniversary",
        stored: CampaignKind::MemberAnniversary,
        offers: Offers::None,
        cap: Cap::Occasion,
        starts_off: true,
        wording: wording!("membership"),
    },
    Kind {
        campaign: Campaign::NearingReward,
        name: "nearing-reward",
        title: "Nearing a reward",
        stored: CampaignKind::NearingReward,
        offers: Offers::None,
        cap: Cap::Always,
        starts_off: true,
        wording: wording!("nearing-reward"),
    },
];

/// The name deliveries of marketer-built campaigns carry; they always count toward the cap.
pub const CUSTOM: &str = "custom";

impl Campaign {
    /// Every campaign.
    pub const ALL: [Campaign; 11] = [
        Campaign::Birthday,
        Campaign::Anniversary,
        Campaign::WinBack,
        Campaign::PointsExpiry,
        Campaign::Welcome,
        Campaign::AtRisk,
        Campaign::TierUp,
        Campaign::Occasion,
        Campaign::WelcomeFollowUp,
        Campaign::MemberAnniversary,
        Campaign::NearingReward,
    ];

    /// Its row of [`KINDS`].
    pub fn kind(self) -> &'static Kind {
        &KINDS[self as usize]
    }

    /// Automations are off until a restaurant switches them on.
    pub fn starts_off(self) -> bool {
        self.kind().starts_off
    }

    /// Whether the frequency cap applies to it at this restaurant.
    pub fn capped(self, p: &Programme) -> bool {
        counts(self.name(), p.cap.occasions)
    }

    /// Name stored on deliveries and used for the wording's folder.
    pub fn name(self) -> &'static str {
        self.kind().name
    }

    /// The campaign named `name`.
    pub fn from_name(name: &str) -> Option<Campaign> {
        KINDS.iter().find(|k| k.name == name).map(|k| k.campaign)
    }

    /// The campaign of a built-in campaign row's kind (`None` for a marketer's).
    pub fn of_stored(stored: CampaignKind) -> Option<Campaign> {
        KINDS.iter().find(|k| k.stored == stored).map(|k| k.campaign)
    }

    /// The customer's consent flag this campaign needs besides `emailOptIn`.
    pub fn consent_column(self) -> customer::Column {
        match self.kind().offers {
            Offers::None => customer::Column::EmailOptIn,
            Offers::Birthday => customer::Column::BirthdayOffers,
            Offers::Anniversary => customer::Column::AnniversaryOffers,
            Offers::Special => customer::Column::SpecialOffers,
        }
    }

    /// The consent flags (GraphQL names) this campaign's emails rely on.
    pub fn consent_flags(self) -> &'static [&'static str] {
        match self.kind().offers {
            Offers::None => &["emailOptIn"],
            Offers::Birthday => &["emailOptIn", "birthdayOffers"],
            Offers::Anniversary => &["emailOptIn", "anniversaryOffers"],
            Offers::Special => &["emailOptIn", "specialOffers"],
        }
    }

    /// Whether `c` may receive this campaign now.
    pub fn may_email(self, c: &customer::Model) -> bool {
        let flag = match self.kind().offers {
            Offers::None => true,
            Offers::Birthday => c.birthday_offers,
            Offers::Anniversary => c.anniversary_offers,
            Offers::Special => c.special_offers,
        };
        c.email_index.is_some() && c.email_opt_in && flag && c.status != CustomerStatus::Blocked
    }
}

/// A tier benefit a campaign gives: a percentage off, for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    /// `birthday` or `win-back`.
    pub source: &'static str,
    /// The period it is for: a birthday's year, a win-back email's date.
    pub period_key: String,
    pub title: String,
    pub percent: u8,
    pub valid_days: u32,
}

/// The consent an email of a marketer's campaign needs: `emailOptIn`, and `specialOffers`
/// when it carries an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// `emailOptIn` only (news without an offer).
    Email,
    /// `emailOptIn` and `specialOffers` (an offer).
    Offers,
}

impl Consent {
    /// The consent a campaign with or without an offer needs.
    pub fn for_offer(offer: bool) -> Self {
        if offer { Consent::Offers } else { Consent::Email }
    }

    /// The flags (GraphQL names) its emails rely on.
    pub fn flags(self) -> &'static [&'static str] {
        match self {
            Consent::Email => &["emailOptIn"],
            Consent::Offers => &["emailOptIn", "specialOffers"],
        }
    }

    /// Whether `c` may receive such an email now.
    pub fn allows(self, c: &customer::Model) -> bool {
        c.email_index.is_some() && c.email_opt_in && (self == Consent::Email || c.special_offers) && c.status != CustomerStatus::Blocked
    }

    /// The consent flags of [`Consent::allows`] as a condition (address and status are the
    /// audience's own groups).
    pub fn condition(self) -> Condition {
        let mut all = Condition::all().add(customer::Column::EmailOptIn.eq(true));
        if self == Consent::Offers {
            all = all.add(customer::Column::SpecialOffers.eq(true));
        }
        all
    }
}

impl Campaign {
    /// The voucher this campaign's email for `period_key` carries: the birthday and the
    /// anniversary ones worth the member's tier discount (once a year each), the win-back one
    /// worth the restaurant's win-back offer (once per win-back email); none when the percentage
    /// is 0. An email promises an offer only through this voucher.
    pub fn benefit(self, p: &Programme, c: &customer::Model, period_key: &str) -> Option<Benefit> {
        let (percent, title) = match self {
            Campaign::Birthday => (p.discount_percent(c.tier), "Birthday"),
            Campaign::Anniversary => (p.discount_percent(c.tier), "Anniversary"),
            Campaign::WinBack => (p.win_back_percent, "Welcome back"),
            _ => return None,
        };
        (percent > 0).then(|| Benefit {
            source: self.name(),
            period_key: period_key.to_string(),
            title: format!("{title}: {percent}% off"),
            percent,
            valid_days: p.benefit_days,
        })
    }
}

/// The consent condition of [`Campaign::may_email`], for queries.
pub fn consented(campaign: Campaign) -> Condition {
    Condition::all()
        .add(customer::Column::EmailIndex.is_not_null())
        .add(customer::Column::EmailOptIn.eq(true))
        .add(campaign.consent_column().eq(true))
        .add(customer::Column::Status.ne(CustomerStatus::Blocked))
}

/// Whether an email of kind `name` counts toward the cap (an unknown kind does, to be safe).
pub fn counts(name: &str, occasions_included: bool) -> bool {
    match KINDS.iter().find(|k| k.name == name).map_or(Cap::Always, |k| k.cap) {
        Cap::Always => true,
        Cap::Occasion => occasions_included,
        Cap::Never => false,
    }
}

/// The delivery names that count toward the cap.
pub fn counted(occasions_included: bool) -> Vec<&'static str> {
    std::iter::once(CUSTOM).chain(KINDS.iter().map(|k| k.name)).filter(|n| counts(n, occasions_included)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enums_order_and_names_are_unique() {
        for (n, c) in Campaign::ALL.into_iter().enumerate() {
            assert_eq!(KINDS[n].campaign, c);
            assert_eq!(Campaign::from_name(c.name()), Some(c));
            assert_eq!(Campaign::of_stored(c.kind().stored), Some(c));
            assert_eq!(sea_orm::ActiveEnum::to_value(&c.kind().stored), c.name(), "stored as its delivery name");
        }
        assert_eq!(Campaign::of_stored(CampaignKind::Custom), None);
    }

    #[test]
    fn exempt_kinds_never_count_and_occasions_only_when_included() {
        for exempt in ["tier-up", "points-expiry"] {
            assert!(!counts(exempt, true) && !counts(exempt, false), "{exempt}");
        }
        for occasion in ["birthday", "anniversary", "occasion", "membership"] {
            assert!(counts(occasion, true) && !counts(occasion, false), "{occasion}");
        }
        assert!(counted(false).contains(&"custom") && counted(false).contains(&"win-back"));
        assert!(!counted(false).contains(&"membership") && counted(true).contains(&"membership"));
    }

    #[test]
    fn every_wording_has_a_subject_and_both_bodies() {
        for k in KINDS {
            assert!(!k.wording.subject.trim().is_empty() && k.wording.text.contains("{{") && k.wording.html.contains('<'), "{}", k.name);
        }
    }

    #[test]
    fn consent_follows_the_table_and_the_offer() {
        let now = chrono::Utc::now();
        let mut c = crate::testing::customer_fixture(now);
        c.email_index = Some("an email's blind index".into());
        c.email_opt_in = true;
        assert!(Campaign::Welcome.may_email(&c) && Consent::Email.allows(&c));
        assert!(!Campaign::WinBack.may_email(&c) && !Consent::Offers.allows(&c), "an offer needs specialOffers");
        c.special_offers = true;
        assert!(Campaign::WinBack.may_email(&c) && Consent::Offers.allows(&c));
        assert!(!Campaign::Birthday.may_email(&c), "birthdays need their own flag");
        c.status = CustomerStatus::Blocked;
        assert!(Campaign::ALL.iter().all(|k| !k.may_email(&c)) && !Consent::Email.allows(&c), "nobody emails a blocked member");
        assert_eq!(Consent::for_offer(true).flags(), &["emailOptIn", "specialOffers"]);
    }

    #[test]
    fn only_birthday_and_win_back_carry_a_voucher_and_none_at_zero_percent() {
        let mut p = Programme::default();
        let c = crate::testing::customer_fixture(chrono::Utc::now());
        assert_eq!(Campaign::WinBack.benefit(&p, &c, "2026-12-06"), None, "no win-back offer configured");
        p.win_back_percent = 15;
        let win_back = Campaign::WinBack.benefit(&p, &c, "2026-12-06").expect("a win-back voucher");
        assert_eq!((win_back.source, win_back.percent, win_back.period_key.as_str()), ("win-back", p.win_back_percent, "2026-12-06"));
        assert_eq!(Campaign::Birthday.benefit(&p, &c, "2026"), None, "bronze has no birthday discount");
        assert!(Campaign::ALL.iter().filter(|k| !matches!(k, Campaign::Birthday | Campaign::WinBack)).all(|k| k.benefit(&p, &c, "x").is_none()));
    }
}
