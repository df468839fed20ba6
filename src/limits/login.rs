//! Login and registration limits: brute force is kept out without letting
//! anyone lock a user out (docs/protocol.md §5a).

use std::net::IpAddr;
use std::time::Duration;

use super::buckets::Buckets;
use crate::domain::Username;
use crate::error::AppError;

/// One address may try this many times `--login-attempts` per minute over
/// all usernames: a household or an office behind one NAT signs in together.
const ADDRESS_FACTOR: u32 = 3;
/// All addresses together may try one username this many times
/// `--login-attempts` per minute before its attempts are slowed.
const USERNAME_FACTOR: u32 = 3;
/// An attempt beyond the username's bucket waits for a token up to this
/// long; only beyond that is it refused.
pub(super) const MAX_SLOWDOWN: Duration = Duration::from_secs(5);

/// The buckets of the login and registration routes.
pub(super) struct AccountLimits {
    /// Per (username, address): the strict one, `--login-attempts` a minute.
    pair: Buckets,
    /// Per address, over all usernames.
    address: Buckets,
    /// Per username, over all addresses: slows rather than refuses.
    username: Buckets,
    /// Registrations per address, `--registration-rate` an hour.
    registration: Buckets,
}

fn too_many() -> AppError {
    AppError::RateLimited("too many login attempts; try again in a minute".into())
}

impl AccountLimits {
    /// `login_attempts` per `window` (a minute), `registration_rate` an hour.
    pub(super) fn new(login_attempts: u32, window: Duration, registration_rate: u32) -> Self {
        let window = window.as_secs_f64().max(0.001);
        let per_minute = |n: u32| Buckets::new(f64::from(n) / window, n);
        let registrations = Buckets::new(f64::from(registration_rate) / 3600.0, registration_rate);
        Self {
            pair: per_minute(login_attempts),
            address: per_minute(login_attempts.saturating_mul(ADDRESS_FACTOR)),
            username: per_minute(login_attempts.saturating_mul(USERNAME_FACTOR)),
            registration: registrations,
        }
    }

    /// An attempt with a name that cannot be a username: only the address
    /// pays (and the name is stored nowhere).
    pub(super) fn invalid_login(&self, addr: Option<IpAddr>) -> Result<(), AppError> {
        self.charge_address(addr)
    }

    /// One attempt for `username` from `addr`. The address is charged
    /// first and a refusal there charges nothing else; then the pair; then
    /// the username, whose bucket makes the attempt wait rather than refuse
    /// it, up to [`MAX_SLOWDOWN`].
    pub(super) async fn login(
        &self,
        username: &Username,
        addr: Option<IpAddr>,
    ) -> Result<(), AppError> {
        self.charge_address(addr)?;
        let pair = match addr {
            Some(a) => format!("{}\n{a}", username.as_str()),
            None => username.as_str().to_owned(),
        };
        if !self.pair.take(&pair) {
            return Err(too_many());
        }
        match self.username.reserve(username.as_str(), MAX_SLOWDOWN) {
            Some(wait) if !wait.is_zero() => {
                tracing::debug!(wait_ms = wait.as_millis() as u64, "login slowed");
                tokio::time::sleep(wait).await;
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(too_many()),
        }
    }

    /// One registration from `addr`.
    pub(super) fn register(&self, addr: Option<IpAddr>) -> Result<(), AppError> {
        match addr {
            Some(a) if !self.registration.take(&a.to_string()) => Err(AppError::RateLimited(
                "too many registrations from this address; try again later".into(),
            )),
            _ => Ok(()),
        }
    }

    fn charge_address(&self, addr: Option<IpAddr>) -> Result<(), AppError> {
        match addr {
            Some(a) if !self.address.take(&a.to_string()) => Err(too_many()),
            _ => Ok(()),
        }
    }

    /// Keys each bucket set remembers: (pair, address, username, registration).
    pub(super) fn sizes(&self) -> [(&'static str, usize); 4] {
        [
            ("login_pair", self.pair.len()),
            ("login_address", self.address.len()),
            ("login_username", self.username.len()),
            ("registration_address", self.registration.len()),
        ]
    }
}
