//! Webhooks into the user's own app (docs/protocol.md "Webhooks"): the
//! store writes each event into its outbox in the transaction of the
//! change (`store::Webhooks`); this module sends them, signed as the
//! Standard Webhooks specification says, to public addresses only unless
//! an endpoint allows private ones.

mod address;
mod sender;

pub use address::is_public;
pub use sender::{Options, Sender, spawn};
