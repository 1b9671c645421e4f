//! The console's one asset, its stylesheet, compiled into the binary and
//! served under a name that carries its digest, so browsers may keep it
//! forever and a new build is fetched anew. Nothing comes from elsewhere.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const STYLESHEET: &str = include_str!("assets/console.css");

static STYLESHEET_PATH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLESHEET.as_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("/ui/assets/console.{short}.css")
});

pub fn stylesheet_path() -> &'static str {
    &STYLESHEET_PATH
}

pub async fn serve(Path(file): Path<String>) -> Response {
    if format!("/ui/assets/{file}") != *STYLESHEET_PATH {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}
