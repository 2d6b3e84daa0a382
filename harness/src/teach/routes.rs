//! The teaching page's routes: the page itself, one page per request, and
//! the server-sent event stream that brings new requests to an open page.

use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::{Live, page};
use crate::state::AppState;

/// `GET /_harness/`: the world and every recorded request.
pub fn index(state: &AppState) -> Response {
    // The history is read before the world: an event recorded in between
    // then shows its change in the world too, never the other way round.
    let events = state.feed().recent();
    let html = page::render_page(&state.read(), &events, state.feed().epoch());
    html_response(StatusCode::OK, html)
}

/// `GET /_harness/requests/{id}`: one request on a page of its own.
pub fn request_page(state: &AppState, request_id: &str) -> Response {
    match state.feed().find(request_id) {
        Some(event) => html_response(StatusCode::OK, page::render_request_page(&event)),
        None => html_response(
            StatusCode::NOT_FOUND,
            format!(
                "<!DOCTYPE html><p>No recent request has id {}; the page keeps the last {}.</p>",
                maud::html! { (request_id) }.into_string(),
                super::REQUEST_HISTORY
            ),
        ),
    }
}

/// `GET /_harness/events[?after=N]`: a `hello` event with the server run's
/// epoch, then a `request` event per answered request and a `world` event
/// with the world after it. Requests numbered
/// above `after` (or the `Last-Event-ID` a reconnecting browser sends) that
/// are already recorded come first, so a page loses none between its first
/// rendering and the stream's start.
pub fn events(state: Arc<AppState>, query: Option<&str>, headers: &HeaderMap) -> Response {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            query?
                .split('&')
                .find_map(|pair| pair.strip_prefix("after="))
        })
        .map(|text| text.parse::<u64>());
    let after = match after {
        None => None,
        Some(Ok(after)) => Some(after),
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                "after (or Last-Event-ID) must be a request serial number, as in ?after=12\n",
            )
                .into_response();
        }
    };
    // Subscribe before reading the history, so nothing falls between them;
    // the serial numbers drop what both hold.
    let receiver = state.feed().subscribe();
    let backlog: Vec<Live> = match after {
        Some(after) => state
            .feed()
            .recent()
            .into_iter()
            .filter(|event| event.serial > after)
            .map(|event| Live { event })
            .collect(),
        None => Vec::new(),
    };
    let seen = backlog
        .last()
        .map(|live| live.event.serial)
        .or(after)
        .unwrap_or(0);
    let live = stream::unfold(
        (receiver, state.feed().closed(), seen),
        |(mut receiver, mut closed, seen)| async move {
            loop {
                let received = tokio::select! {
                    received = receiver.recv() => received,
                    // The server is stopping: end the stream.
                    _ = closed.wait_for(|closed| *closed) => return None,
                };
                match received {
                    Ok(live) if live.event.serial > seen => {
                        let serial = live.event.serial;
                        return Some((live, (receiver, closed, serial)));
                    }
                    Ok(_) => continue,
                    // A page that fell behind skips to the newest events; a
                    // reload lists the ones it missed.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let hello = Event::default().event("hello").data(state.feed().epoch());
    let stream = stream::once(async { Ok(hello) }).chain(
        stream::iter(backlog)
            .chain(live)
            .flat_map(move |live| stream::iter(frames(&state, &live))),
    );
    sse(stream)
}

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Builds the two events of one request: its fragment, then the world.
fn frames(state: &AppState, live: &Live) -> Vec<Result<Event, Infallible>> {
    let request = Event::default()
        .event("request")
        .id(live.event.serial.to_string())
        .data(page::render_request(&live.event));
    let world = Event::default()
        .event("world")
        .data(page::render_world(&state.read()));
    vec![Ok(request), Ok(world)]
}

fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
