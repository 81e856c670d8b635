//! The text of a log object, whether it arrived gzip-compressed or plain.
//!
//! CloudTrail and VPC Flow Logs write gzip to S3 (several members when objects are concatenated);
//! exports, tests and backfills are often plain. Which one is told by content (the gzip magic
//! bytes), never by the key's suffix, which a copy or a rename can change. Every reader of
//! objects goes through [`Decompressed`], so all of them stream (the object never exists whole
//! in memory), count the bytes of text they read (the cost per GB is per GB of text), and stop
//! at the same cap on the text a small object may expand to (a gzip bomb ends in an error, not
//! in an out-of-memory kill).

use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, Read};

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether buffered input starts like gzip, looking without consuming. A lone first byte 0x1f
/// (an input of one byte) counts: it is a control character no log text starts with.
pub fn starts_like_gzip(input: &mut impl BufRead) -> io::Result<bool> {
    Ok(match input.fill_buf()? {
        [] => false,
        [first] => *first == GZIP_MAGIC[0],
        [first, second, ..] => [*first, *second] == GZIP_MAGIC,
    })
}

/// The error a [`Decompressed`] read returns once the text passes its cap; tell it from a real
/// read error with [`is_over_cap`].
#[derive(Debug, thiserror::Error)]
#[error("the object's text is longer than the cap")]
pub struct OverCap;

/// Whether a read error is [`OverCap`], possibly wrapped (serde_json wraps reader errors).
pub fn is_over_cap(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<OverCap>())
}

/// An object's text: plain input passed through, gzip (every member) decompressed as it is read.
pub struct Decompressed<R: BufRead> {
    inner: Inner<R>,
    cap: u64,
    bytes: u64,
}

enum Inner<R: BufRead> {
    Plain(R),
    Gzip(Box<MultiGzDecoder<R>>),
}

impl<R: BufRead> Decompressed<R> {
    /// Peeks at `input` to tell gzip from plain; reading more than `cap` bytes of text is an
    /// [`OverCap`] error (`u64::MAX` for none).
    pub fn new(mut input: R, cap: u64) -> io::Result<Self> {
        let inner = if starts_like_gzip(&mut input)? {
            Inner::Gzip(Box::new(MultiGzDecoder::new(input)))
        } else {
            Inner::Plain(input)
        };
        Ok(Self {
            inner,
            cap,
            bytes: 0,
        })
    }

    pub fn is_gzip(&self) -> bool {
        matches!(self.inner, Inner::Gzip(_))
    }

    /// Bytes of text read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }
}

impl<R: BufRead> Read for Decompressed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // One byte past the cap is allowed through, to tell "exactly the cap" from "more".
        let room = self.cap.saturating_add(1).saturating_sub(self.bytes);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = match &mut self.inner {
            Inner::Plain(r) => r.read(&mut buf[..want])?,
            Inner::Gzip(r) => r.read(&mut buf[..want])?,
        };
        self.bytes += n as u64;
        if self.bytes > self.cap {
            return Err(io::Error::other(OverCap));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(input: &[u8], cap: u64) -> io::Result<(Vec<u8>, bool, u64)> {
        let mut text = Decompressed::new(input, cap)?;
        let mut out = Vec::new();
        text.read_to_end(&mut out)?;
        Ok((out, text.is_gzip(), text.bytes_read()))
    }

    #[test]
    fn plain_and_gzip_read_the_same_and_every_member_is_read() {
        let plain = b"2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n";
        let len = plain.len() as u64;
        assert_eq!(
            read_all(plain, u64::MAX).unwrap(),
            (plain.to_vec(), false, len)
        );
        assert_eq!(
            read_all(&gzip(plain), u64::MAX).unwrap(),
            (plain.to_vec(), true, len)
        );
        let mut two = gzip(b"first\n");
        two.extend(gzip(b"second\n"));
        assert_eq!(read_all(&two, u64::MAX).unwrap().0, b"first\nsecond\n");
        assert_eq!(read_all(b"", u64::MAX).unwrap(), (Vec::new(), false, 0));
    }

    #[test]
    fn text_past_the_cap_is_an_error_that_says_so_exactly_the_cap_is_not() {
        let text = vec![b'a'; 1000];
        let bomb = gzip(&text);
        assert!(bomb.len() < 100, "compresses well: {} bytes", bomb.len());
        for input in [&text[..], &bomb[..]] {
            let err = read_all(input, 999).unwrap_err();
            assert!(is_over_cap(&err), "{err}");
            assert_eq!(read_all(input, 1000).unwrap().2, 1000);
        }
        assert!(!is_over_cap(&io::Error::other("something else")));
    }

    #[test]
    fn a_corrupt_gzip_stream_is_a_read_error_not_a_panic() {
        let mut broken = gzip(b"some text that is long enough to matter\n");
        let middle = broken.len() / 2;
        broken.truncate(middle);
        let err = read_all(&broken, u64::MAX).unwrap_err();
        assert!(!is_over_cap(&err));
        assert!(
            read_all(&[0x1f], u64::MAX).is_err(),
            "a lone magic byte reads as gzip"
        );
    }
}
