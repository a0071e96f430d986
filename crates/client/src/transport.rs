//! How the client reaches a server: a [`Connector`] opens a [`Connection`],
//! which is a pair of bounded channels of text frames.
//!
//! Channels rather than a socket type keep the session logic independent of
//! the transport: the real WebSocket ([`WsConnector`]) is pumped by a task,
//! and tests wrap any connector in a fault-injecting one
//! ([`crate::faults::FaultyConnector`]) that drops connections, delays and
//! duplicates frames without the session knowing.

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use quire_engine::DocumentId;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Frames buffered in each direction of one connection.
pub const CONNECTION_QUEUE_FRAMES: usize = 1024;

/// Initial socket read buffer. The WebSocket layer zero-fills its read
/// buffer before every read, so its 128 KiB default costs a large memset per
/// small frame; the buffer still grows for large frames.
pub const SOCKET_READ_BUFFER_BYTES: usize = 8 * 1024;

/// Why a connection could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot connect: {0}")]
pub struct TransportError(pub String);

/// One open connection. Dropping it (or `outgoing`'s receiver ending) closes
/// it; `incoming` yields `None` once the server side closed.
#[derive(Debug)]
pub struct Connection {
    pub outgoing: mpsc::Sender<String>,
    pub incoming: mpsc::Receiver<String>,
}

/// Opens connections to one server.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// Opens a connection for editing `document` (the `join` frame names it
    /// again; a connector may use it to route).
    async fn connect(&self, document: DocumentId) -> Result<Connection, TransportError>;
}

/// A WebSocket connector (`ws://host:port/api/ws`). It names the document
/// in the URL (`?document=`), so a load balancer in front of several server
/// instances can route every client of a document to the same instance.
#[derive(Debug, Clone)]
pub struct WsConnector {
    url: String,
    max_frame_bytes: usize,
}

impl WsConnector {
    /// `url` is the full WebSocket URL; incoming frames above
    /// `max_frame_bytes` end the connection.
    pub fn new(url: impl Into<String>, max_frame_bytes: usize) -> WsConnector {
        WsConnector {
            url: url.into(),
            max_frame_bytes,
        }
    }
}

impl WsConnector {
    /// The gateway URL naming `document` (a URL with a query of its own
    /// keeps it).
    fn routed_url(&self, document: DocumentId) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{separator}document={document}", self.url)
    }
}

#[async_trait]
impl Connector for WsConnector {
    async fn connect(&self, document: DocumentId) -> Result<Connection, TransportError> {
        let url = self.routed_url(document);
        let config = WebSocketConfig::default()
            .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
            .max_message_size(Some(self.max_frame_bytes))
            .max_frame_size(Some(self.max_frame_bytes));
        let (ws, _) = tokio_tungstenite::connect_async_with_config(&url, Some(config), true)
            .await
            .map_err(|e| TransportError(e.to_string()))?;
        let (out_tx, mut out_rx) = mpsc::channel::<String>(CONNECTION_QUEUE_FRAMES);
        let (in_tx, in_rx) = mpsc::channel::<String>(CONNECTION_QUEUE_FRAMES);
        tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            loop {
                tokio::select! {
                    frame = out_rx.recv() => match frame {
                        Some(text) => {
                            if sink.send(Message::text(text)).await.is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                    message = stream.next() => match message {
                        Some(Ok(Message::Text(text))) => {
                            if in_tx.send(text.as_str().to_owned()).await.is_err() {
                                break;
                            }
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            let _ = sink.send(Message::Close(None)).await;
        });
        Ok(Connection {
            outgoing: out_tx,
            incoming: in_rx,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_document() {
        let doc: DocumentId = "0b7e1d2c-4f5a-4c3b-9d8e-1a2b3c4d5e6f".parse().unwrap();
        let plain = WsConnector::new("ws://h:1/api/ws", 1024);
        assert_eq!(
            plain.routed_url(doc),
            format!("ws://h:1/api/ws?document={doc}")
        );
        let with_query = WsConnector::new("ws://h:1/api/ws?region=eu", 1024);
        assert_eq!(
            with_query.routed_url(doc),
            format!("ws://h:1/api/ws?region=eu&document={doc}")
        );
    }
}
