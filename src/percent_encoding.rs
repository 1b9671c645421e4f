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
