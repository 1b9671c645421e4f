//! A request's body, read whole under the API's size limit and within the
//! daemon's `header_timeout`, so that a client trickling its body cannot hold
//! a connection and a task. Never a rejection: the handler answers, after
//! checking the token, with the API's JSON error shape.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use super::api::BODY_LIMIT;
use super::api_error::ApiError;
use super::state::Daemon;

pub struct BodyRead(pub Result<Bytes, ApiError>);

impl FromRequest<Arc<Daemon>> for BodyRead {
    type Rejection = std::convert::Infallible;

    async fn from_request(request: Request, daemon: &Arc<Daemon>) -> Result<Self, Self::Rejection> {
        let within = daemon.config.config.daemon.clone().unwrap_or_default().header_timeout;
        let read = axum::body::to_bytes(request.into_body(), BODY_LIMIT);
        let bytes = match tokio::time::timeout(within.duration, read).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) if is_too_large(&e) => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request body is over the limit of {BODY_LIMIT} bytes"),
            )),
            Ok(Err(_)) => Err(ApiError::bad_request("cannot read the request body")),
            Err(_) => Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("the request body did not arrive within {}", within.text),
            )),
        };
        Ok(BodyRead(bytes))
    }
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}
