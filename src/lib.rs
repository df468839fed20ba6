//! roomcast: a Socket.IO v5 rooms server with users and durable history.

pub mod admin;
pub mod admin_ui;
pub mod app;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod error;
pub mod files;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod monitor;
pub mod protocol;
pub mod realtime;
pub mod rooms;
pub mod serve;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod webhooks;
pub mod wire_client;
