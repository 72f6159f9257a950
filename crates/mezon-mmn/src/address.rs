//! Ledger addresses: `base58(SHA-256(decimal user id))`, the same function for every user.

use std::fmt;

use sha2::{Digest, Sha256};

/// A ledger address (43–44 base58 characters).
///
/// ```
/// use mezon_mmn::Address;
///
/// let address = Address::of_user(3767478432163172990);
/// assert_eq!(address.as_str(), "DqrAfFo3yDQJhKuUo948RG4XfygHJPEe4UhcXxHF8hS2");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(String);

impl Address {
    /// The address of the Mezon user with this id.
    pub fn of_user(user_id: i64) -> Self {
        Self::of_user_str(&user_id.to_string())
    }

    /// The address of a user id given as its decimal string, exactly as the string is.
    pub fn of_user_str(user_id: &str) -> Self {
        Self(bs58::encode(Sha256::digest(user_id.as_bytes())).into_string())
    }

    /// The address as it goes on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Address;

    /// The address vectors of the protocol notes (mmn.md, "Test vectors").
    #[test]
    fn addresses_match_the_protocol_vectors() {
        let vectors = [
            (
                "3767478432163172990",
                "DqrAfFo3yDQJhKuUo948RG4XfygHJPEe4UhcXxHF8hS2",
            ),
            ("0", "7TTGKXuhDL4XHeo2J2ZfKijhY4J8wYhPMHagzdUh6ZSQ"),
            ("1", "8EjkXVSTxMFjCvNNsTo8RBMDEVQmk7gYkW4SCDuvdsBG"),
            (
                "1234567890123456789",
                "3HrFWaMTbuPnnKse1n7qajodYgXTiXLe2g45MFrMAopU",
            ),
            (
                "9876543210987654321",
                "Fv78qbCWWJXUCGQPhmcqWGjdYYHZsWF28p3rNDTHM3Ww",
            ),
        ];
        for (id, expected) in vectors {
            assert_eq!(Address::of_user_str(id).as_str(), expected, "addr({id})");
        }
        assert_eq!(
            Address::of_user(1234567890123456789),
            Address::of_user_str("1234567890123456789")
        );
    }
}
