//! How a customer's status follows from what happened.

use crate::entities::CustomerStatus;

/// The status after the rules ran: `blocked` stays; a visit makes anyone else `active` (or
/// `dormant`, when it is an order recorded so late that the member is dormant even with it, as
/// the visit on time and the dormancy job since would have left them); otherwise dormancy moves
/// `active` ↔ `dormant` and leaves `inactive` alone.
pub fn derived_status(current: CustomerStatus, dormant: bool, visited_now: bool) -> CustomerStatus {
    use CustomerStatus::*;
    match current {
        Blocked => Blocked,
        _ if visited_now => {
            if dormant {
                Dormant
            } else {
                Active
            }
        }
        Active | Dormant if dormant => Dormant,
        Dormant => Active,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CustomerStatus::*;

    #[test]
    fn blocked_stays_blocked() {
        assert_eq!(derived_status(Blocked, true, true), Blocked);
    }

    #[test]
    fn a_visit_reactivates() {
        assert_eq!(derived_status(Dormant, false, true), Active);
        assert_eq!(derived_status(Inactive, false, true), Active);
        assert_eq!(derived_status(Inactive, true, true), Dormant, "a visit recorded long after it happened");
    }

    #[test]
    fn dormancy_moves_between_active_and_dormant() {
        assert_eq!(derived_status(Active, true, false), Dormant);
        assert_eq!(derived_status(Dormant, false, false), Active);
        assert_eq!(derived_status(Dormant, true, false), Dormant);
        assert_eq!(derived_status(Inactive, true, false), Inactive);
    }
}
