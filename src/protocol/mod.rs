//! The wire contract (docs/protocol.md) as types: the events a client sends
//! and their payloads, each ack, each broadcast, and the HTTP bodies. Parsed
//! and serialized here only; the OpenAPI document is derived from the same
//! types (`http::openapi`), and the error codes are `error::ErrorCode`.

pub mod admin_ui;
mod api;
mod fields;
mod manage;
mod moderation;
mod search;
mod socket;

pub use api::{
    Credentials, DmWith, EditMessage, Health, Invite, LoggedIn, Membership, NewRoom, PostEvent,
    PostMessage, ReadUpTo, Registered, Status, Up, UserList,
};
pub use fields::{DEFAULT_LIMIT, Fields, Request};
pub(crate) use fields::{bad_limit, page_limit};
pub use manage::{MemberList, RoomDeletedNotice, SetTopic, TopicNotice};
pub use moderation::{
    Action, Appoint, ModerationNotice, ModerationView, MuteFor, MuteUser, Muted, RoomPatch,
    SlowMode, Target, checked_user,
};
pub use search::{Search, SearchHit, SearchResults};
pub use socket::{
    Ack, ActivityNotice, Broadcast, CHAT_EVENT, ChangePayload, Changed, Chat, ClientEvent,
    ConnectAuth, Delete, Dm, DmOpened, Done, Edit, History, InRoom, Join, JoinNotice, Joined,
    LastMessage, LeaveNotice, LeaveReason, MessagePage, PresenceChange, PresenceNotice, React,
    ReactionNote, Read, ReadAck, ReadNotice, RoomList, RoomView, Rooms, Signal, SignalNotice,
    Stored, TypingNotice, change_event,
};
