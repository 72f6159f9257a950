//! Socket frames: telling envelopes, raw API answers and binary pongs apart, and the raw
//! answer chunk codec (`wire.md` §3.1–§3.2). Pure functions over bytes; the local test server
//! uses the same code to write what this module reads.

use bytes::{BufMut, Bytes, BytesMut};

/// First byte of a raw API answer chunk. Never a valid protobuf start (wire type 7).
pub const RAW_MARKER: u8 = 0xFF;
/// First byte of a binary pong `[0x00, cid_hi, cid_lo]`. Never a valid protobuf start (field 0).
pub const BINARY_PONG_MARKER: u8 = 0x00;
/// Low 16 bits of the code word on the final chunk of an answer.
pub const FIN_FLAG: u16 = 0x00FF;
/// Header length of a final chunk: marker, cid (u16), code word (u32).
pub const FIN_HEADER_LEN: usize = 7;
/// Header length of a non-final chunk: the final header plus a u32 payload length.
pub const CHUNK_HEADER_LEN: usize = 11;

/// One server → client frame, classified by its first byte without decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A serialized `mezon.realtime.Envelope` (not yet decoded).
    Envelope(Bytes),
    /// One chunk of a raw API answer.
    RawChunk(RawChunk),
    /// A binary pong carrying the cid of the binary ping it answers.
    BinaryPong {
        /// The cid echoed by the server.
        cid: u16,
    },
}

/// One chunk of a raw API answer (`0xFF` frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    /// The cid of the `api_request_event` this answers.
    pub cid: u16,
    /// 0 = OK; anything else means the call failed.
    pub status: u16,
    /// Whether this is the last chunk of the answer.
    pub fin: bool,
    /// This chunk's part of the serialized response message.
    pub payload: Bytes,
}

/// A frame that cannot be classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame has no bytes at all.
    #[error("empty frame")]
    Empty,
    /// A raw answer frame shorter than its fixed header.
    #[error("raw answer frame of {len} bytes is shorter than its {FIN_HEADER_LEN}-byte header")]
    TruncatedRawHeader {
        /// The frame length.
        len: usize,
    },
}

/// Classifies one binary frame from the server.
///
/// ```
/// use bytes::Bytes;
/// use mezon_transport::frame::{classify, Frame};
///
/// let pong = classify(Bytes::from_static(&[0x00, 0x01, 0x02])).unwrap();
/// assert_eq!(pong, Frame::BinaryPong { cid: 0x0102 });
/// ```
pub fn classify(frame: Bytes) -> Result<Frame, FrameError> {
    match frame.first() {
        None => Err(FrameError::Empty),
        Some(&RAW_MARKER) => decode_raw_chunk(frame).map(Frame::RawChunk),
        Some(&BINARY_PONG_MARKER) if frame.len() == 3 => Ok(Frame::BinaryPong {
            cid: u16::from_be_bytes([frame[1], frame[2]]),
        }),
        Some(_) => Ok(Frame::Envelope(frame)),
    }
}

fn decode_raw_chunk(frame: Bytes) -> Result<RawChunk, FrameError> {
    if frame.len() < FIN_HEADER_LEN {
        return Err(FrameError::TruncatedRawHeader { len: frame.len() });
    }
    let cid = u16::from_be_bytes([frame[1], frame[2]]);
    let status = u16::from_be_bytes([frame[3], frame[4]]);
    let fin = u16::from_be_bytes([frame[5], frame[6]]) == FIN_FLAG;
    // Non-final chunks carry a u32 length after the header (desktop-client form); some senders
    // omit it. Trust the length only when it accounts for the rest of the frame exactly.
    let payload_start = if !fin && frame.len() >= CHUNK_HEADER_LEN {
        let declared = u32::from_be_bytes([frame[7], frame[8], frame[9], frame[10]]) as usize;
        if declared == frame.len() - CHUNK_HEADER_LEN {
            CHUNK_HEADER_LEN
        } else {
            FIN_HEADER_LEN
        }
    } else {
        FIN_HEADER_LEN
    };
    Ok(RawChunk {
        cid,
        status,
        fin,
        payload: frame.slice(payload_start..),
    })
}

/// Encodes one raw answer chunk; non-final chunks get the 11-byte header with a length.
pub fn encode_raw_chunk(chunk: &RawChunk) -> Bytes {
    let header = if chunk.fin {
        FIN_HEADER_LEN
    } else {
        CHUNK_HEADER_LEN
    };
    let mut out = BytesMut::with_capacity(header + chunk.payload.len());
    out.put_u8(RAW_MARKER);
    out.put_u16(chunk.cid);
    out.put_u16(chunk.status);
    out.put_u16(if chunk.fin { FIN_FLAG } else { 0 });
    if !chunk.fin {
        // A chunk larger than u32::MAX cannot be produced by `encode_raw_answer`.
        out.put_u32(u32::try_from(chunk.payload.len()).unwrap_or(u32::MAX));
    }
    out.extend_from_slice(&chunk.payload);
    out.freeze()
}

/// Splits a whole answer into frames of at most `max_payload` payload bytes each (at least one
/// frame, the last one final).
pub fn encode_raw_answer(cid: u16, status: u16, payload: &Bytes, max_payload: usize) -> Vec<Bytes> {
    let max_payload = max_payload.clamp(1, u32::MAX as usize);
    let mut frames = Vec::with_capacity(payload.len() / max_payload + 1);
    let mut offset = 0;
    loop {
        let end = (offset + max_payload).min(payload.len());
        let fin = end == payload.len();
        frames.push(encode_raw_chunk(&RawChunk {
            cid,
            status,
            fin,
            payload: payload.slice(offset..end),
        }));
        if fin {
            return frames;
        }
        offset = end;
    }
}

/// Encodes a binary pong `[0x00, cid_hi, cid_lo]`.
pub fn encode_binary_pong(cid: u16) -> Bytes {
    let [hi, lo] = cid.to_be_bytes();
    Bytes::copy_from_slice(&[BINARY_PONG_MARKER, hi, lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(frame: &[u8]) -> RawChunk {
        match classify(Bytes::copy_from_slice(frame)) {
            Ok(Frame::RawChunk(chunk)) => chunk,
            other => panic!("not a raw chunk: {other:?}"),
        }
    }

    #[test]
    fn classifies_by_first_byte() {
        assert_eq!(classify(Bytes::new()), Err(FrameError::Empty));
        assert_eq!(
            classify(Bytes::from_static(&[0xFF, 0, 1])),
            Err(FrameError::TruncatedRawHeader { len: 3 })
        );
        let envelope = Bytes::from_static(&[0x08, 0x01]);
        assert_eq!(classify(envelope.clone()), Ok(Frame::Envelope(envelope)));
        // A zero first byte of another length is not a pong; the envelope decoder reports it.
        assert!(matches!(
            classify(Bytes::from_static(&[0, 1])),
            Ok(Frame::Envelope(_))
        ));
    }

    #[test]
    fn round_trips_chunks_with_and_without_length() {
        let payload = Bytes::from((0..=255u8).cycle().take(1000).collect::<Vec<_>>());
        let frames = encode_raw_answer(0xABCD, 0, &payload, 300);
        assert_eq!(frames.len(), 4);
        let mut joined = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let c = chunk(frame);
            assert_eq!((c.cid, c.status, c.fin), (0xABCD, 0, i == 3));
            joined.extend_from_slice(&c.payload);
        }
        assert_eq!(joined, payload);

        // The 7-byte header form of a non-final chunk (TypeScript SDK's reading).
        let short = [0xFF, 0, 9, 0, 0, 0, 0, 1, 2, 3];
        assert_eq!(chunk(&short).payload.as_ref(), &[1, 2, 3]);
    }

    #[test]
    fn empty_answer_is_one_final_frame() {
        let frames = encode_raw_answer(5, 7, &Bytes::new(), 100);
        assert_eq!(frames.len(), 1);
        let c = chunk(&frames[0]);
        assert_eq!((c.cid, c.status, c.fin, c.payload.len()), (5, 7, true, 0));
    }

    #[test]
    fn binary_pong_round_trip() {
        assert_eq!(
            classify(encode_binary_pong(513)),
            Ok(Frame::BinaryPong { cid: 513 })
        );
    }
}
