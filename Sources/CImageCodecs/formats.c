// C shim over libwebp, giflib, libtiff and libheif: see include/codecs.h.
//
// None of these libraries longjmps: they return error codes (giflib, libwebp, libheif) or
// call an error handler that we install per handle and that only records the message
// (libtiff). Nothing here prints to stderr or aborts. Each decoder checks the size the
// header claims against the caller's pixel limit before it allocates pixel memory, and bounds
// what it must hold whole (a GIF or animated WebP canvas, a WebP or HEIF picture, a TIFF
// strip) by CSAR_WHOLE_IMAGE_BYTES.

#include "codecs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <libheif/heif.h>
#include <tiffio.h>
#include <webp/decode.h>
#include <webp/demux.h>

// MARK: - Helpers

static void put_message(char *message, size_t size, const char *format, ...) {
  if (message == NULL || size == 0) return;
  va_list args;
  va_start(args, format);
  vsnprintf(message, size, format, args);
  va_end(args);
}

/// The pixel-limit check every decoder makes before allocating: 0 when `width x height` is
/// allowed and its `bytes_per_pixel` fit in CSAR_WHOLE_IMAGE_BYTES (when `whole`).
static csar_codec_status check_size(const char *format, uint64_t width, uint64_t height,
                                    uint64_t max_pixels, uint64_t bytes_per_pixel, int whole,
                                    char *message, size_t message_size) {
  if (width == 0 || height == 0) {
    put_message(message, message_size, "%s: image has zero width or height", format);
    return CSAR_CODEC_CORRUPT;
  }
  uint64_t pixels = width * height;
  if (pixels > max_pixels || width > INT32_MAX / 4 || height > INT32_MAX / 4) {
    put_message(message, message_size,
                "%s: image is %llux%llu (%llu pixels), over the limit of %llu pixels", format,
                (unsigned long long)width, (unsigned long long)height,
                (unsigned long long)pixels, (unsigned long long)max_pixels);
    return CSAR_CODEC_TOO_LARGE;
  }
  if (whole && pixels * bytes_per_pixel > CSAR_WHOLE_IMAGE_BYTES) {
    put_message(message, message_size,
                "%s: image is %llux%llu; %s images are decoded whole and may hold at most "
                "%llu MiB of pixels", format, (unsigned long long)width,
                (unsigned long long)height, format,
                (unsigned long long)(CSAR_WHOLE_IMAGE_BYTES >> 20));
    return CSAR_CODEC_TOO_LARGE;
  }
  return CSAR_CODEC_OK;
}

/// Hands a whole RGB picture to the row sinks, top row first.
static csar_codec_status emit_rows(const char *format, const uint8_t *rgb, size_t stride,
                                   int32_t width, int32_t height, int32_t orientation,
                                   csar_size_sink on_size, csar_row_sink on_row, void *sink,
                                   char *message, size_t message_size) {
  if (on_size(sink, width, height, orientation) != 0) {
    put_message(message, message_size, "%s: out of memory for %dx%d pixels", format, width,
                height);
    return CSAR_CODEC_NO_MEMORY;
  }
  for (int32_t y = 0; y < height; y++) on_row(sink, rgb + (size_t)y * stride, y);
  return CSAR_CODEC_OK;
}

/// Adapts a frame decoder to the row sinks: the first frame's rows.
typedef struct {
  csar_size_sink on_size;
  csar_row_sink on_row;
  void *sink;
  int failed;
} first_frame_rows;

static int first_frame_to_rows(void *context, const uint8_t *rgb, int32_t width,
                               int32_t height, int32_t index) {
  (void)index;
  first_frame_rows *rows = context;
  if (rows->on_size(rows->sink, width, height, 0) != 0) {
    rows->failed = 1;
    return 1;
  }
  for (int32_t y = 0; y < height; y++) rows->on_row(rows->sink, rgb + (size_t)y * width * 3, y);
  return 1;  // Only the first frame.
}

typedef csar_codec_status (*frames_decoder)(const uint8_t *, size_t, uint64_t,
                                            const csar_frame_limits *, csar_frame_sink, void *,
                                            csar_decoded_image *, char *, size_t);

/// Runs a frame decoder for its first frame only, into the row sinks.
static csar_codec_status first_frame(const char *format, frames_decoder decode,
                                     const uint8_t *data, size_t length, uint64_t max_pixels,
                                     csar_size_sink on_size, csar_row_sink on_row, void *sink,
                                     csar_decoded_image *out, char *message,
                                     size_t message_size) {
  first_frame_rows rows = {on_size, on_row, sink, 0};
  csar_frame_limits limits = {1, max_pixels};
  csar_codec_status status = decode(data, length, max_pixels, &limits, first_frame_to_rows,
                                    &rows, out, message, message_size);
  if (status == CSAR_CODEC_OK && rows.failed) {
    put_message(message, message_size, "%s: out of memory for %dx%d pixels", format,
                out->width, out->height);
    return CSAR_CODEC_NO_MEMORY;
  }
  return status;
}

// MARK: - WebP

/// An animated WebP through libwebpdemux's compositing decoder, every frame as RGB.
static csar_codec_status webp_animation(const uint8_t *data, size_t length,
                                        const WebPBitstreamFeatures *features,
                                        const csar_frame_limits *limits,
                                        csar_frame_sink on_frame, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) {
    put_message(message, message_size, "WebP: decoder version mismatch");
    return CSAR_CODEC_UNSUPPORTED;
  }
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPData input = {data, length};
  WebPAnimDecoder *decoder = WebPAnimDecoderNew(&input, &options);
  if (decoder == NULL) {
    put_message(message, message_size, "WebP: animation is damaged or truncated");
    return CSAR_CODEC_CORRUPT;
  }
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder, &info) || info.canvas_width != (uint32_t)features->width
      || info.canvas_height != (uint32_t)features->height) {
    WebPAnimDecoderDelete(decoder);
    put_message(message, message_size, "WebP: animation header is inconsistent");
    return CSAR_CODEC_CORRUPT;
  }
  size_t width = info.canvas_width, height = info.canvas_height;
  uint8_t *rgb = malloc(width * height * 3);
  if (rgb == NULL) {
    WebPAnimDecoderDelete(decoder);
    put_message(message, message_size, "WebP: out of memory for %zux%zu pixels", width, height);
    return CSAR_CODEC_NO_MEMORY;
  }
  csar_codec_status status = CSAR_CODEC_OK;
  int32_t index = 0;
  uint64_t budget = limits->max_total_pixels;
  while (WebPAnimDecoderHasMoreFrames(decoder)) {
    if (index >= limits->max_frames || budget < width * height) {
      out->more_frames = 1;
      break;
    }
    uint8_t *rgba = NULL;
    int timestamp = 0;
    if (!WebPAnimDecoderGetNext(decoder, &rgba, &timestamp)) {
      if (index == 0) {
        status = CSAR_CODEC_CORRUPT;
        put_message(message, message_size, "WebP: frame %d is damaged or truncated", index + 1);
      } else {
        out->damaged_after = index;
      }
      break;
    }
    budget -= width * height;
    for (size_t i = 0, n = width * height; i < n; i++) {
      rgb[i * 3] = rgba[i * 4];
      rgb[i * 3 + 1] = rgba[i * 4 + 1];
      rgb[i * 3 + 2] = rgba[i * 4 + 2];
    }
    index++;
    out->frames = index;
    if (on_frame(sink, rgb, (int32_t)width, (int32_t)height, index - 1) != 0) break;
  }
  free(rgb);
  WebPAnimDecoderDelete(decoder);
  return status;
}

csar_codec_status csar_decode_webp_frames(const uint8_t *data, size_t length,
                                          uint64_t max_pixels, const csar_frame_limits *limits,
                                          csar_frame_sink on_frame, void *sink,
                                          csar_decoded_image *out, char *message,
                                          size_t message_size) {
  memset(out, 0, sizeof(*out));
  put_message(message, message_size, "");
  WebPBitstreamFeatures features;
  VP8StatusCode code = WebPGetFeatures(data, length, &features);
  if (code != VP8_STATUS_OK) {
    put_message(message, message_size, "WebP: %s",
                code == VP8_STATUS_NOT_ENOUGH_DATA ? "file is truncated (header incomplete)"
                : code == VP8_STATUS_UNSUPPORTED_FEATURE ? "unsupported feature"
                                                         : "header is damaged");
    return code == VP8_STATUS_NOT_ENOUGH_DATA ? CSAR_CODEC_TRUNCATED
           : code == VP8_STATUS_UNSUPPORTED_FEATURE ? CSAR_CODEC_UNSUPPORTED
                                                    : CSAR_CODEC_CORRUPT;
  }
  out->source_color = features.format;  // 0 mixed/animated, 1 lossy, 2 lossless
  out->source_bit_depth = 8;
  out->source_components = features.has_alpha ? 4 : 3;
  out->animated = features.has_animation;
  // An animation keeps an RGBA canvas and its previous state besides our RGB copy.
  csar_codec_status status =
      check_size("WebP", (uint64_t)features.width, (uint64_t)features.height, max_pixels,
                 features.has_animation ? 11 : 3, 1, message, message_size);
  if (status != CSAR_CODEC_OK) return status;
  out->width = features.width;
  out->height = features.height;
  if (features.has_animation) {
    return webp_animation(data, length, &features, limits, on_frame, sink, out, message,
                          message_size);
  }
  size_t stride = (size_t)features.width * 3;
  size_t size = stride * (size_t)features.height;
  uint8_t *rgb = malloc(size);
  if (rgb == NULL) {
    put_message(message, message_size, "WebP: out of memory for %dx%d pixels", features.width,
                features.height);
    return CSAR_CODEC_NO_MEMORY;
  }
  // Alpha is dropped, not composited (as PIL's convert("RGB") does).
  if (WebPDecodeRGBInto(data, length, rgb, size, (int)stride) == NULL) {
    free(rgb);
    put_message(message, message_size, "WebP: image data is damaged or truncated");
    return CSAR_CODEC_CORRUPT;
  }
  out->frames = 1;
  on_frame(sink, rgb, features.width, features.height, 0);
  free(rgb);
  return CSAR_CODEC_OK;
}

csar_codec_status csar_decode_webp_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size) {
  return first_frame("WebP", csar_decode_webp_frames, data, length, max_pixels, on_size,
                     on_row, sink, out, message, message_size);
}

// MARK: - GIF

typedef struct {
  const uint8_t *data;
  size_t length;
  size_t offset;
  int short_read;
} memory_reader;

static int gif_read(GifFileType *gif, GifByteType *target, int count) {
  memory_reader *reader = gif->UserData;
  if (count < 0) return 0;
  size_t left = reader->length - reader->offset;
  size_t n = (size_t)count < left ? (size_t)count : left;
  if (n < (size_t)count) reader->short_read = 1;
  memcpy(target, reader->data + reader->offset, n);
  reader->offset += n;
  return (int)n;
}

static csar_codec_status gif_failure(GifFileType *gif, int error, memory_reader *reader,
                                     int frame, char *message, size_t message_size) {
  const char *text = GifErrorString(error);
  csar_codec_status status = reader->short_read || error == D_GIF_ERR_READ_FAILED ||
                                     error == D_GIF_ERR_EOF_TOO_SOON
                                 ? CSAR_CODEC_TRUNCATED
                             : error == D_GIF_ERR_NOT_ENOUGH_MEM ? CSAR_CODEC_NO_MEMORY
                                                                 : CSAR_CODEC_CORRUPT;
  if (status == CSAR_CODEC_TRUNCATED) {
    put_message(message, message_size, "GIF: file is truncated in frame %d (at byte %zu)",
                frame, reader->offset);
  } else {
    put_message(message, message_size, "GIF: frame %d: %s", frame,
                text ? text : "damaged data");
  }
  if (gif != NULL) {
    int ignored = 0;
    DGifCloseFile(gif, &ignored);
  }
  return status;
}

/// Paints `colour` over the part of rectangle (left, top, w, h) inside the canvas.
static void gif_fill(uint8_t *canvas, size_t width, size_t height, size_t left, size_t top,
                     size_t w, size_t h, const uint8_t colour[3]) {
  for (size_t y = top; y < top + h && y < height; y++) {
    for (size_t x = left; x < left + w && x < width; x++) {
      memcpy(canvas + (y * width + x) * 3, colour, 3);
    }
  }
}

csar_codec_status csar_decode_gif_frames(const uint8_t *data, size_t length,
                                         uint64_t max_pixels, const csar_frame_limits *limits,
                                         csar_frame_sink on_frame, void *sink,
                                         csar_decoded_image *out, char *message,
                                         size_t message_size) {
  memset(out, 0, sizeof(*out));
  put_message(message, message_size, "");
  memory_reader reader = {data, length, 0, 0};
  int error = 0;
  GifFileType *gif = DGifOpen(&reader, gif_read, &error);
  if (gif == NULL) return gif_failure(NULL, error, &reader, 0, message, message_size);
  size_t width = (size_t)gif->SWidth, height = (size_t)gif->SHeight;
  out->source_color = gif->SColorMap ? gif->SColorMap->BitsPerPixel : 0;
  out->source_bit_depth = 8;
  out->source_components = 1;
  // The canvas, and a copy for frames that restore what was under them.
  csar_codec_status status = check_size("GIF", width, height, max_pixels, 6, 1, message,
                                        message_size);
  if (status != CSAR_CODEC_OK) {
    DGifCloseFile(gif, &error);
    return status;
  }
  out->width = (int32_t)width;
  out->height = (int32_t)height;
  uint8_t *canvas = malloc(width * height * 3);
  uint8_t *previous = NULL;
  GifPixelType *line = malloc(65536);
  if (canvas == NULL || line == NULL) {
    free(canvas);
    free(line);
    DGifCloseFile(gif, &error);
    put_message(message, message_size, "GIF: out of memory for %zux%zu pixels", width, height);
    return CSAR_CODEC_NO_MEMORY;
  }
  // Before the first frame the canvas is the background colour (black without a palette).
  uint8_t background[3] = {0, 0, 0};
  if (gif->SColorMap && gif->SBackGroundColor < gif->SColorMap->ColorCount) {
    GifColorType c = gif->SColorMap->Colors[gif->SBackGroundColor];
    background[0] = c.Red;
    background[1] = c.Green;
    background[2] = c.Blue;
  }
  gif_fill(canvas, width, height, 0, 0, width, height, background);

  GraphicsControlBlock control = {DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
  uint64_t budget = limits->max_total_pixels;
  int32_t index = 0;
  int stop = 0;
  while (!stop) {
    GifRecordType record;
    if (DGifGetRecordType(gif, &record) == GIF_ERROR) break;
    if (record == TERMINATE_RECORD_TYPE) {
      stop = 2;
      break;
    }
    if (record == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType *block = NULL;
      if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) break;
      if (code == GRAPHICS_EXT_FUNC_CODE && block != NULL && block[0] >= 4) {
        DGifExtensionToGCB(block[0], block + 1, &control);
      }
      while (block != NULL) {
        if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) {
          stop = 1;
          break;
        }
      }
      if (stop) break;
      continue;
    }
    if (record != IMAGE_DESC_RECORD_TYPE) continue;
    if (index >= limits->max_frames) {
      out->more_frames = 1;
      stop = 3;
      break;
    }
    if (DGifGetImageDesc(gif) == GIF_ERROR) break;
    // giflib keeps every descriptor it read; the pixels are ours, so drop them as we go.
    GifImageDesc desc = gif->Image;
    size_t fw = (size_t)desc.Width, fh = (size_t)desc.Height;
    size_t left = (size_t)desc.Left, top = (size_t)desc.Top;
    if (fw == 0 || fh == 0 || fw > 65535) {
      gif->Error = D_GIF_ERR_IMAGE_DEFECT;
      break;
    }
    // Decoding costs the frame's whole area, even where it lies outside the canvas.
    if (budget < fw * fh) {
      if (index == 0) {
        free(canvas);
        free(previous);
        free(line);
        DGifCloseFile(gif, &error);
        put_message(message, message_size,
                    "GIF: frame 1 is %zux%zu (%zu pixels), over the limit of %llu pixels", fw,
                    fh, fw * fh, (unsigned long long)budget);
        return CSAR_CODEC_TOO_LARGE;
      }
      out->more_frames = 1;
      stop = 3;
      break;
    }
    budget -= fw * fh;
    ColorMapObject *map = desc.ColorMap ? desc.ColorMap : gif->SColorMap;
    if (map == NULL) {
      gif->Error = D_GIF_ERR_NO_COLOR_MAP;
      break;
    }
    int disposal = control.DisposalMode;
    if (disposal == DISPOSE_PREVIOUS) {
      if (previous == NULL) previous = malloc(width * height * 3);
      if (previous == NULL) {
        gif->Error = D_GIF_ERR_NOT_ENOUGH_MEM;
        break;
      }
      memcpy(previous, canvas, width * height * 3);
    }
    static const int starts[4] = {0, 4, 2, 1}, steps[4] = {8, 8, 4, 2};
    int passes = desc.Interlace ? 4 : 1;
    int failed = 0;
    for (int pass = 0; pass < passes && !failed; pass++) {
      size_t first = desc.Interlace ? (size_t)starts[pass] : 0;
      size_t step = desc.Interlace ? (size_t)steps[pass] : 1;
      for (size_t y = first; y < fh; y += step) {
        if (DGifGetLine(gif, line, (int)fw) == GIF_ERROR) {
          failed = 1;
          break;
        }
        size_t cy = top + y;
        if (cy >= height) continue;
        for (size_t x = 0; x < fw && left + x < width; x++) {
          int pixel = line[x];
          if (pixel == control.TransparentColor) continue;
          uint8_t *target = canvas + (cy * width + left + x) * 3;
          if (pixel < map->ColorCount) {
            target[0] = map->Colors[pixel].Red;
            target[1] = map->Colors[pixel].Green;
            target[2] = map->Colors[pixel].Blue;
          } else {
            target[0] = target[1] = target[2] = 0;
          }
        }
      }
    }
    if (failed) break;
    index++;
    out->frames = index;
    if (on_frame(sink, canvas, (int32_t)width, (int32_t)height, index - 1) != 0) {
      stop = 3;
      break;
    }
    if (disposal == DISPOSE_BACKGROUND) {
      gif_fill(canvas, width, height, left, top, fw, fh, background);
    } else if (disposal == DISPOSE_PREVIOUS && previous != NULL) {
      memcpy(canvas, previous, width * height * 3);
    }
    control = (GraphicsControlBlock){DISPOSAL_UNSPECIFIED, false, 0, NO_TRANSPARENT_COLOR};
  }
  free(canvas);
  free(previous);
  free(line);
  if (index > 0) {
    // Damage after complete frames ends the animation there (as browsers show it).
    if (stop < 2) out->damaged_after = index;
    DGifCloseFile(gif, &error);
    return CSAR_CODEC_OK;
  }
  if (stop >= 2) {
    DGifCloseFile(gif, &error);
    put_message(message, message_size, "GIF: the file has no frames");
    return CSAR_CODEC_CORRUPT;
  }
  return gif_failure(gif, gif->Error, &reader, index + 1, message, message_size);
}

csar_codec_status csar_decode_gif_rows(const uint8_t *data, size_t length,
                                       uint64_t max_pixels, csar_size_sink on_size,
                                       csar_row_sink on_row, void *sink,
                                       csar_decoded_image *out, char *message,
                                       size_t message_size) {
  return first_frame("GIF", csar_decode_gif_frames, data, length, max_pixels, on_size, on_row,
                     sink, out, message, message_size);
}

// MARK: - TIFF

typedef struct {
  memory_reader reader;
  char *message;
  size_t message_size;
  int failed;
} tiff_context;

static tmsize_t tiff_read(thandle_t handle, void *target, tmsize_t count) {
  tiff_context *context = handle;
  memory_reader *reader = &context->reader;
  if (count < 0) return 0;
  size_t left = reader->length - reader->offset;
  size_t n = (size_t)count < left ? (size_t)count : left;
  if (n < (size_t)count) reader->short_read = 1;
  memcpy(target, reader->data + reader->offset, n);
  reader->offset += n;
  return (tmsize_t)n;
}

static tmsize_t tiff_write(thandle_t handle, void *source, tmsize_t count) {
  (void)handle;
  (void)source;
  (void)count;
  return 0;
}

static toff_t tiff_seek(thandle_t handle, toff_t offset, int whence) {
  memory_reader *reader = &((tiff_context *)handle)->reader;
  uint64_t base = whence == SEEK_CUR ? reader->offset : whence == SEEK_END ? reader->length : 0;
  uint64_t target = base + offset;
  if (target > reader->length) target = reader->length;  // Reads past the end come up short.
  reader->offset = (size_t)target;
  return target;
}

static int tiff_close(thandle_t handle) {
  (void)handle;
  return 0;
}

static toff_t tiff_size(thandle_t handle) { return ((tiff_context *)handle)->reader.length; }

static int tiff_map(thandle_t handle, void **base, toff_t *size) {
  (void)handle;
  (void)base;
  (void)size;
  return 0;
}

static void tiff_unmap(thandle_t handle, void *base, toff_t size) {
  (void)handle;
  (void)base;
  (void)size;
}

/// libtiff's error handler for our handles: keeps the first message, prints nothing.
static int tiff_error(TIFF *tiff, void *user, const char *module, const char *format,
                      va_list args) {
  (void)tiff;
  (void)module;
  tiff_context *context = user;
  if (!context->failed) {
    char text[400];
    vsnprintf(text, sizeof text, format, args);
    put_message(context->message, context->message_size, "TIFF: %s", text);
  }
  context->failed = 1;
  return 1;  // Handled: the process-wide handler (stderr) is not called.
}

static int tiff_warning(TIFF *tiff, void *user, const char *module, const char *format,
                        va_list args) {
  (void)tiff;
  (void)user;
  (void)module;
  (void)format;
  (void)args;
  return 1;  // Unknown tags and the like: ignored, and never printed.
}

csar_codec_status csar_decode_tiff_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size) {
  memset(out, 0, sizeof(*out));
  put_message(message, message_size, "");
  // Errors raised with no handle at hand would go to the process-wide handlers: silence them.
  TIFFSetErrorHandler(NULL);
  TIFFSetWarningHandler(NULL);
  tiff_context context = {{data, length, 0, 0}, message, message_size, 0};
  TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
  if (options == NULL) {
    put_message(message, message_size, "TIFF: out of memory");
    return CSAR_CODEC_NO_MEMORY;
  }
  TIFFOpenOptionsSetErrorHandlerExtR(options, tiff_error, &context);
  TIFFOpenOptionsSetWarningHandlerExtR(options, tiff_warning, &context);
  // No single allocation (a strip, a tile, a table) may exceed what we allow a whole image.
  TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)CSAR_WHOLE_IMAGE_BYTES);
  TIFF *tiff = TIFFClientOpenExt("TIFF", "rm", &context, tiff_read, tiff_write, tiff_seek,
                                 tiff_close, tiff_size, tiff_map, tiff_unmap, options);
  TIFFOpenOptionsFree(options);
  if (tiff == NULL) {
    if (!context.failed) put_message(message, message_size, "TIFF: not a readable TIFF file");
    return context.reader.short_read ? CSAR_CODEC_TRUNCATED : CSAR_CODEC_CORRUPT;
  }
  uint32_t width = 0, height = 0;
  uint16_t orientation = ORIENTATION_TOPLEFT, photometric = 0, bits = 0, samples = 0;
  TIFFGetField(tiff, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tiff, TIFFTAG_IMAGELENGTH, &height);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_ORIENTATION, &orientation);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tiff, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetField(tiff, TIFFTAG_PHOTOMETRIC, &photometric);
  out->source_color = photometric;
  out->source_bit_depth = bits;
  out->source_components = samples;
  csar_codec_status status = check_size("TIFF", width, height, max_pixels, 3, 0, message,
                                        message_size);
  if (status != CSAR_CODEC_OK) {
    TIFFClose(tiff);
    return status;
  }
  // Rows come a strip (or a row of tiles) at a time, converted by libtiff's RGBA interface,
  // which reads every photometric interpretation, bit depth and compression libtiff knows.
  uint32_t band = 0;
  if (TIFFIsTiled(tiff)) {
    TIFFGetField(tiff, TIFFTAG_TILELENGTH, &band);
  } else {
    TIFFGetFieldDefaulted(tiff, TIFFTAG_ROWSPERSTRIP, &band);
  }
  if (band == 0 || band > height) band = height;
  if ((uint64_t)width * band * 4 > CSAR_WHOLE_IMAGE_BYTES) {
    put_message(message, message_size,
                "TIFF: a strip of %ux%u pixels is over the %llu MiB a strip may hold", width,
                band, (unsigned long long)(CSAR_WHOLE_IMAGE_BYTES >> 20));
    TIFFClose(tiff);
    return CSAR_CODEC_TOO_LARGE;
  }
  char why[1024] = {0};
  TIFFRGBAImage image;
  if (!TIFFRGBAImageOK(tiff, why) || !TIFFRGBAImageBegin(&image, tiff, 1, why)) {
    if (!context.failed) put_message(message, message_size, "TIFF: %s", why);
    TIFFClose(tiff);
    return context.reader.short_read ? CSAR_CODEC_TRUNCATED : CSAR_CODEC_UNSUPPORTED;
  }
  // Pixels as stored (the orientation tag is reported, not applied), top row first.
  image.orientation = ORIENTATION_TOPLEFT;
  image.req_orientation = ORIENTATION_TOPLEFT;
  uint32_t *raster = malloc((size_t)width * band * 4);
  uint8_t *row = malloc((size_t)width * 3);
  out->width = (int32_t)width;
  out->height = (int32_t)height;
  out->orientation = orientation >= 1 && orientation <= 8 ? orientation : 0;
  if (raster == NULL || row == NULL || on_size(sink, (int32_t)width, (int32_t)height,
                                               out->orientation) != 0) {
    free(raster);
    free(row);
    TIFFRGBAImageEnd(&image);
    TIFFClose(tiff);
    put_message(message, message_size, "TIFF: out of memory for %ux%u pixels", width, height);
    return CSAR_CODEC_NO_MEMORY;
  }
  for (uint32_t y = 0; y < height && status == CSAR_CODEC_OK; y += band) {
    uint32_t rows = height - y < band ? height - y : band;
    image.row_offset = (int)y;
    image.col_offset = 0;
    if (!TIFFRGBAImageGet(&image, raster, width, rows) || context.failed) {
      if (!context.failed) put_message(message, message_size, "TIFF: image data is damaged");
      status = context.reader.short_read ? CSAR_CODEC_TRUNCATED : CSAR_CODEC_CORRUPT;
      if (status == CSAR_CODEC_TRUNCATED) {
        put_message(message, message_size, "TIFF: file is truncated (rows from %u)", y);
      }
      break;
    }
    for (uint32_t r = 0; r < rows; r++) {
      const uint32_t *source = raster + (size_t)r * width;
      for (uint32_t x = 0; x < width; x++) {
        row[x * 3] = (uint8_t)TIFFGetR(source[x]);
        row[x * 3 + 1] = (uint8_t)TIFFGetG(source[x]);
        row[x * 3 + 2] = (uint8_t)TIFFGetB(source[x]);
      }
      on_row(sink, row, (int32_t)(y + r));
    }
  }
  free(raster);
  free(row);
  TIFFRGBAImageEnd(&image);
  TIFFClose(tiff);
  return status;
}

// MARK: - HEIF

csar_codec_status csar_decode_heif_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size) {
  memset(out, 0, sizeof(*out));
  put_message(message, message_size, "");
  struct heif_context *context = heif_context_alloc();
  if (context == NULL) {
    put_message(message, message_size, "HEIF: out of memory");
    return CSAR_CODEC_NO_MEMORY;
  }
  // libheif's own guard (per side) before it allocates anything for an image.
  heif_context_set_maximum_image_size_limit(context, 65535);
  heif_context_set_max_decoding_threads(context, 0);
  struct heif_image_handle *handle = NULL;
  struct heif_image *image = NULL;
  struct heif_decoding_options *options = NULL;
  csar_codec_status status = CSAR_CODEC_OK;
  struct heif_error error = heif_context_read_from_memory_without_copy(context, data, length,
                                                                        NULL);
  if (error.code == heif_error_Ok) {
    error = heif_context_get_primary_image_handle(context, &handle);
  }
  if (error.code != heif_error_Ok) {
    status = error.code == heif_error_Memory_allocation_error ? CSAR_CODEC_NO_MEMORY
             : error.code == heif_error_Unsupported_filetype ||
                     error.code == heif_error_Unsupported_feature
                 ? CSAR_CODEC_UNSUPPORTED
             : error.subcode == heif_suberror_End_of_data ? CSAR_CODEC_TRUNCATED
                                                          : CSAR_CODEC_CORRUPT;
    put_message(message, message_size, "HEIF: %s", error.message);
    goto done;
  }
  int width = heif_image_handle_get_width(handle);
  int height = heif_image_handle_get_height(handle);
  out->source_bit_depth = heif_image_handle_get_luma_bits_per_pixel(handle);
  out->source_components = heif_image_handle_has_alpha_channel(handle) ? 4 : 3;
  // The decoder holds its YCbCr planes besides our RGB: about 5 bytes a pixel at the peak.
  status = check_size("HEIF", width > 0 ? (uint64_t)width : 0,
                      height > 0 ? (uint64_t)height : 0, max_pixels, 5, 1, message,
                      message_size);
  if (status != CSAR_CODEC_OK) goto done;
  options = heif_decoding_options_alloc();
  if (options == NULL) {
    status = CSAR_CODEC_NO_MEMORY;
    put_message(message, message_size, "HEIF: out of memory");
    goto done;
  }
  options->convert_hdr_to_8bit = 1;
  // Rotation, mirroring and cropping (irot/imir/clap) are part of the picture: applied.
  error = heif_decode_image(handle, &image, heif_colorspace_RGB, heif_chroma_interleaved_RGB,
                            options);
  if (error.code != heif_error_Ok) {
    status = error.code == heif_error_Memory_allocation_error ? CSAR_CODEC_NO_MEMORY
             : error.code == heif_error_Unsupported_feature ? CSAR_CODEC_UNSUPPORTED
             : error.subcode == heif_suberror_End_of_data ? CSAR_CODEC_TRUNCATED
                                                          : CSAR_CODEC_CORRUPT;
    put_message(message, message_size, "HEIF: %s", error.message);
    goto done;
  }
  int stride = 0;
  const uint8_t *plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride);
  int shown_width = heif_image_get_width(image, heif_channel_interleaved);
  int shown_height = heif_image_get_height(image, heif_channel_interleaved);
  if (plane == NULL || shown_width <= 0 || shown_height <= 0 || stride < shown_width * 3 ||
      (uint64_t)shown_width * (uint64_t)shown_height > max_pixels) {
    status = CSAR_CODEC_CORRUPT;
    put_message(message, message_size, "HEIF: decoded image has no usable RGB plane");
    goto done;
  }
  out->width = shown_width;
  out->height = shown_height;
  status = emit_rows("HEIF", plane, (size_t)stride, shown_width, shown_height, 0, on_size,
                     on_row, sink, message, message_size);
done:
  if (image) heif_image_release(image);
  if (options) heif_decoding_options_free(options);
  if (handle) heif_image_handle_release(handle);
  heif_context_free(context);
  return status;
}
