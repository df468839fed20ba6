//! The wire contract (docs/protocol.md) as types: the events a client sends
//! and their payloads, each ack, each broadcast, and the HTTP bodies. Parsed
//! and serialized here only; the OpenAPI document is derived from the same
//! types (`http::openapi`), and the error codes are `error::ErrorCode`.

pub mod admin_ui;
mod api;
mod fields;
mod socket;

pub use api::{
    Credentials, Health, Invite, LoggedIn, Membership, NewRoom, PostEvent, PostMessage, Registered,
    Status, Up,
};
pub use fields::{DEFAULT_LIMIT, Fields, Request};
pub(crate) use fields::{bad_limit, page_limit};
pub use socket::{
    Ack, Broadcast, CHAT_EVENT, Chat, ClientEvent, ConnectAuth, Done, History, InRoom, Join,
    JoinNotice, Joined, LeaveNotice, LeaveReason, MessagePage, RoomList, RoomView, Rooms, Signal,
    SignalNotice, Stored, TypingNotice,
};
