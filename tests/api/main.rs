//! Integration tests: the real server on a random port, driven through a

#![allow(unreachable_pub)]
//! real Socket.IO client (rust_socketio), HTTP, and the official JS client.

mod auth;
mod durability;
mod events;
mod helpers;
mod http;
mod js_client;
mod load_tool;
mod py_client;
mod raw;
mod validation;
