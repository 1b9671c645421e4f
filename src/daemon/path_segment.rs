//! The one name an API path carries (`/runbooks/{name}`, `/runs/{id}`), read
//! so that a segment that is not UTF-8 once percent-decoded (`%ff`) is a 400
//! in the API's JSON error shape, not axum's plain-text rejection.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::api_error::ApiError;

pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(segment)) => Ok(Segment(segment)),
            Err(_) => Err(ApiError::bad_request("the path is not valid: a name in it is not UTF-8 once decoded")),
        }
    }
}
