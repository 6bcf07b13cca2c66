//! Daily capacity arithmetic: how a partner's daily limit splits into premium and raw.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quotas {
    pub premium: u32,
    pub raw: u32,
}

/// `premium = round(daily_limit × premium_ratio / 100)` (halves round up), `raw` the rest,
/// so the two always add up to the limit.
pub fn quotas(daily_limit: u32, premium_ratio: u8) -> Quotas {
    let ratio = u64::from(premium_ratio.min(100));
    let premium = ((u64::from(daily_limit) * ratio + 50) / 100) as u32;
    Quotas {
        premium,
        raw: daily_limit - premium,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn guide_example_partner_gets_35_premium_and_15_raw() {
        assert_eq!(
            quotas(50, 70),
            Quotas {
                premium: 35,
                raw: 15
            }
        );
    }

    #[test]
    fn edges_and_halves() {
        assert_eq!(
            quotas(10, 0),
            Quotas {
                premium: 0,
                raw: 10
            }
        );
        assert_eq!(
            quotas(10, 100),
            Quotas {
                premium: 10,
                raw: 0
            }
        );
        assert_eq!(
            quotas(5, 50),
            Quotas { premium: 3, raw: 2 },
            "2.5 rounds up"
        );
        assert_eq!(quotas(1, 49), Quotas { premium: 0, raw: 1 });
        assert_eq!(quotas(3, 33), Quotas { premium: 1, raw: 2 });
    }

    proptest! {
        #[test]
        fn quotas_add_up_to_the_limit_and_track_the_ratio(limit in 1u32..1_000_000, ratio in 0u8..=100) {
            let q = quotas(limit, ratio);
            prop_assert_eq!(q.premium + q.raw, limit);
            let exact = f64::from(limit) * f64::from(ratio) / 100.0;
            prop_assert!((f64::from(q.premium) - exact).abs() <= 0.5);
        }
    }
}
