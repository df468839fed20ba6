//! Integration tests: the real server on a random port, driven through a

#![allow(unreachable_pub)]
//! real Socket.IO client (rust_socketio), HTTP, and the official JS client.

mod abuse;
mod admin;
mod auth;
mod chaos;
mod config;
pub(crate) mod durability;
mod events;
mod helpers;
mod http;
mod injection;
mod js_client;
mod jwt_attacks;
mod limits;
mod logs;
mod members;
mod metrics;
mod openapi;
mod origins;
mod py_client;
pub(crate) mod raw;
mod shutdown;
mod slow_consumer;
mod validation;
