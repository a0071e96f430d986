//! The writer half of a connection: a task draining a bounded queue of text
//! frames into the socket, so a slow client never blocks the reader or the
//! core; a client that lets the queue fill is cut off instead.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// A frame that does not reach the socket within this time ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most queued frames written before one flush (bounds the bytes buffered
/// ahead of the socket).
const MAX_FRAMES_PER_FLUSH: usize = 64;
/// How long [`Writer::finish`] waits for queued frames to go out.
const FINISH_TIMEOUT: Duration = Duration::from_secs(5);

/// The outbound queue is full: the client is not reading fast enough.
#[derive(Debug)]
pub(crate) struct QueueFull;

pub(crate) struct Writer {
    queue: mpsc::Sender<String>,
    urgent: oneshot::Sender<String>,
    task: JoinHandle<()>,
}

impl Writer {
    pub fn spawn(sink: SplitSink<WebSocket, Message>, capacity: usize) -> Writer {
        let (queue, frames) = mpsc::channel(capacity.max(1));
        let (urgent, last) = oneshot::channel();
        let task = tokio::spawn(write_loop(sink, frames, last));
        Writer {
            queue,
            urgent,
            task,
        }
    }

    /// Queues a frame without waiting.
    pub fn push(&self, frame: String) -> Result<(), QueueFull> {
        self.queue.try_send(frame).map_err(|_| QueueFull)
    }

    /// Sends `last` after everything queued (or, if the queue is full, instead
    /// of it), closes the socket, and waits (bounded) for the writer.
    pub async fn finish(self, last: Option<String>) {
        let Writer {
            queue,
            urgent,
            mut task,
        } = self;
        if let Some(last) = last
            && let Err(mpsc::error::TrySendError::Full(last)) = queue.try_send(last)
        {
            let _ = urgent.send(last);
        }
        drop(queue);
        if tokio::time::timeout(FINISH_TIMEOUT, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut frames: mpsc::Receiver<String>,
    mut urgent: oneshot::Receiver<String>,
) {
    // The urgent sender is dropped unused on an orderly finish; from then on
    // only the queue matters.
    let mut urgent_open = true;
    loop {
        let frame = tokio::select! {
            biased;
            last = &mut urgent, if urgent_open => match last {
                Ok(last) => {
                    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::text(last))).await;
                    break;
                }
                Err(_) => {
                    urgent_open = false;
                    continue;
                }
            },
            frame = frames.recv() => match frame {
                Some(frame) => frame,
                None => break,
            },
        };
        // Everything already queued goes out with one flush: on loopback a
        // socket write costs far more than framing, and a wakeup of the
        // connection often queues several frames (an `ops` frame and an `ack`).
        let written = tokio::time::timeout(WRITE_TIMEOUT, async {
            sink.feed(Message::text(frame)).await?;
            for _ in 1..MAX_FRAMES_PER_FLUSH {
                match frames.try_recv() {
                    Ok(frame) => sink.feed(Message::text(frame)).await?,
                    Err(_) => break,
                }
            }
            sink.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            _ => return,
        }
    }
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(None))).await;
}
