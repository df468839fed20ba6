//! A raw Socket.IO v5 / Engine.IO v4 client for the tests, the benchmarks and the load tool; never used by the server.

// Raw on purpose: callers see every frame, can send what no client library
// would (bursts that wait for nothing, malformed bytes), and pay nothing per
// connection beyond the WebSocket itself (the load tool opens 100,000).
// `packet` builds and reads text packets without I/O, `ws` speaks them over
// WebSocket, `polling` holds what long-polling adds (the HTTP requests stay
// the caller's: the library has no HTTP client). Nothing of the server is
// imported, so no module of it can come to depend on this one.

pub mod packet;
pub mod polling;
pub mod ws;

pub use packet::{Incoming, Packet};
pub use ws::WsStream;
