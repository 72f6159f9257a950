//! One WebSocket connection: reads client frames, writes queued server frames, and dies when
//! killed (fault injection, slow reader, shutdown).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::requests::handle_frame;
use crate::shared::Shared;
use crate::state::{ConnId, Direction, LoggedFrame};

/// Serves an upgraded socket authenticated as `user_id` until either side ends it.
pub(crate) async fn serve<S>(shared: Arc<Shared>, ws: WebSocketStream<S>, user_id: i64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let kill = shared.shutdown.child_token();
    let (outbound, mut queue) = {
        let capacity = shared.lock().config.outbound_queue.max(1);
        mpsc::channel::<Message>(capacity)
    };
    let conn = shared.lock().add_conn(user_id, outbound, kill.clone());
    tracing::debug!(%conn, user_id, "socket connected");
    shared.notify();

    let mut stalled = shared.stalled.subscribe();
    let (mut sink, mut stream) = ws.split();
    loop {
        if *stalled.borrow_and_update() {
            tokio::select! {
                () = kill.cancelled() => break,
                running = stalled.wait_for(|stalled| !*stalled) => {
                    if running.is_err() { break }
                    continue;
                }
            }
        }
        // Biased: a stall switched on before a frame arrived must win over that frame.
        tokio::select! {
            biased;
            () = kill.cancelled() => break,
            changed = stalled.changed() => if changed.is_err() { break },
            frame = queue.recv() => {
                let Some(frame) = frame else { break };
                tokio::select! {
                    sent = sink.send(frame) => if sent.is_err() { break },
                    () = kill.cancelled() => break,
                }
            }
            inbound = stream.next() => match inbound {
                Some(Ok(Message::Binary(frame))) => on_frame(&shared, conn, &frame),
                Some(Ok(Message::Text(text))) => {
                    tracing::debug!(%conn, "ignoring a text frame");
                    let frame = LoggedFrame::Text(text.as_str().to_owned());
                    shared.lock().log_frame(Direction::In, conn, frame);
                    shared.notify();
                }
                Some(Ok(Message::Pong(payload))) => {
                    shared.lock().log_ws_pong(conn, payload);
                    shared.notify();
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(error)) => {
                    tracing::debug!(%conn, %error, "socket read failed");
                    break;
                }
                // WebSocket pings are answered by tungstenite itself on the next read or write.
                Some(Ok(Message::Ping(_) | Message::Frame(_))) => {}
            },
        }
    }
    shared.lock().remove_conn(conn);
    shared.notify();
    tracing::debug!(%conn, "socket closed");
}

fn on_frame(shared: &Arc<Shared>, conn: ConnId, frame: &Bytes) {
    let (answers, delay) = {
        let mut state = shared.lock();
        state.counters.frames_received += 1;
        state.log_frame(Direction::In, conn, LoggedFrame::Binary(frame.clone()));
        let answers = handle_frame(&mut state, conn, frame);
        (answers, state.answer_delay)
    };
    shared.notify();
    if answers.is_empty() {
        return;
    }
    if delay.is_zero() {
        let mut state = shared.lock();
        for answer in answers {
            state.send_frame(conn, answer);
        }
        return;
    }
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shared.shutdown.cancelled() => return,
        }
        let mut state = shared.lock();
        for answer in answers {
            state.send_frame(conn, answer);
        }
    });
}
