//! Request signing for the cloud management APIs: Tencent Cloud's
//! TC3-HMAC-SHA256 ([`tc3`]) and Huawei Cloud APIG's SDK-HMAC-SHA256
//! ([`sdk_hmac`]). Both are pure functions of the request bytes, the time and
//! the key, proven by the vendors' published test vectors. The pieces a
//! verifier needs (canonical request, signature) are public too, so the test
//! emulators check a client's request exactly as the clouds do.

mod digest;
pub mod sdk_hmac;
pub mod tc3;

pub use digest::{hex, hmac_sha256, sha256_hex};
