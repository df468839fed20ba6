//! An uploaded image, before it is stored: its format from its bytes, its
//! size from its header (checked before anything is decoded), its pixels
//! decoded under limits, turned upright, its metadata dropped, and its
//! thumbnail. Runs on a blocking thread (`Files` bounds how many at once).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use img_parts::{Bytes, ImageEXIF};

/// The widest or tallest image taken.
pub const MAX_SIDE: u32 = 8192;
/// The most pixels an image may have (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The most memory one decode may allocate: 40 MP of 8-bit RGBA and room
/// for the decoder's own buffers.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// A thumbnail fits in this square.
pub const THUMB_SIDE: u32 = 400;

/// The four raster formats shown inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Raster {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl Raster {
    /// The format of `bytes` by their signature, when it is one of the four.
    pub(super) fn sniff(bytes: &[u8]) -> Option<Self> {
        match image::guess_format(bytes).ok()? {
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::Gif => Some(Self::Gif),
            ImageFormat::WebP => Some(Self::WebP),
            _ => None,
        }
    }

    /// The raster format a content type names.
    pub(super) fn of_type(kind: &str) -> Option<Self> {
        match kind {
            "image/png" => Some(Self::Png),
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(Self::Jpeg),
            "image/gif" => Some(Self::Gif),
            "image/webp" => Some(Self::WebP),
            _ => None,
        }
    }

    pub(super) fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Gif => ImageFormat::Gif,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// Why an image is not taken.
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    #[error("the image is {0} x {1} pixels: at most {MAX_SIDE} a side and 40 megapixels")]
    TooLarge(u32, u32),
    #[error("the image cannot be decoded (truncated or corrupt)")]
    Undecodable,
}

/// An image as it is stored.
#[derive(Debug)]
pub(super) struct Prepared {
    pub(super) bytes: Vec<u8>,
    pub(super) kind: &'static str,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) thumb: Vec<u8>,
    pub(super) thumb_kind: &'static str,
}

/// Checks, decodes and prepares `bytes` of format `raster`.
pub(super) fn prepare(bytes: Vec<u8>, raster: Raster) -> Result<Prepared, Refused> {
    // The header alone first: a small file may claim 10,000 x 10,000.
    let (w, h) = ImageReader::with_format(Cursor::new(&bytes), raster.format())
        .into_dimensions()
        .map_err(|_| Refused::Undecodable)?;
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Refused::TooLarge(w, h));
    }
    let mut decoder = ImageReader::with_format(Cursor::new(&bytes), raster.format())
        .into_decoder()
        .map_err(|_| Refused::Undecodable)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    decoder
        .set_limits(limits)
        .map_err(|_| Refused::TooLarge(w, h))?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(|_| Refused::Undecodable)?;
    let (bytes, kind) = if orientation == Orientation::NoTransforms {
        match strip(&bytes, raster) {
            Some(stripped) => (stripped, raster.mime()),
            // A container img-parts cannot rewrite is stored re-encoded.
            None => encode(&pixels, raster)?,
        }
    } else {
        // Upright pixels, re-encoded: dropping the tag alone would show
        // them turned.
        pixels.apply_orientation(orientation);
        encode(&pixels, raster)?
    };
    let (thumb, thumb_kind) = thumbnail(&pixels)?;
    Ok(Prepared {
        bytes,
        kind,
        width: pixels.width(),
        height: pixels.height(),
        thumb,
        thumb_kind,
    })
}

/// The bytes without EXIF, XMP, IPTC and text metadata, the pixels
/// untouched; `None` when the container cannot be rewritten. GIF carries
/// no such metadata and is kept as it is.
fn strip(bytes: &[u8], raster: Raster) -> Option<Vec<u8>> {
    let b = Bytes::copy_from_slice(bytes);
    let out = match raster {
        Raster::Gif => return Some(bytes.to_vec()),
        Raster::Jpeg => {
            let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(b).ok()?;
            // APP1 holds EXIF and XMP, APP13 Photoshop's IPTC.
            jpeg.remove_segments_by_marker(img_parts::jpeg::markers::APP1);
            jpeg.remove_segments_by_marker(img_parts::jpeg::markers::APP13);
            jpeg.encoder().bytes()
        }
        Raster::Png => {
            let mut png = img_parts::png::Png::from_bytes(b).ok()?;
            for kind in [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"] {
                png.remove_chunks_by_type(kind);
            }
            png.encoder().bytes()
        }
        Raster::WebP => {
            let mut webp = img_parts::webp::WebP::from_bytes(b).ok()?;
            webp.set_exif(None);
            webp.remove_chunks_by_id(img_parts::webp::CHUNK_XMP);
            webp.encoder().bytes()
        }
    };
    Some(out.to_vec())
}

/// The pixels encoded again: JPEG stays JPEG, anything else becomes PNG
/// (image's WebP and GIF encoders would change the file more).
fn encode(pixels: &DynamicImage, raster: Raster) -> Result<(Vec<u8>, &'static str), Refused> {
    match raster {
        Raster::Jpeg => Ok((jpeg(pixels, 90)?, "image/jpeg")),
        _ => Ok((png(pixels)?, "image/png")),
    }
}

/// At most [`THUMB_SIDE`] a side, the ratio kept (never enlarged): JPEG,
/// or PNG for pixels with transparency.
fn thumbnail(pixels: &DynamicImage) -> Result<(Vec<u8>, &'static str), Refused> {
    let small;
    let thumb = if pixels.width() > THUMB_SIDE || pixels.height() > THUMB_SIDE {
        small = pixels.thumbnail(THUMB_SIDE, THUMB_SIDE);
        &small
    } else {
        pixels
    };
    if thumb.color().has_alpha() {
        Ok((png(thumb)?, "image/png"))
    } else {
        Ok((jpeg(thumb, 80)?, "image/jpeg"))
    }
}

fn jpeg(pixels: &DynamicImage, quality: u8) -> Result<Vec<u8>, Refused> {
    let mut out = Vec::new();
    // JPEG has no alpha channel.
    let rgb = DynamicImage::ImageRgb8(pixels.to_rgb8());
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .map_err(|_| Refused::Undecodable)?;
    Ok(out)
}

fn png(pixels: &DynamicImage) -> Result<Vec<u8>, Refused> {
    let mut out = Cursor::new(Vec::new());
    pixels
        .write_to(&mut out, ImageFormat::Png)
        .map_err(|_| Refused::Undecodable)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        png(&DynamicImage::new_rgb8(w, h)).expect("png")
    }

    #[test]
    fn thumbnails_fit_and_keep_the_ratio() {
        let p = prepare(png_of(800, 200), Raster::Png).expect("prepared");
        assert_eq!((p.width, p.height), (800, 200));
        let t = image::load_from_memory(&p.thumb).expect("thumb");
        assert_eq!((t.width(), t.height()), (400, 100));
        let small = prepare(png_of(10, 20), Raster::Png).expect("prepared");
        let t = image::load_from_memory(&small.thumb).expect("thumb");
        assert_eq!((t.width(), t.height()), (10, 20));
    }

    #[test]
    fn truncated_images_are_undecodable() {
        let mut bytes = png_of(64, 64);
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(
            prepare(bytes, Raster::Png),
            Err(Refused::Undecodable)
        ));
    }
}
