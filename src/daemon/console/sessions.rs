//! Console logins: a session id handed out as a cookie in exchange for an API
//! token, with the caller it stands for, its CSRF token and when it ends.
//! Sessions live in the daemon's memory: a restart logs everyone out, and
//! no session id is ever written down. Ids are kept by their SHA-256, so the
//! table never holds a usable id either.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::daemon::auth::Caller;

/// Sessions held at once; past this, the one nearest its end makes room.
const MOST_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    /// Sent back with every form that changes something.
    pub csrf: String,
    pub ends_at: DateTime<Utc>,
    ends: Instant,
}

pub struct Sessions {
    lasts: Duration,
    held: Mutex<HashMap<[u8; 32], Session>>,
}

/// 32 bytes from the operating system's generator, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random generator");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    pub fn new(lasts: Duration) -> Self {
        Sessions { lasts, held: Mutex::new(HashMap::new()) }
    }

    pub fn lasts(&self) -> Duration {
        self.lasts
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new session for `caller`: its id (for the cookie) and the session.
    pub fn open(&self, caller: Caller) -> (String, Session) {
        let id = random_token();
        let session = Session {
            caller,
            csrf: random_token(),
            ends_at: Utc::now() + self.lasts,
            ends: Instant::now() + self.lasts,
        };
        let mut held = self.held();
        let now = Instant::now();
        held.retain(|_, s| s.ends > now);
        if held.len() >= MOST_SESSIONS
            && let Some(oldest) = held.iter().min_by_key(|(_, s)| s.ends).map(|(k, _)| *k)
        {
            held.remove(&oldest);
        }
        held.insert(key(&id), session.clone());
        (id, session)
    }

    /// The live session with this id.
    pub fn find(&self, id: &str) -> Option<Session> {
        let mut held = self.held();
        let key = key(id);
        match held.get(&key) {
            Some(session) if session.ends > Instant::now() => Some(session.clone()),
            Some(_) => {
                held.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, id: &str) {
        self.held().remove(&key(id));
    }
}

/// Equality in time that does not depend on where two texts differ.
pub fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (key(a), key(b));
    let difference = a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Role;

    fn caller() -> Caller {
        Caller { name: "ci".into(), role: Role::Operator }
    }

    #[test]
    fn a_session_is_found_by_its_id_until_closed_or_over() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let (id, session) = sessions.open(caller());
        assert_ne!(id, session.csrf);
        assert_eq!(id.len(), 43, "32 bytes, base64url");
        assert_eq!(sessions.find(&id).unwrap().caller, caller());
        assert!(sessions.find("nope").is_none());
        sessions.close(&id);
        assert!(sessions.find(&id).is_none());
        let over = Sessions::new(Duration::ZERO);
        let (id, _) = over.open(caller());
        assert!(over.find(&id).is_none(), "a session past its end is gone");
    }

    #[test]
    fn texts_compare_whole() {
        assert!(same_text("abc", "abc"));
        assert!(!same_text("abc", "abd") && !same_text("abc", "ab") && !same_text("", "a"));
    }
}
