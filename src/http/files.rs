//! Files over HTTP (docs/protocol.md "Files"): the upload route and the
//! two routes that serve a file and its thumbnail.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Caller;
use super::api::{ApiResult, room_name};
use crate::auth::Identity;
use crate::domain::{FileView, file_name, is_file_id, percent_decode, percent_encode};
use crate::error::{AppError, ErrorBody};
use crate::files::{Received, Upload, shown_inline};
use crate::rooms;
use crate::state::Shared;
use crate::store::Part;

/// The header a raw upload names its file in (percent-encoded UTF-8 allowed).
pub(crate) const FILENAME: &str = "x-filename";

/// Served files may show nothing active: no script, no plugin, no form;
/// an SVG's own styles may apply and its images load from here.
const SANDBOX: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";
/// A file's bytes never change under its id.
const CACHE: &str = "private, max-age=31536000, immutable";

#[utoipa::path(post, path = "/api/rooms/{room}/files", tag = "files",
    params(
        ("room" = String, Path, description = "Room name"),
        ("x-filename" = Option<String>, Header, description = "A raw upload's file name, percent-encoded UTF-8 allowed (default `file`)"),
    ),
    request_body(description = "The file's bytes with their `Content-Type`, or `multipart/form-data` with one `file` field", content(
        ("application/octet-stream"), ("multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Stored, not yet attached: post it with `files` within `--files-unattached-ttl`", body = FileView),
        (status = 400, description = "Bad room name or file name; empty; an image that does not decode or is not the type it claims; a multipart body without `file`", body = ErrorBody),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 403, description = "Private room, banned, `muted` (with `until`), or a cookie request from another site", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 413, description = "Over `--max-file-size`, over the caller's `--files-quota`, or an image over 8192 pixels a side or 40 megapixels", body = ErrorBody),
    ))]
pub(super) async fn upload(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(room): Path<String>,
    req: Request,
) -> ApiResult {
    let stored = receive(&st, &who, &room, req).await;
    if stored.is_err() {
        st.metrics.file_refused();
    }
    let mut response = (StatusCode::CREATED, Json(stored?)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn receive(
    st: &Shared,
    who: &Identity,
    room: &str,
    req: Request,
) -> Result<FileView, AppError> {
    let name = room_name(room)?;
    rooms::open_for_upload(st.store.as_ref(), who, &name).await?;
    // Owned: the request's body is not `Sync`, so nothing borrowed from
    // the request may be held across an await.
    let headers = req.headers().clone();
    let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let length = header(header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse().ok());
    st.files.precheck(&who.user.id, length).await?;
    let claimed = header(header::CONTENT_TYPE.as_str()).map(str::to_owned);
    let multipart = claimed.as_deref().is_some_and(|t| {
        t.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    });
    let (given, claimed, received) = if multipart {
        multipart_file(st, req).await?
    } else {
        // Raw UTF-8 is taken too, though browsers send only ASCII here.
        let given = match headers
            .get(FILENAME)
            .map(|v| std::str::from_utf8(v.as_bytes()))
        {
            None => None,
            Some(v) => Some(
                v.ok()
                    .and_then(percent_decode)
                    .ok_or_else(|| AppError::payload("X-Filename is not percent-encoded UTF-8"))?,
            ),
        };
        // Checked before the body is read.
        file_name(given.as_deref()).map_err(AppError::InvalidPayload)?;
        let body = req.into_body().into_data_stream();
        (given, claimed, st.files.receive(body).await?)
    };
    let upload = Upload {
        room: name.as_str(),
        uploader: &who.user.id,
        name: file_name(given.as_deref()).map_err(AppError::InvalidPayload)?,
        claimed,
    };
    st.files.store(upload, received).await
}

/// The `file` field of a multipart body: its name, its type, its bytes.
async fn multipart_file(
    st: &Shared,
    req: Request,
) -> Result<(Option<String>, Option<String>, Received), AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge("request body too large".into())
        } else {
            AppError::payload(format!("bad multipart body: {}", e.body_text()))
        }
    };
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| AppError::payload(e.body_text()))?;
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            continue;
        }
        let given = field.file_name().map(str::to_owned);
        let kind = field.content_type().map(str::to_owned);
        let mut received = st.files.buffer();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            st.files.take(&mut received, &chunk)?;
        }
        return Ok((given, kind, received));
    }
    Err(AppError::payload("a multipart upload needs a file field"))
}

#[utoipa::path(get, path = "/files/{id}/{name}", tag = "files",
    params(
        ("id" = String, Path, description = "The file's id"),
        ("name" = String, Path, description = "Any name: only the id is read"),
    ),
    responses(
        (status = 200, description = "The file's bytes, with its type; `inline` for PNG, JPEG, GIF and WebP, else `attachment`; sandboxed by its `Content-Security-Policy`", content_type = "application/octet-stream"),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 404, description = "No such file, or not the caller's to read (the same answer)", body = ErrorBody),
    ))]
pub(super) async fn file(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path((id, _name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    serve(&st, &who, &id, Part::File, &headers).await
}

#[utoipa::path(get, path = "/files/{id}/thumbnail", tag = "files",
    params(("id" = String, Path, description = "The file's id")),
    responses(
        (status = 200, description = "A PNG or JPEG at most 400 x 400 pixels, the ratio kept", content_type = "image/jpeg"),
        (status = 401, description = "No or bad identity", body = ErrorBody),
        (status = 404, description = "No such file or no thumbnail, or not the caller's to read (the same answer)", body = ErrorBody),
    ))]
pub(super) async fn thumbnail(
    State(st): State<Shared>,
    Caller(who): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    serve(&st, &who, &id, Part::Thumbnail, &headers).await
}

async fn serve(
    st: &Shared,
    who: &Identity,
    id: &str,
    part: Part,
    headers: &HeaderMap,
) -> ApiResult {
    let none = || AppError::NotFound("no such file".into());
    if !is_file_id(id) {
        return Err(none());
    }
    let Some(f) = st.store.file(id).await? else {
        return Err(none());
    };
    if !rooms::may_read_file(st.store.as_ref(), who, &f).await? {
        return Err(none());
    }
    let etag = match part {
        Part::File => format!("\"{id}\""),
        Part::Thumbnail => format!("\"{id}-thumbnail\""),
    };
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if cached {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, CACHE.into())],
        )
            .into_response());
    }
    let Some(served) = st.files.open(&f, part).await? else {
        return Err(none());
    };
    let inline = shown_inline(&served.kind);
    let value = |s: &str| HeaderValue::from_str(s).map_err(|_| AppError::Internal);
    let mut response = Response::new(served.body);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, value(&served.kind)?);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(served.size));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SANDBOX),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&disposition(inline, &f.name))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    h.insert(header::ETAG, value(&etag)?);
    Ok(response)
}

/// `inline` or `attachment`, with the name in ASCII (anything else, and
/// `"` and `\`, as `_`) and in full (RFC 6266's `filename*`).
fn disposition(inline: bool, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let how = if inline { "inline" } else { "attachment" };
    format!(
        "{how}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encode(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_carry_both_names() {
        assert_eq!(
            disposition(false, "été \"x\".html"),
            "attachment; filename=\"_t_ _x_.html\"; filename*=UTF-8''%C3%A9t%C3%A9%20%22x%22.html"
        );
        assert!(disposition(true, "a.png").starts_with("inline; "));
    }
}
