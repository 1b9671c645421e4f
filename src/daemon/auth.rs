//! Bearer tokens and roles. A presented token is compared with every
//! configured one through their SHA-256 digests, byte by byte without an early
//! exit, so neither the length nor the first differing byte shows in the time
//! a request takes.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::config::{Role, TokenConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `name` in ebb.yaml.
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, or one that is not configured (401).
    Unauthenticated,
    /// A token whose role is too low (403).
    Forbidden { needs: Role },
}

pub struct Tokens {
    known: Vec<([u8; 32], Caller)>,
}

impl Tokens {
    pub fn new(tokens: &[TokenConfig]) -> Self {
        Tokens {
            known: tokens
                .iter()
                .map(|t| (digest(t.token.expose()), Caller { name: t.name.clone(), role: t.role }))
                .collect(),
        }
    }

    /// The caller whose token this is, if any (every token is compared).
    pub fn identify(&self, presented: &str) -> Option<Caller> {
        if presented.is_empty() {
            return None;
        }
        let presented = digest(presented);
        let mut found = None;
        for (known, caller) in &self.known {
            if same(known, &presented) {
                found = Some(caller);
            }
        }
        found.cloned()
    }

    /// The caller presenting `headers`' bearer token, if it may act as `needs`.
    pub fn authorize(&self, headers: &HeaderMap, needs: Role) -> Result<Caller, Denied> {
        let presented = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // The scheme is case-insensitive (RFC 9110 §11.1).
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Denied::Unauthenticated)?;
        let caller = self.identify(presented).ok_or(Denied::Unauthenticated)?;
        if caller.role < needs {
            return Err(Denied::Forbidden { needs });
        }
        Ok(caller)
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equality in time that does not depend on where the inputs differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn tokens() -> Tokens {
        let token = |name: &str, role, value: &str| TokenConfig { name: name.into(), role, token: Secret::new(value) };
        Tokens::new(&[token("dash", Role::Viewer, "v-token"), token("ci", Role::Operator, "o-token")])
    }

    fn bearer(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::AUTHORIZATION, value.parse().unwrap());
        headers
    }

    #[test]
    fn roles_rank_and_unknown_tokens_are_unauthenticated() {
        let t = tokens();
        assert_eq!(t.authorize(&bearer("Bearer o-token"), Role::Operator).unwrap().name, "ci");
        for scheme in ["bearer", "BEARER", "bEaReR"] {
            assert_eq!(t.authorize(&bearer(&format!("{scheme} o-token")), Role::Operator).unwrap().name, "ci");
        }
        assert_eq!(t.authorize(&bearer("Bearer o-token"), Role::Viewer).unwrap().role, Role::Operator);
        assert_eq!(
            t.authorize(&bearer("Bearer v-token"), Role::Operator),
            Err(Denied::Forbidden { needs: Role::Operator })
        );
        assert_eq!(t.authorize(&bearer("Bearer o-token"), Role::Admin), Err(Denied::Forbidden { needs: Role::Admin }));
        for wrong in ["Bearer nope", "Bearer o-toke", "Bearer o-tokenx", "Basic o-token", "o-token", "Bearer "] {
            assert_eq!(t.authorize(&bearer(wrong), Role::Viewer), Err(Denied::Unauthenticated), "{wrong}");
        }
        assert_eq!(t.authorize(&HeaderMap::new(), Role::Viewer), Err(Denied::Unauthenticated));
    }

    #[test]
    fn comparison_sees_every_byte() {
        let a = digest("x");
        let mut b = a;
        assert!(same(&a, &b));
        b[31] ^= 1;
        assert!(!same(&a, &b));
    }
}
