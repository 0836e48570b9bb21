//! Syslog over a byte stream (RFC 6587): each frame is either octet-counted (`LEN SP MSG`,
//! what RFC 5425 TLS senders and `logger --octet-count` use) or ends at LF (what rsyslog's
//! plain TCP forwarding and most others send). A frame that starts with a digit is
//! octet-counted; any other ends at the next LF (a trailing CR is removed). Pure: the caller
//! reads the socket into a buffer and takes frames from it.

use bytes::{Buf, Bytes, BytesMut};

/// What the decoder found at the front of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One message.
    Message(Bytes),
    /// A frame longer than the limit: skipped, with how many bytes it had (an LF-framed
    /// one up to its LF; an octet-counted one by its count).
    TooLong(usize),
}

/// Why the stream cannot go on (the connection is closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// The octet count is not a number of at most 9 digits followed by a space.
    #[error("invalid octet count: {0:?}")]
    BadCount(String),
}

/// Takes frames off a stream's buffer, none larger than `max` bytes.
#[derive(Debug)]
pub struct Decoder {
    max: usize,
    /// Bytes still to drop of a too-long frame.
    skipping: Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    None,
    /// Drop up to and including the next LF.
    ToNewline(usize),
    /// Drop this many more bytes.
    Count(usize),
}

impl Decoder {
    /// A decoder for frames of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            skipping: Skip::None,
        }
    }

    /// The next frame in `buffer`, or `None` when more bytes are needed. With `eof`, a final
    /// LF-framed message without its LF is returned too.
    pub fn next(&mut self, buffer: &mut BytesMut, eof: bool) -> Result<Option<Frame>, FramingError> {
        loop {
            match self.skipping {
                Skip::None => {}
                Skip::ToNewline(dropped) => match memchr(buffer) {
                    Some(at) => {
                        buffer.advance(at + 1);
                        self.skipping = Skip::None;
                        return Ok(Some(Frame::TooLong(dropped + at)));
                    }
                    None => {
                        self.skipping = Skip::ToNewline(dropped + buffer.len());
                        buffer.clear();
                        return Ok(eof.then_some(Frame::TooLong(dropped)).filter(|_| dropped > 0));
                    }
                },
                Skip::Count(left) => {
                    let take = left.min(buffer.len());
                    buffer.advance(take);
                    if take < left {
                        self.skipping = Skip::Count(left - take);
                        return Ok(None);
                    }
                    self.skipping = Skip::None;
                    continue;
                }
            }
            // Blank lines between frames carry nothing.
            while matches!(buffer.first(), Some(b'\n' | b'\r')) {
                buffer.advance(1);
            }
            let Some(first) = buffer.first() else {
                return Ok(None);
            };
            return if first.is_ascii_digit() {
                self.octet_counted(buffer)
            } else {
                Ok(self.line(buffer, eof))
            };
        }
    }

    fn octet_counted(&mut self, buffer: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        let digits = buffer.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 9 {
            return Err(FramingError::BadCount(
                String::from_utf8_lossy(&buffer[..digits]).into_owned(),
            ));
        }
        match buffer.get(digits) {
            None => return Ok(None),
            Some(b' ') => {}
            Some(_) => {
                let shown = String::from_utf8_lossy(&buffer[..(digits + 1).min(buffer.len())]).into_owned();
                return Err(FramingError::BadCount(shown));
            }
        }
        let count: usize = std::str::from_utf8(&buffer[..digits])
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| FramingError::BadCount(String::from_utf8_lossy(&buffer[..digits]).into_owned()))?;
        if count > self.max {
            buffer.advance(digits + 1);
            self.skipping = Skip::Count(count);
            return Ok(Some(Frame::TooLong(count)));
        }
        if buffer.len() < digits + 1 + count {
            return Ok(None);
        }
        buffer.advance(digits + 1);
        let message = buffer.split_to(count).freeze();
        Ok(Some(Frame::Message(trim_line_end(message))))
    }

    fn line(&mut self, buffer: &mut BytesMut, eof: bool) -> Option<Frame> {
        match memchr(buffer) {
            Some(at) if at > self.max => {
                buffer.advance(at + 1);
                Some(Frame::TooLong(at))
            }
            Some(at) => {
                let line = buffer.split_to(at + 1).freeze();
                Some(Frame::Message(trim_line_end(line)))
            }
            None if buffer.len() > self.max => {
                self.skipping = Skip::ToNewline(buffer.len());
                buffer.clear();
                None
            }
            None if eof => Some(Frame::Message(trim_line_end(buffer.split().freeze()))),
            None => None,
        }
    }
}

fn memchr(buffer: &[u8]) -> Option<usize> {
    buffer.iter().position(|b| *b == b'\n')
}

fn trim_line_end(mut message: Bytes) -> Bytes {
    while matches!(message.last(), Some(b'\n' | b'\r' | b'\0')) {
        message.truncate(message.len() - 1);
    }
    message
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn frames(input: &[&[u8]], max: usize) -> Vec<Frame> {
        let mut decoder = Decoder::new(max);
        let mut buffer = BytesMut::new();
        let mut out = Vec::new();
        for (i, chunk) in input.iter().enumerate() {
            buffer.extend_from_slice(chunk);
            let eof = i + 1 == input.len();
            while let Some(frame) = decoder.next(&mut buffer, eof).unwrap() {
                out.push(frame);
            }
        }
        out
    }

    fn message(text: &str) -> Frame {
        Frame::Message(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn octet_counted_and_lf_frames_mix_and_split_anywhere() {
        let stream = b"11 <13>1 - - a\n<14>second line\r\n4 <1>x7 <2>yyyy<3>tail";
        let whole = frames(&[stream], 100);
        let expected = vec![
            message("<13>1 - - a"),
            message("<14>second line"),
            message("<1>x"),
            message("<2>yyyy"),
            message("<3>tail"),
        ];
        assert_eq!(whole, expected);
        for cut in 1..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(frames(&[a, b], 100), expected, "cut at {cut}");
        }
    }

    #[test]
    fn too_long_frames_are_skipped_and_the_stream_goes_on() {
        let long = format!("<1>{}\n<2>ok\n", "x".repeat(50));
        assert_eq!(
            frames(&[long.as_bytes()], 20),
            vec![Frame::TooLong(53), message("<2>ok")]
        );
        let counted = format!("30 <1>{}<2>ok\n", "y".repeat(27));
        assert_eq!(
            frames(&[counted.as_bytes()], 20),
            vec![Frame::TooLong(30), message("<2>ok")]
        );
        let pieces = [&long.as_bytes()[..10], &long.as_bytes()[10..40], &long.as_bytes()[40..]];
        assert_eq!(frames(&pieces, 20), vec![Frame::TooLong(53), message("<2>ok")]);
    }

    #[test]
    fn a_bad_octet_count_ends_the_stream() {
        let mut decoder = Decoder::new(100);
        let mut buffer = BytesMut::from(&b"12x <1>a"[..]);
        assert!(decoder.next(&mut buffer, false).is_err());
        let mut buffer = BytesMut::from(&b"1234567890 <1>a"[..]);
        assert!(decoder.next(&mut buffer, false).is_err());
    }

    #[test]
    fn an_unfinished_frame_waits_for_more() {
        let mut decoder = Decoder::new(100);
        let mut buffer = BytesMut::from(&b"20 <1>abc"[..]);
        assert_eq!(decoder.next(&mut buffer, false).unwrap(), None);
        let mut buffer = BytesMut::from(&b"<1>no newline yet"[..]);
        assert_eq!(decoder.next(&mut buffer, false).unwrap(), None);
        assert_eq!(
            decoder.next(&mut buffer, true).unwrap(),
            Some(message("<1>no newline yet"))
        );
    }
}
