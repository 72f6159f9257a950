//! Building, signing and checking a transfer: the bytes that are signed, the flat
//! `extra_info`, the note's limits, and the `signature` field's encoding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use mezon_proto::mmn::{SignedTxMsg, TxMsg};

use crate::address::Address;
use crate::amount::TokenAmount;
use crate::key::EphemeralKey;

/// `TxMsg.type` of a transfer.
pub const TRANSFER_TYPE: i32 = 0;
/// Largest note (`text_data`) the node accepts, in bytes.
pub const MAX_NOTE_BYTES: usize = 512;
/// Sequences the node refuses inside text fields (template and encoded-newline injection).
pub const FORBIDDEN_SEQUENCES: [&str; 7] = ["}}", "{{", "${", "%0a", "%0A", "%0d", "%0D"];

/// Why a note cannot go on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidNote {
    /// Longer than [`MAX_NOTE_BYTES`].
    #[error("the note is {0} bytes; the ledger takes at most {MAX_NOTE_BYTES}")]
    TooLong(usize),
    /// Holds a sequence the node refuses (see [`FORBIDDEN_SEQUENCES`]).
    #[error("the note contains {0:?}, which the ledger refuses")]
    Forbidden(&'static str),
}

/// Checks a note (or any text field) against the node's rules.
pub fn check_note(note: &str) -> Result<(), InvalidNote> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(InvalidNote::TooLong(note.len()));
    }
    forbidden_sequence(note).map_or(Ok(()), |s| Err(InvalidNote::Forbidden(s)))
}

/// The first sequence of [`FORBIDDEN_SEQUENCES`] inside `text`.
pub fn forbidden_sequence(text: &str) -> Option<&'static str> {
    FORBIDDEN_SEQUENCES.into_iter().find(|s| text.contains(s))
}

/// The parties of a token transfer, as `extra_info` names them. Serialized as a flat JSON
/// object of strings with `"type":"transfer_token"`, which makes the chat server push
/// `token_sent_event`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransferInfo {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "UserSenderId")]
    sender_id: String,
    #[serde(
        rename = "UserSenderUsername",
        skip_serializing_if = "String::is_empty"
    )]
    sender_username: String,
    #[serde(rename = "UserReceiverId")]
    receiver_id: String,
}

impl TransferInfo {
    /// A transfer from `sender_id` (named `sender_username`, may be empty) to `receiver_id`.
    pub fn new(sender_id: i64, sender_username: &str, receiver_id: i64) -> Self {
        Self {
            kind: "transfer_token",
            sender_id: sender_id.to_string(),
            sender_username: sender_username.to_owned(),
            receiver_id: receiver_id.to_string(),
        }
    }

    /// The flat JSON object.
    pub fn to_json(&self) -> String {
        // A struct of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// An unsigned transfer. Build it, then [`sign`](UnsignedTransfer::sign) it with a nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedTransfer {
    /// Sender address.
    pub sender: Address,
    /// Recipient address.
    pub recipient: Address,
    /// Amount.
    pub amount: TokenAmount,
    /// The note (`text_data`).
    pub note: String,
    /// The `extra_info` JSON.
    pub extra_info: String,
}

/// The ZK proof that binds an ephemeral key to its user, as the prover returned it.
#[derive(Clone, PartialEq, Eq)]
pub struct ZkProof {
    /// `proof` (standard base64).
    pub proof: String,
    /// `public_input` (standard base64).
    pub public_input: String,
}

impl std::fmt::Debug for ZkProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkProof")
            .field("proof", &format_args!("<{} chars>", self.proof.len()))
            .field(
                "public_input",
                &format_args!("<{} chars>", self.public_input.len()),
            )
            .finish()
    }
}

impl UnsignedTransfer {
    /// The transaction message with `nonce`, `timestamp_ms` and the proof filled in.
    pub fn tx_msg(&self, nonce: u64, timestamp_ms: u64, proof: &ZkProof) -> TxMsg {
        TxMsg {
            r#type: TRANSFER_TYPE,
            sender: self.sender.as_str().to_owned(),
            recipient: self.recipient.as_str().to_owned(),
            amount: self.amount.ledger_units(),
            timestamp: timestamp_ms,
            text_data: self.note.clone(),
            nonce,
            extra_info: self.extra_info.clone(),
            zk_proof: proof.proof.clone(),
            zk_pub: proof.public_input.clone(),
        }
    }

    /// Signs the transaction of [`tx_msg`](UnsignedTransfer::tx_msg) with `key`.
    pub fn sign(
        &self,
        key: &EphemeralKey,
        nonce: u64,
        timestamp_ms: u64,
        proof: &ZkProof,
    ) -> SignedTxMsg {
        let tx_msg = self.tx_msg(nonce, timestamp_ms, proof);
        let signature = key.signature_field(signed_bytes(&tx_msg).as_bytes());
        SignedTxMsg {
            tx_msg: Some(tx_msg),
            signature,
        }
    }
}

/// What is signed: `"{type}|{sender}|{recipient}|{amount}|{text_data}|{nonce}|{extra_info}"`
/// (timestamp and ZK fields are not covered).
pub fn signed_bytes(tx: &TxMsg) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        tx.r#type, tx.sender, tx.recipient, tx.amount, tx.text_data, tx.nonce, tx.extra_info
    )
}

/// Why a `signature` field does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadSignature {
    /// Not base58, not the JSON object, or not standard base64 inside.
    #[error("the signature field is malformed: {0}")]
    Malformed(&'static str),
    /// Well formed, but not a signature of these bytes by this key.
    #[error("the signature does not match the transaction")]
    Mismatch,
}

#[derive(serde::Deserialize)]
struct SignatureJson {
    #[serde(rename = "PubKey")]
    pub_key: String,
    #[serde(rename = "Sig")]
    sig: String,
}

/// Decodes a `signature` field into the public key it carries and the signature.
pub fn decode_signature_field(field: &str) -> Result<([u8; 32], [u8; 64]), BadSignature> {
    let json = bs58::decode(field)
        .into_vec()
        .map_err(|_| BadSignature::Malformed("not base58"))?;
    let parsed: SignatureJson = serde_json::from_slice(&json)
        .map_err(|_| BadSignature::Malformed("not the JSON object"))?;
    let public = STANDARD
        .decode(parsed.pub_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(BadSignature::Malformed("PubKey is not 32 bytes of base64"))?;
    let signature = STANDARD
        .decode(parsed.sig)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or(BadSignature::Malformed("Sig is not 64 bytes of base64"))?;
    Ok((public, signature))
}

/// Verifies a transaction's `signature` field over its signed bytes, with the key the field
/// carries (what the node does); returns that public key.
pub fn verify_signed_tx(tx: &TxMsg, field: &str) -> Result<[u8; 32], BadSignature> {
    let (public, signature) = decode_signature_field(field)?;
    let key = VerifyingKey::from_bytes(&public)
        .map_err(|_| BadSignature::Malformed("PubKey is not a curve point"))?;
    key.verify_strict(
        signed_bytes(tx).as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| BadSignature::Mismatch)?;
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::tests::{unhex, vector_key};

    const SIGNED: &str = r#"0|3HrFWaMTbuPnnKse1n7qajodYgXTiXLe2g45MFrMAopU|Fv78qbCWWJXUCGQPhmcqWGjdYYHZsWF28p3rNDTHM3Ww|5000000|Transfer funds|123456|{"type":"transfer_token","UserSenderId":"1234567890123456789","UserReceiverId":"9876543210987654321"}"#;
    const SIGNATURE_HEX: &str = "26072d0e57a136baa2443c7de32b675331f64f03ff415ebe6f5190358310d4d6347a6c0be253ba46073d710c80b3b0a3847080e0c0490d22f6542b4fd1302b00";
    const SIGNATURE_JSON: &str = r#"{"PubKey":"DR360pwgwT3M/yE/UtL5ijlaAiS1FZYo0r2wd89AJqc=","Sig":"JgctDlehNrqiRDx94ytnUzH2TwP/QV6+b1GQNYMQ1NY0emwL4lO6Rgc9cQyAs7CjhHCA4MBJDSL2VCtP0TArAA=="}"#;
    const SIGNATURE_FIELD: &str = "2hmtNf4MMkiMiyrBgtD5AQrnd56kN6X2sUm4Un52YEtm9q7N6iQYik3CdGKEjYfp14FNF6qX7znwAr88yX9fRoL9eNGDhDzx3hRGKZSoxfPw4KTG5edGnWYRusg66mYc9CrHVfGUFg83T98LjK8JmYv3spybcxNU8GtDef8SQeNaVJRjp3hRtY4yLwTkPQuba22LW86iuzEY6uKzqR6";

    fn vector_transfer() -> UnsignedTransfer {
        UnsignedTransfer {
            sender: Address::of_user(1234567890123456789),
            recipient: Address::of_user_str("9876543210987654321"),
            amount: TokenAmount::new(5).expect("positive"),
            note: "Transfer funds".to_owned(),
            extra_info: r#"{"type":"transfer_token","UserSenderId":"1234567890123456789","UserReceiverId":"9876543210987654321"}"#.to_owned(),
        }
    }

    fn proof() -> ZkProof {
        ZkProof {
            proof: "cHJvb2Y=".to_owned(),
            public_input: "cHVi".to_owned(),
        }
    }

    #[test]
    fn signed_bytes_match_the_vector() {
        let tx = vector_transfer().tx_msg(123456, 1_700_000_000_000, &proof());
        let bytes = signed_bytes(&tx);
        assert_eq!(bytes, SIGNED);
        assert_eq!(bytes.len(), 223);
    }

    #[test]
    fn signature_and_signature_field_match_the_vector() {
        let key = vector_key();
        assert_eq!(key.sign(SIGNED.as_bytes()).to_vec(), unhex(SIGNATURE_HEX));
        assert_eq!(
            bs58::encode(SIGNATURE_JSON).into_string(),
            SIGNATURE_FIELD,
            "the JSON of the vector encodes to the vector's field"
        );
        let signed = vector_transfer().sign(&key, 123456, 42, &proof());
        assert_eq!(signed.signature, SIGNATURE_FIELD);
        let json = bs58::decode(&signed.signature).into_vec().expect("base58");
        assert_eq!(String::from_utf8(json).expect("utf-8"), SIGNATURE_JSON);
    }

    #[test]
    fn the_vector_verifies_and_a_changed_field_does_not() {
        let tx = vector_transfer().tx_msg(123456, 0, &proof());
        assert_eq!(
            verify_signed_tx(&tx, SIGNATURE_FIELD).map(|k| k.to_vec()),
            Ok(unhex(
                "0d1dfad29c20c13dccff213f52d2f98a395a0224b5159628d2bdb077cf4026a7"
            ))
        );
        let mut other = tx.clone();
        other.amount = "5000001".to_owned();
        assert_eq!(
            verify_signed_tx(&other, SIGNATURE_FIELD),
            Err(BadSignature::Mismatch)
        );
        // Timestamp and proof are not signed: the node may overwrite the timestamp.
        let mut restamped = tx;
        restamped.timestamp = 99;
        assert!(verify_signed_tx(&restamped, SIGNATURE_FIELD).is_ok());
        assert!(matches!(
            verify_signed_tx(&restamped, "0OIl"),
            Err(BadSignature::Malformed(_))
        ));
    }

    #[test]
    fn extra_info_is_flat_and_in_the_vector_order() {
        let info = TransferInfo::new(1234567890123456789, "", 987654321);
        assert_eq!(
            info.to_json(),
            r#"{"type":"transfer_token","UserSenderId":"1234567890123456789","UserReceiverId":"987654321"}"#
        );
        let named = TransferInfo::new(1, "bot", 2).to_json();
        assert_eq!(
            named,
            r#"{"type":"transfer_token","UserSenderId":"1","UserSenderUsername":"bot","UserReceiverId":"2"}"#
        );
    }

    #[test]
    fn notes_are_checked() {
        assert_eq!(check_note(""), Ok(()));
        assert_eq!(check_note(&"a".repeat(512)), Ok(()));
        assert_eq!(check_note(&"a".repeat(513)), Err(InvalidNote::TooLong(513)));
        assert_eq!(check_note("hi ${x}"), Err(InvalidNote::Forbidden("${")));
        assert_eq!(check_note("a%0ab"), Err(InvalidNote::Forbidden("%0a")));
    }
}
