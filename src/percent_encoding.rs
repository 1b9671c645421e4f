//! Percent-encoding: ASCII letters and digits and the bytes a caller names
//! stay as they are, every other byte of the UTF-8 becomes `%XX` (uppercase).

pub fn percent_encode(text: &str, also_kept: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || also_kept.contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The reverse of `percent_encode`: each `%XX` becomes its byte; a `%` not
/// followed by two hex digits stays as it is. Invalid UTF-8 is replaced.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_undoes_encoding_and_leaves_stray_percents() {
        let text = "a b/ü%";
        assert_eq!(percent_decode(&percent_encode(text, b"")), text);
        assert_eq!(percent_decode("100%_%4"), "100%_%4");
    }
}
