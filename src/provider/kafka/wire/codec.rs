//! The primitive types of Kafka's classic (non-flexible) request and response
//! formats: big-endian integers, strings with an `i16` length, arrays with an
//! `i32` count. Reading checks every length against what is left, so a short
//! or garbled answer is an error, never a panic or a huge allocation.

use std::fmt;

/// Builds a request body.
#[derive(Default)]
pub struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Encoder::default()
    }

    pub fn i8(&mut self, v: i8) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i16(&mut self, v: i16) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A string; Kafka's names are far shorter than `i16::MAX` bytes.
    pub fn string(&mut self, s: &str) -> &mut Self {
        let len = i16::try_from(s.len()).unwrap_or(i16::MAX);
        self.i16(len);
        self.bytes.extend_from_slice(&s.as_bytes()[..len as usize]);
        self
    }

    /// A nullable string, written as null (length -1).
    pub fn null_string(&mut self) -> &mut Self {
        self.i16(-1)
    }

    /// An array's element count.
    pub fn count(&mut self, n: usize) -> &mut Self {
        self.i32(i32::try_from(n).unwrap_or(i32::MAX))
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// An answer that does not parse as the format it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed answer: {}", self.0)
    }
}

/// Reads a response body front to back.
pub struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Decoder { bytes }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Malformed> {
        if self.bytes.len() < n {
            return Err(Malformed(format!("{what} needs {n} bytes, {} left", self.bytes.len())));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn i8(&mut self) -> Result<i8, Malformed> {
        Ok(i8::from_be_bytes(self.take(1, "an int8")?.try_into().expect("1 byte")))
    }

    pub fn i16(&mut self) -> Result<i16, Malformed> {
        Ok(i16::from_be_bytes(self.take(2, "an int16")?.try_into().expect("2 bytes")))
    }

    pub fn i32(&mut self) -> Result<i32, Malformed> {
        Ok(i32::from_be_bytes(self.take(4, "an int32")?.try_into().expect("4 bytes")))
    }

    pub fn i64(&mut self) -> Result<i64, Malformed> {
        Ok(i64::from_be_bytes(self.take(8, "an int64")?.try_into().expect("8 bytes")))
    }

    /// A nullable string; null reads as `None`.
    pub fn nullable_string(&mut self) -> Result<Option<String>, Malformed> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let bytes = self.take(len as usize, "a string")?;
        String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| Malformed("a string that is not UTF-8".to_owned()))
    }

    pub fn string(&mut self) -> Result<String, Malformed> {
        self.nullable_string()?.ok_or_else(|| Malformed("a null string where one is required".to_owned()))
    }

    /// An array's element count, checked against the bytes left (every element
    /// takes at least `min_element` bytes), so a garbled count cannot make a
    /// reader allocate for elements that are not there.
    pub fn count(&mut self, min_element: usize) -> Result<usize, Malformed> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(0);
        }
        let n = n as usize;
        if n.saturating_mul(min_element.max(1)) > self.bytes.len() {
            return Err(Malformed(format!("an array of {n} elements in {} bytes", self.bytes.len())));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_encoded_decodes_back() {
        let mut e = Encoder::new();
        e.i8(-2).i16(300).i32(-70_000).i64(1 << 40).string("orders").null_string().count(2);
        let bytes = e.into_bytes();
        assert_eq!(&bytes[..3], &[0xfe, 0x01, 0x2c]);
        let mut d = Decoder::new(&bytes);
        assert_eq!(d.i8().unwrap(), -2);
        assert_eq!(d.i16().unwrap(), 300);
        assert_eq!(d.i32().unwrap(), -70_000);
        assert_eq!(d.i64().unwrap(), 1 << 40);
        assert_eq!(d.string().unwrap(), "orders");
        assert_eq!(d.nullable_string().unwrap(), None);
        assert!(d.count(1).is_err(), "two elements claimed, none left");
    }

    #[test]
    fn short_or_garbled_input_is_an_error() {
        assert!(Decoder::new(&[0, 0, 1]).i32().is_err());
        assert!(Decoder::new(&[0, 5, b'a']).string().is_err());
        assert!(Decoder::new(&[0xff, 0xff]).string().is_err(), "null where a string is required");
        assert!(Decoder::new(&[0x7f, 0xff, 0xff, 0xff]).count(4).is_err(), "a huge count");
        assert!(Decoder::new(&[0, 2, 0xff, 0xfe]).string().is_err(), "not UTF-8");
    }
}
