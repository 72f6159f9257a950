//! Whole-token amounts: never zero, never negative, and always representable on the ledger.

use std::fmt;
use std::num::NonZeroU64;

/// Decimal places of the ledger's smallest unit.
pub const DECIMALS: u32 = 6;
const UNIT: u64 = 10u64.pow(DECIMALS);

/// A positive number of whole tokens. The ledger counts in millionths; the conversion is done
/// for you and cannot overflow, because construction refuses amounts it cannot carry.
///
/// ```
/// use mezon_mmn::TokenAmount;
///
/// let five = TokenAmount::new(5).unwrap();
/// assert_eq!(five.ledger_units(), "5000000");
/// assert!(TokenAmount::new(0).is_none());
/// assert_eq!(TokenAmount::try_from(-3i64), Err(mezon_mmn::InvalidAmount::NotPositive(-3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenAmount(NonZeroU64);

/// Why a number is not a [`TokenAmount`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidAmount {
    /// Zero or negative.
    #[error("a token amount must be positive, got {0}")]
    NotPositive(i64),
    /// More than the ledger can carry.
    #[error("{0} tokens is more than the ledger can carry (at most {max})", max = TokenAmount::MAX.get())]
    TooLarge(u64),
}

impl TokenAmount {
    /// The largest amount: `u64::MAX / 10^6` whole tokens.
    pub const MAX: TokenAmount = match NonZeroU64::new(u64::MAX / UNIT) {
        Some(max) => TokenAmount(max),
        None => unreachable!(),
    };

    /// `tokens` whole tokens; `None` for zero or more than [`TokenAmount::MAX`].
    pub const fn new(tokens: u64) -> Option<Self> {
        if tokens > Self::MAX.0.get() {
            return None;
        }
        match NonZeroU64::new(tokens) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// The number of whole tokens.
    pub const fn get(self) -> u64 {
        self.0.get()
    }

    /// The amount in the ledger's smallest unit, as the canonical decimal string a
    /// transaction carries (`5` tokens → `"5000000"`).
    pub fn ledger_units(self) -> String {
        // Cannot overflow: construction bounds the value by MAX.
        (self.0.get() * UNIT).to_string()
    }
}

impl TryFrom<u64> for TokenAmount {
    type Error = InvalidAmount;
    fn try_from(tokens: u64) -> Result<Self, InvalidAmount> {
        match tokens {
            0 => Err(InvalidAmount::NotPositive(0)),
            n => Self::new(n).ok_or(InvalidAmount::TooLarge(n)),
        }
    }
}

impl TryFrom<i64> for TokenAmount {
    type Error = InvalidAmount;
    fn try_from(tokens: i64) -> Result<Self, InvalidAmount> {
        u64::try_from(tokens)
            .map_err(|_| InvalidAmount::NotPositive(tokens))
            .and_then(Self::try_from)
    }
}

impl TryFrom<i32> for TokenAmount {
    type Error = InvalidAmount;
    fn try_from(tokens: i32) -> Result<Self, InvalidAmount> {
        Self::try_from(i64::from(tokens))
    }
}

impl TryFrom<u32> for TokenAmount {
    type Error = InvalidAmount;
    fn try_from(tokens: u32) -> Result<Self, InvalidAmount> {
        Self::try_from(u64::from(tokens))
    }
}

impl From<NonZeroU64> for TokenAmount {
    /// Saturates at [`TokenAmount::MAX`].
    fn from(tokens: NonZeroU64) -> Self {
        Self::new(tokens.get()).unwrap_or(Self::MAX)
    }
}

impl fmt::Display for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for TokenAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenAmount({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_units_have_six_decimals() {
        assert_eq!(
            TokenAmount::new(1)
                .map(TokenAmount::ledger_units)
                .as_deref(),
            Some("1000000")
        );
        assert_eq!(
            TokenAmount::MAX.ledger_units(),
            (TokenAmount::MAX.get() * 1_000_000).to_string()
        );
    }

    #[test]
    fn zero_negative_and_huge_amounts_are_refused() {
        assert_eq!(
            TokenAmount::try_from(0u64),
            Err(InvalidAmount::NotPositive(0))
        );
        assert_eq!(
            TokenAmount::try_from(-1i32),
            Err(InvalidAmount::NotPositive(-1))
        );
        let too_big = TokenAmount::MAX.get() + 1;
        assert_eq!(
            TokenAmount::try_from(too_big),
            Err(InvalidAmount::TooLarge(too_big))
        );
        assert_eq!(TokenAmount::try_from(7u32).map(TokenAmount::get), Ok(7));
    }
}
