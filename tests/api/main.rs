//! Integration tests: the real server on a random port, driven through a
//! real Socket.IO client (rust_socketio), HTTP, the official JS and Python
//! clients, and a real browser.

#![allow(unreachable_pub)]

mod admin;
mod auth;
mod browser;
mod config;
pub(crate) mod durability;
mod events;
mod helpers;
mod http;
mod js_client;
mod limits;
mod logs;
mod members;
mod metrics;
mod openapi;
mod origins;
mod py_client;
mod raw;
mod shutdown;
mod validation;
mod web;
