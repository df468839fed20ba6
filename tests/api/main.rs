//! Integration tests: the real server on a random port, driven through a
//! real Socket.IO client (rust_socketio), the raw one of
//! `roomcast::wire_client`, HTTP, the official JS and Python clients, and a
//! real browser.

#![allow(unreachable_pub)]

mod abuse;
pub(crate) mod admin;
mod admin_refusals;
pub(crate) mod admin_ui;
mod architecture;
pub(crate) mod auth;
mod backup;
mod browser;
mod browser_changes;
mod browser_sidebar;
mod brute_force;
mod changes;
mod changes_clients;
mod changes_contract;
mod changes_durable;
pub(crate) mod chaos;
mod chaos_cluster;
mod cluster;
pub(crate) mod cluster_support;
mod config;
pub(crate) mod conformance;
mod conformance_close;
mod conformance_sio;
mod dashboard;
mod deploy;
mod dms;
pub(crate) mod durability;
mod events;
pub(crate) mod examples;
mod examples_backend;
mod examples_page;
mod examples_webhooks;
mod helpers;
mod http;
mod injection;
mod js_client;
mod jwt_attacks;
mod keys;
mod limits;
mod load_tool;
mod logs;
mod manage;
mod manage_cluster;
mod members;
mod metrics;
mod moderation;
mod moderation_cluster;
pub(crate) mod nginx;
mod nginx_tls;
mod openapi;
mod origins;
mod packets;
mod pg;
mod pg_server;
mod ports;
mod proxies;
pub(crate) mod py_client;
pub(crate) mod raw;
mod reads;
mod reads_cluster;
mod scripts;
mod security;
mod shutdown;
mod signals;
mod slow_body;
mod slow_consumer;
mod store_contract;
mod store_moderation;
mod upgrade;
mod validation;
mod web;
mod webhooks;
