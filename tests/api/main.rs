//! Integration tests: the real server on a random port, driven through a
//! real Socket.IO client (rust_socketio), HTTP, the official JS and Python
//! clients, and a real browser.

#![allow(unreachable_pub)]

mod abuse;
mod admin;
mod auth;
mod browser;
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
mod web;
