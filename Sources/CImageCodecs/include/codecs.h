// C shim over libpng and libjpeg-turbo (codecs.c), and libwebp, giflib, libtiff and libheif
// (formats.c).
//
// libpng and libjpeg report errors with longjmp. Every function here keeps its setjmp and every
// library call inside itself, so no Swift frame is ever jumped over: errors come back as a
// `csar_codec_status` plus a NUL-terminated message in a caller-supplied buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of a codec call.
typedef enum {
  CSAR_CODEC_OK = 0,
  /// The data is not a valid image of the format (bad signature, bad chunk, bad marker...).
  CSAR_CODEC_CORRUPT = 1,
  /// The data ends before the image does.
  CSAR_CODEC_TRUNCATED = 2,
  /// The header claims more pixels than the caller allows (decompression-bomb guard).
  CSAR_CODEC_TOO_LARGE = 3,
  /// Memory could not be allocated.
  CSAR_CODEC_NO_MEMORY = 4,
  /// A valid image in a variant this shim does not handle.
  CSAR_CODEC_UNSUPPORTED = 5,
  /// The caller passed impossible arguments (encoders).
  CSAR_CODEC_INVALID_ARGUMENT = 6
} csar_codec_status;

/// What a decoder learnt about an image (its pixels went to the caller's sinks).
typedef struct {
  int32_t width;
  int32_t height;
  /// EXIF orientation (1...8) for JPEG, 0 when absent. Pixels are as stored, not rotated.
  int32_t orientation;
  /// Source colour model: PNG colour type (0, 2, 3, 4, 6) or JPEG J_COLOR_SPACE value.
  int32_t source_color;
  /// Source bits per sample (PNG 1, 2, 4, 8, 16; JPEG 8).
  int32_t source_bit_depth;
  /// Source component count (PNG channels before expansion; JPEG num_components).
  int32_t source_components;
  /// Frames decoded (animations: GIF, WebP); 1 for a still image decoded by a frame decoder.
  int32_t frames;
  /// The file has more frames than the limits let through (they were not decoded).
  int32_t more_frames;
  /// The file says it is an animation (WebP).
  int32_t animated;
  /// Non-zero when the data was damaged or cut after this many complete frames (the frames
  /// before it were decoded and delivered).
  int32_t damaged_after;
} csar_decoded_image;

/// Pixel memory an image decoded whole may take (interlaced PNGs, progressive JPEGs'
/// coefficients): 160 MiB, so that one input stays well under 256 MB of resident memory.
#define CSAR_WHOLE_IMAGE_BYTES ((uint64_t)160 << 20)

/// Told the size (and the EXIF orientation, JPEG only) before any row; returns 0 to go on,
/// non-zero to stop (reported as out of memory).
typedef int (*csar_size_sink)(void *context, int32_t width, int32_t height, int32_t orientation);

/// Receives one decoded row `y` (top first, each once): `width * 3` bytes of 8-bit RGB, valid
/// only during the call.
typedef void (*csar_row_sink)(void *context, const uint8_t *rgb, int32_t y);

/// Decodes a PNG row by row into `on_row`, keeping one row in memory (interlaced images: the
/// whole image, refused above CSAR_WHOLE_IMAGE_BYTES). Every colour type and bit depth becomes
/// 8-bit RGB: palette -> RGB, grey (1/2/4/8/16-bit) -> RGB, 16-bit -> 8-bit (high byte), alpha
/// dropped (as PIL's `convert("RGB")` does). Images claiming more than `max_pixels` pixels are
/// refused before any pixel memory is allocated. `out` receives the size and source
/// description.
csar_codec_status csar_decode_png_rows(const uint8_t *data, size_t length,
                                       uint64_t max_pixels, csar_size_sink on_size,
                                       csar_row_sink on_row, void *sink,
                                       csar_decoded_image *out, char *message,
                                       size_t message_size);

/// Decodes a JPEG row by row into `on_row` with libjpeg defaults (ISLOW IDCT, fancy
/// upsampling). Grey and YCbCr become RGB; CMYK and YCCK are converted to RGB as PIL does
/// (Adobe files store inverted CMYK). Reads the EXIF orientation. Truncated or corrupt entropy
/// data is an error, not a warning. Progressive images keep their coefficients for the whole
/// image, at most CSAR_WHOLE_IMAGE_BYTES.
csar_codec_status csar_decode_jpeg_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size);

/// As `csar_decode_jpeg_rows`, decoded at the smallest of 1/2, 1/4 and 1/8 scale whose longer
/// side is still at least `max_side` (for previews): the sinks get the scaled rows, `out`
/// the file's own size.
csar_codec_status csar_decode_jpeg_rows_scaled(const uint8_t *data, size_t length,
                                               uint64_t max_pixels, int32_t max_side,
                                               csar_size_sink on_size, csar_row_sink on_row,
                                               void *sink, csar_decoded_image *out,
                                               char *message, size_t message_size);

// MARK: - WebP, GIF, TIFF, HEIF (formats.c)

/// How much of an animation is decoded: at most `max_frames` frames, and at most
/// `max_total_pixels` frame pixels in all (decoding costs each frame's area).
typedef struct {
  int32_t max_frames;
  uint64_t max_total_pixels;
} csar_frame_limits;

/// Receives one composited frame of an animation (`index` from 0): `width * height * 3` bytes
/// of RGB, valid only during the call. Returns non-zero to stop.
typedef int (*csar_frame_sink)(void *context, const uint8_t *rgb, int32_t width,
                               int32_t height, int32_t index);

/// Decodes a WebP (lossy, lossless or extended; alpha dropped) into the row sinks. An
/// animation gives its first frame. The picture is decoded whole, at most
/// CSAR_WHOLE_IMAGE_BYTES.
csar_codec_status csar_decode_webp_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size);

/// Decodes every frame of a WebP (a still image is one frame) under `limits`.
csar_codec_status csar_decode_webp_frames(const uint8_t *data, size_t length,
                                          uint64_t max_pixels, const csar_frame_limits *limits,
                                          csar_frame_sink on_frame, void *sink,
                                          csar_decoded_image *out, char *message,
                                          size_t message_size);

/// Decodes a GIF's first frame (composited on its canvas) into the row sinks.
csar_codec_status csar_decode_gif_rows(const uint8_t *data, size_t length,
                                       uint64_t max_pixels, csar_size_sink on_size,
                                       csar_row_sink on_row, void *sink,
                                       csar_decoded_image *out, char *message,
                                       size_t message_size);

/// Decodes a GIF's frames under `limits`, each composited on the canvas (disposal and
/// transparency applied; the canvas starts as the background colour).
csar_codec_status csar_decode_gif_frames(const uint8_t *data, size_t length,
                                         uint64_t max_pixels, const csar_frame_limits *limits,
                                         csar_frame_sink on_frame, void *sink,
                                         csar_decoded_image *out, char *message,
                                         size_t message_size);

/// Decodes a TIFF's first image a strip (or row of tiles) at a time into the row sinks,
/// through libtiff's RGBA interface (every photometric and compression libtiff reads). The
/// orientation tag is reported, not applied.
csar_codec_status csar_decode_tiff_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size);

/// Decodes a HEIF/HEIC (or AVIF) primary image into the row sinks, with its rotation,
/// mirroring and crop applied. Decoded whole, at most CSAR_WHOLE_IMAGE_BYTES.
csar_codec_status csar_decode_heif_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size);

/// Encodes raw PNG rows. `rows` holds `height` rows of exactly the bytes libpng expects for
/// `color_type`/`bit_depth` (packed low-bit-depth samples, big-endian 16-bit samples), each
/// `row_bytes` long. `palette` is `palette_count` RGB triples (colour type 3 only); `trans` is
/// `trans_count` alpha bytes for palette entries (may be NULL). `interlace` selects Adam7.
/// On success `*out` is a malloc'd buffer of `*out_length` bytes: free with `csar_codec_free`.
csar_codec_status csar_encode_png(const uint8_t *rows, int32_t width, int32_t height,
                                  size_t row_bytes, int32_t color_type, int32_t bit_depth,
                                  const uint8_t *palette, int32_t palette_count,
                                  const uint8_t *trans, int32_t trans_count, int32_t interlace,
                                  uint8_t **out, size_t *out_length, char *message,
                                  size_t message_size);

/// Encodes 8-bit samples as a baseline JPEG. `components` is 1 (grey), 3 (RGB) or 4 (CMYK, as
/// stored: Adobe-inverted values, with an Adobe marker). `quality` is 1...100.
/// On success `*out` is a malloc'd buffer of `*out_length` bytes: free with `csar_codec_free`.
csar_codec_status csar_encode_jpeg(const uint8_t *samples, int32_t width, int32_t height,
                                   int32_t components, int32_t quality, uint8_t **out,
                                   size_t *out_length, char *message, size_t message_size);

/// Frees a buffer returned by this shim.
void csar_codec_free(void *pointer);

#ifdef __cplusplus
}
#endif
