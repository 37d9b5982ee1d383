// C shim over libpng and libjpeg-turbo: see include/codecs.h.
//
// Rule of this file: each public function owns its setjmp and makes every libpng/libjpeg call
// itself (or through callbacks those calls make), so a longjmp never crosses a Swift frame.
// State that must survive a longjmp lives in a context struct reached through a pointer.

#include "codecs.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

// MARK: - Helpers

static void set_message(char *message, size_t size, const char *format, ...) {
  if (message == NULL || size == 0) return;
  va_list args;
  va_start(args, format);
  vsnprintf(message, size, format, args);
  va_end(args);
}

void csar_codec_free(void *pointer) { free(pointer); }

/// Rounded a * b / 255 for a, b in 0...255 (exact for that range).
static inline int mul_div_255(int a, int b) {
  int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/// A growable output buffer for the encoders.
typedef struct {
  uint8_t *data;
  size_t length;
  size_t capacity;
  int failed;
} byte_buffer;

static int byte_buffer_append(byte_buffer *buffer, const uint8_t *bytes, size_t count) {
  if (buffer->failed) return 0;
  if (buffer->length + count > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + count) capacity *= 2;
    uint8_t *grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
      buffer->failed = 1;
      return 0;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->length, bytes, count);
  buffer->length += count;
  return 1;
}

// MARK: - PNG decoding

typedef struct {
  const uint8_t *data;
  size_t length;
  size_t offset;
  csar_codec_status status;
  char *message;
  size_t message_size;
  uint8_t *volatile pixels;
  png_bytep *volatile rows;
} png_read_context;

static void png_read_context_error(png_structp png, png_const_charp text) {
  png_read_context *context = png_get_error_ptr(png);
  if (context->status == CSAR_CODEC_OK) {
    context->status = CSAR_CODEC_CORRUPT;
    set_message(context->message, context->message_size, "PNG: %s", text);
  }
  png_longjmp(png, 1);
}

static void png_read_context_warning(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;  // Ancillary-chunk warnings (bad iCCP, unknown sRGB...) do not affect pixels.
}

static void png_read_from_memory(png_structp png, png_bytep target, png_size_t count) {
  png_read_context *context = png_get_io_ptr(png);
  if (count > context->length - context->offset) {
    context->status = CSAR_CODEC_TRUNCATED;
    set_message(context->message, context->message_size,
                "PNG: file is truncated (needed %zu more bytes at offset %zu of %zu)",
                count - (context->length - context->offset), context->offset,
                context->length);
    png_error(png, "truncated");
  }
  memcpy(target, context->data + context->offset, count);
  context->offset += count;
}

csar_codec_status csar_decode_png_rows(const uint8_t *data, size_t length,
                                       uint64_t max_pixels, csar_size_sink on_size,
                                       csar_row_sink on_row, void *sink,
                                       csar_decoded_image *out, char *message,
                                       size_t message_size) {
  memset(out, 0, sizeof(*out));
  set_message(message, message_size, "");
  if (length < 8 || png_sig_cmp(data, 0, 8) != 0) {
    set_message(message, message_size, "PNG: missing PNG signature");
    return CSAR_CODEC_CORRUPT;
  }
  png_read_context context = {
    .data = data, .length = length, .offset = 0, .status = CSAR_CODEC_OK,
    .message = message, .message_size = message_size, .pixels = NULL, .rows = NULL,
  };
  png_read_context *volatile ctx = &context;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, png_read_context_error,
                                           png_read_context_warning);
  if (png == NULL) {
    set_message(message, message_size, "PNG: cannot create decoder (out of memory)");
    return CSAR_CODEC_NO_MEMORY;
  }
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    set_message(message, message_size, "PNG: cannot create decoder (out of memory)");
    return CSAR_CODEC_NO_MEMORY;
  }
  if (setjmp(png_jmpbuf(png))) {
    csar_codec_status status = ctx->status == CSAR_CODEC_OK ? CSAR_CODEC_CORRUPT : ctx->status;
    free(ctx->pixels);
    free(ctx->rows);
    png_destroy_read_struct(&png, &info, NULL);
    return status;
  }
  png_set_read_fn(png, ctx, png_read_from_memory);
  // libpng's own dimension guard is 1,000,000 per side; the pixel-count guard is ours.
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_set_chunk_malloc_max(png, 64u * 1024u * 1024u);
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
  out->source_color = color_type;
  out->source_bit_depth = bit_depth;
  out->source_components = png_get_channels(png, info);
  if (width == 0 || height == 0) {
    ctx->status = CSAR_CODEC_CORRUPT;
    png_error(png, "image has zero width or height");
  }
  uint64_t pixel_count = (uint64_t)width * (uint64_t)height;
  if (pixel_count > max_pixels || width > INT32_MAX / 3 || height > INT32_MAX) {
    ctx->status = CSAR_CODEC_TOO_LARGE;
    set_message(message, message_size,
                "PNG: image is %ux%u (%llu pixels), over the limit of %llu pixels",
                (unsigned)width, (unsigned)height, (unsigned long long)pixel_count,
                (unsigned long long)max_pixels);
    png_error(png, "too large");
  }

  // Everything becomes 8-bit RGB: palette and low-bit grey expand, 16-bit keeps its high
  // byte, alpha (and tRNS) is dropped without compositing, grey is replicated.
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth == 16) png_set_strip_16(png);
  if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  // tRNS is left unexpanded for grey/RGB: it would only add an alpha channel we drop.
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
    png_set_gray_to_rgb(png);
  }
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  int depth = png_get_bit_depth(png, info);
  size_t row_bytes = png_get_rowbytes(png, info);
  // palette_to_rgb also expands tRNS to alpha; strip_alpha was set only for alpha types.
  if (depth != 8 || (channels != 3 && channels != 4)) {
    ctx->status = CSAR_CODEC_UNSUPPORTED;
    set_message(message, message_size, "PNG: unexpected layout after expansion (%d x %d-bit)",
                channels, depth);
    png_error(png, "layout");
  }
  if (row_bytes != (size_t)width * (size_t)channels) {
    ctx->status = CSAR_CODEC_UNSUPPORTED;
    set_message(message, message_size, "PNG: unexpected row size %zu", row_bytes);
    png_error(png, "layout");
  }

  size_t stride = (size_t)width * (size_t)channels;
  // Adam7 spreads every row over seven passes: an interlaced image is decoded whole, so its
  // size is bounded by memory as well as by the pixel limit.
  if (passes > 1 && stride * (size_t)height > CSAR_WHOLE_IMAGE_BYTES) {
    ctx->status = CSAR_CODEC_TOO_LARGE;
    set_message(message, message_size,
                "PNG: interlaced image is %ux%u; interlaced PNGs are decoded whole and may "
                "hold at most %llu MiB of pixels", (unsigned)width, (unsigned)height,
                (unsigned long long)(CSAR_WHOLE_IMAGE_BYTES >> 20));
    png_error(png, "too large");
  }
  out->width = (int32_t)width;
  out->height = (int32_t)height;
  if (on_size(sink, (int32_t)width, (int32_t)height, 0) != 0) {
    ctx->status = CSAR_CODEC_NO_MEMORY;
    set_message(message, message_size, "PNG: out of memory for %ux%u pixels", (unsigned)width,
                (unsigned)height);
    png_error(png, "memory");
  }
  size_t buffered = passes > 1 ? (size_t)height : 1;
  ctx->pixels = malloc(stride * buffered);
  ctx->rows = malloc(sizeof(png_bytep) * buffered);
  if (ctx->pixels == NULL || ctx->rows == NULL) {
    ctx->status = CSAR_CODEC_NO_MEMORY;
    set_message(message, message_size, "PNG: out of memory for %ux%u pixels", (unsigned)width,
                (unsigned)height);
    png_error(png, "memory");
  }
  for (size_t y = 0; y < buffered; y++) ctx->rows[y] = ctx->pixels + stride * y;
  if (passes > 1) png_read_image(png, ctx->rows);
  // The end chunk (and its CRC) is not needed for the pixels: don't fail files that lack it.
  for (png_uint_32 y = 0; y < height; y++) {
    uint8_t *row = passes > 1 ? ctx->rows[y] : ctx->pixels;
    if (passes == 1) png_read_row(png, row, NULL);
    if (channels == 4) {  // Palette with tRNS: drop the expanded alpha in place.
      for (size_t x = 0; x < width; x++) {
        row[x * 3 + 0] = row[x * 4 + 0];
        row[x * 3 + 1] = row[x * 4 + 1];
        row[x * 3 + 2] = row[x * 4 + 2];
      }
    }
    on_row(sink, row, (int32_t)y);
  }
  free(ctx->rows);
  free(ctx->pixels);
  ctx->rows = NULL;
  ctx->pixels = NULL;
  png_destroy_read_struct(&png, &info, NULL);
  out->orientation = 0;
  return CSAR_CODEC_OK;
}

// MARK: - JPEG decoding

typedef struct {
  struct jpeg_error_mgr manager;
  jmp_buf jump;
  csar_codec_status status;
  char *message;
  size_t message_size;
} jpeg_error_context;

static void jpeg_record_error(j_common_ptr cinfo, csar_codec_status status) {
  jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
  if (context->status != CSAR_CODEC_OK) return;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  context->status = status;
  set_message(context->message, context->message_size, "JPEG: %s", text);
}

static void jpeg_error_exit_handler(j_common_ptr cinfo) {
  jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
  int code = cinfo->err->msg_code;
  jpeg_record_error(cinfo, code == JERR_OUT_OF_MEMORY ? CSAR_CODEC_NO_MEMORY
                         : code == JERR_NO_BACKING_STORE ? CSAR_CODEC_TOO_LARGE
                         : code == JERR_INPUT_EMPTY ? CSAR_CODEC_TRUNCATED
                                                    : CSAR_CODEC_CORRUPT);
  longjmp(context->jump, 1);
}

static void jpeg_emit_message_handler(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // Trace messages.
  jpeg_error_context *context = (jpeg_error_context *)cinfo->err;
  int code = cinfo->err->msg_code;
  switch (code) {
  case JWRN_JPEG_EOF:
    jpeg_record_error(cinfo, CSAR_CODEC_TRUNCATED);
    longjmp(context->jump, 1);
  case JWRN_HIT_MARKER:
  case JWRN_HUFF_BAD_CODE:
  case JWRN_MUST_RESYNC:
    jpeg_record_error(cinfo, CSAR_CODEC_CORRUPT);
    longjmp(context->jump, 1);
  default:
    cinfo->err->num_warnings++;  // Benign (extraneous bytes, odd JFIF version...): go on.
  }
}

static uint32_t read_u16(const uint8_t *p, int little) {
  return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | (uint32_t)p[1];
}

static uint32_t read_u32(const uint8_t *p, int little) {
  return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                      (uint32_t)p[3] << 24
                : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
                      (uint32_t)p[3];
}

/// The orientation tag (0x0112) of IFD0 in an APP1 "Exif" payload; 0 when absent or invalid.
static int32_t exif_orientation(const uint8_t *data, size_t length) {
  if (length < 6 + 8 || memcmp(data, "Exif\0\0", 6) != 0) return 0;
  const uint8_t *tiff = data + 6;
  size_t size = length - 6;
  int little;
  if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
  else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
  else return 0;
  if (read_u16(tiff + 2, little) != 42) return 0;
  uint32_t ifd = read_u32(tiff + 4, little);
  if (ifd > size || size - ifd < 2) return 0;
  uint32_t count = read_u16(tiff + ifd, little);
  for (uint32_t i = 0; i < count; i++) {
    size_t entry = (size_t)ifd + 2 + (size_t)i * 12;
    if (entry + 12 > size) return 0;
    if (read_u16(tiff + entry, little) == 0x0112) {
      uint32_t type = read_u16(tiff + entry + 2, little);
      if (type != 3) return 0;  // SHORT
      uint32_t value = read_u16(tiff + entry + 8, little);
      return value >= 1 && value <= 8 ? (int32_t)value : 0;
    }
  }
  return 0;
}

typedef struct {
  struct jpeg_decompress_struct cinfo;
  jpeg_error_context error;
  uint8_t *volatile pixels;
  uint8_t *volatile row;
  int created;
} jpeg_read_context;

/// The JPEG row decoder; `max_side` > 0 decodes at the smallest scale of 1/2, 1/4 and 1/8
/// whose longer side is still at least `max_side` (libjpeg-turbo's DCT scaling).
static csar_codec_status jpeg_rows(const uint8_t *data, size_t length, uint64_t max_pixels,
                                   int32_t max_side, csar_size_sink on_size,
                                   csar_row_sink on_row, void *sink, csar_decoded_image *out,
                                   char *message, size_t message_size) {
  memset(out, 0, sizeof(*out));
  set_message(message, message_size, "");
  if (length < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
    set_message(message, message_size, "JPEG: missing start-of-image marker");
    return CSAR_CODEC_CORRUPT;
  }
  jpeg_read_context *volatile ctx = calloc(1, sizeof(jpeg_read_context));
  if (ctx == NULL) {
    set_message(message, message_size, "JPEG: out of memory");
    return CSAR_CODEC_NO_MEMORY;
  }
  struct jpeg_decompress_struct *cinfo = &ctx->cinfo;
  cinfo->err = jpeg_std_error(&ctx->error.manager);
  ctx->error.manager.error_exit = jpeg_error_exit_handler;
  ctx->error.manager.emit_message = jpeg_emit_message_handler;
  ctx->error.status = CSAR_CODEC_OK;
  ctx->error.message = message;
  ctx->error.message_size = message_size;
  if (setjmp(ctx->error.jump)) {
    csar_codec_status status =
        ctx->error.status == CSAR_CODEC_OK ? CSAR_CODEC_CORRUPT : ctx->error.status;
    if (ctx->created) jpeg_destroy_decompress(&ctx->cinfo);
    free(ctx->pixels);
    free(ctx->row);
    free(ctx);
    return status;
  }
  jpeg_create_decompress(cinfo);
  ctx->created = 1;
  jpeg_mem_src(cinfo, data, (unsigned long)length);
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(cinfo, TRUE);

  uint64_t pixel_count = (uint64_t)cinfo->image_width * (uint64_t)cinfo->image_height;
  if (pixel_count > max_pixels) {
    ctx->error.status = CSAR_CODEC_TOO_LARGE;
    set_message(message, message_size,
                "JPEG: image is %ux%u (%llu pixels), over the limit of %llu pixels",
                (unsigned)cinfo->image_width, (unsigned)cinfo->image_height,
                (unsigned long long)pixel_count, (unsigned long long)max_pixels);
    longjmp(ctx->error.jump, 1);
  }
  // Progressive/multi-scan images buffer coefficients for the whole image: bound that too
  // (beyond it libjpeg-turbo, which has no backing store, stops with JERR_NO_BACKING_STORE).
  uint64_t coefficients = max_pixels * 16;
  if (coefficients > CSAR_WHOLE_IMAGE_BYTES) coefficients = CSAR_WHOLE_IMAGE_BYTES;
  cinfo->mem->max_memory_to_use = (long)coefficients;

  int32_t orientation = 0;
  for (jpeg_saved_marker_ptr marker = cinfo->marker_list; marker; marker = marker->next) {
    if (marker->marker == JPEG_APP0 + 1) {
      orientation = exif_orientation(marker->data, marker->data_length);
      if (orientation) break;
    }
  }
  out->source_color = cinfo->jpeg_color_space;
  out->source_bit_depth = cinfo->data_precision;
  out->source_components = cinfo->num_components;

  int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  int adobe = cinfo->saw_Adobe_marker;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  // libjpeg defaults, as PIL decodes: ISLOW IDCT and fancy upsampling.
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  if (max_side > 0) {
    JDIMENSION longer = cinfo->image_width > cinfo->image_height ? cinfo->image_width
                                                                  : cinfo->image_height;
    unsigned denominator = 1;
    while (denominator < 8 && (longer + denominator * 2 - 1) / (denominator * 2) >=
                                  (JDIMENSION)max_side) {
      denominator *= 2;
    }
    cinfo->scale_num = 1;
    cinfo->scale_denom = denominator;
  }
  jpeg_start_decompress(cinfo);

  size_t width = cinfo->output_width;
  size_t height = cinfo->output_height;
  size_t components = (size_t)cinfo->output_components;
  if (components != (cmyk ? 4u : 3u)) {
    ctx->error.status = CSAR_CODEC_UNSUPPORTED;
    set_message(message, message_size, "JPEG: unexpected %zu output components", components);
    longjmp(ctx->error.jump, 1);
  }
  // The file's own size (a scaled decode gives fewer rows and columns to the sinks).
  out->width = (int32_t)cinfo->image_width;
  out->height = (int32_t)cinfo->image_height;
  out->orientation = orientation;
  if (on_size(sink, (int32_t)width, (int32_t)height, orientation) != 0) {
    ctx->error.status = CSAR_CODEC_NO_MEMORY;
    set_message(message, message_size, "JPEG: out of memory for %zux%zu pixels", width,
                height);
    longjmp(ctx->error.jump, 1);
  }
  ctx->pixels = malloc(width * 3);
  if (cmyk) ctx->row = malloc(width * 4);
  if (ctx->pixels == NULL || (cmyk && ctx->row == NULL)) {
    ctx->error.status = CSAR_CODEC_NO_MEMORY;
    set_message(message, message_size, "JPEG: out of memory for %zux%zu pixels", width,
                height);
    longjmp(ctx->error.jump, 1);
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    int32_t y = (int32_t)cinfo->output_scanline;
    uint8_t *target = ctx->pixels;
    if (!cmyk) {
      JSAMPROW rows[1] = {target};
      jpeg_read_scanlines(cinfo, rows, 1);
      on_row(sink, ctx->pixels, y);
      continue;
    }
    JSAMPROW rows[1] = {ctx->row};
    jpeg_read_scanlines(cinfo, rows, 1);
    // PIL: Adobe files hold inverted CMYK ("CMYK;I"); then R = (255-K) - C*(255-K)/255.
    const uint8_t *source = ctx->row;
    for (size_t x = 0; x < width; x++, source += 4, target += 3) {
      int c = source[0], m = source[1], yy = source[2], k = source[3];
      if (adobe) {
        c = 255 - c;
        m = 255 - m;
        yy = 255 - yy;
        k = 255 - k;
      }
      int nk = 255 - k;
      target[0] = (uint8_t)(nk - mul_div_255(c, nk));
      target[1] = (uint8_t)(nk - mul_div_255(m, nk));
      target[2] = (uint8_t)(nk - mul_div_255(yy, nk));
    }
    on_row(sink, ctx->pixels, y);
  }
  jpeg_finish_decompress(cinfo);

  jpeg_destroy_decompress(cinfo);
  free(ctx->pixels);
  free(ctx->row);
  free(ctx);
  return CSAR_CODEC_OK;
}

csar_codec_status csar_decode_jpeg_rows(const uint8_t *data, size_t length,
                                        uint64_t max_pixels, csar_size_sink on_size,
                                        csar_row_sink on_row, void *sink,
                                        csar_decoded_image *out, char *message,
                                        size_t message_size) {
  return jpeg_rows(data, length, max_pixels, 0, on_size, on_row, sink, out, message,
                   message_size);
}

csar_codec_status csar_decode_jpeg_rows_scaled(const uint8_t *data, size_t length,
                                               uint64_t max_pixels, int32_t max_side,
                                               csar_size_sink on_size, csar_row_sink on_row,
                                               void *sink, csar_decoded_image *out,
                                               char *message, size_t message_size) {
  return jpeg_rows(data, length, max_pixels, max_side > 0 ? max_side : 1, on_size, on_row,
                   sink, out, message, message_size);
}

// MARK: - PNG encoding

typedef struct {
  byte_buffer buffer;
  char *message;
  size_t message_size;
  int failed;
} png_write_context;

static void png_write_context_error(png_structp png, png_const_charp text) {
  png_write_context *context = png_get_error_ptr(png);
  if (!context->failed) set_message(context->message, context->message_size, "PNG: %s", text);
  context->failed = 1;
  png_longjmp(png, 1);
}

static void png_write_context_warning(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;
}

static void png_write_to_memory(png_structp png, png_bytep bytes, png_size_t count) {
  png_write_context *context = png_get_io_ptr(png);
  if (!byte_buffer_append(&context->buffer, bytes, count)) png_error(png, "out of memory");
}

static void png_flush_memory(png_structp png) { (void)png; }

csar_codec_status csar_encode_png(const uint8_t *rows, int32_t width, int32_t height,
                                  size_t row_bytes, int32_t color_type, int32_t bit_depth,
                                  const uint8_t *palette, int32_t palette_count,
                                  const uint8_t *trans, int32_t trans_count, int32_t interlace,
                                  uint8_t **out, size_t *out_length, char *message,
                                  size_t message_size) {
  *out = NULL;
  *out_length = 0;
  set_message(message, message_size, "");
  if (width <= 0 || height <= 0 || rows == NULL ||
      (color_type == PNG_COLOR_TYPE_PALETTE && (palette == NULL || palette_count <= 0 ||
                                                palette_count > 256))) {
    set_message(message, message_size, "PNG: invalid encoder arguments");
    return CSAR_CODEC_INVALID_ARGUMENT;
  }
  png_write_context context = {
    .buffer = {0}, .message = message, .message_size = message_size, .failed = 0,
  };
  png_write_context *volatile ctx = &context;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx,
                                            png_write_context_error, png_write_context_warning);
  if (png == NULL) return CSAR_CODEC_NO_MEMORY;
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_write_struct(&png, NULL);
    return CSAR_CODEC_NO_MEMORY;
  }
  png_color colours[256];
  if (setjmp(png_jmpbuf(png))) {
    free(ctx->buffer.data);
    png_destroy_write_struct(&png, &info);
    return ctx->buffer.failed ? CSAR_CODEC_NO_MEMORY : CSAR_CODEC_INVALID_ARGUMENT;
  }
  png_set_write_fn(png, ctx, png_write_to_memory, png_flush_memory);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    for (int i = 0; i < palette_count; i++) {
      colours[i].red = palette[i * 3];
      colours[i].green = palette[i * 3 + 1];
      colours[i].blue = palette[i * 3 + 2];
    }
    png_set_PLTE(png, info, colours, palette_count);
    if (trans != NULL && trans_count > 0) {
      png_set_tRNS(png, info, trans, trans_count, NULL);
    }
  }
  png_write_info(png, info);
  if (row_bytes < png_get_rowbytes(png, info)) {
    ctx->failed = 1;
    set_message(message, message_size, "PNG: row_bytes %zu is less than the %zu needed",
                row_bytes, (size_t)png_get_rowbytes(png, info));
    png_error(png, "row size");
  }
  int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; pass++) {
    for (int32_t y = 0; y < height; y++) {
      png_write_row(png, rows + (size_t)y * row_bytes);
    }
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  *out = ctx->buffer.data;
  *out_length = ctx->buffer.length;
  return CSAR_CODEC_OK;
}

// MARK: - JPEG encoding

typedef struct {
  struct jpeg_compress_struct cinfo;
  jpeg_error_context error;
  unsigned char *buffer;  // Owned by the memory destination until we take it.
  unsigned long buffer_length;
  int created;
} jpeg_write_context;

csar_codec_status csar_encode_jpeg(const uint8_t *samples, int32_t width, int32_t height,
                                   int32_t components, int32_t quality, uint8_t **out,
                                   size_t *out_length, char *message, size_t message_size) {
  *out = NULL;
  *out_length = 0;
  set_message(message, message_size, "");
  if (width <= 0 || height <= 0 || width > 65500 || height > 65500 || samples == NULL ||
      (components != 1 && components != 3 && components != 4) || quality < 1 ||
      quality > 100) {
    set_message(message, message_size, "JPEG: invalid encoder arguments");
    return CSAR_CODEC_INVALID_ARGUMENT;
  }
  jpeg_write_context *volatile ctx = calloc(1, sizeof(jpeg_write_context));
  if (ctx == NULL) return CSAR_CODEC_NO_MEMORY;
  struct jpeg_compress_struct *cinfo = &ctx->cinfo;
  cinfo->err = jpeg_std_error(&ctx->error.manager);
  ctx->error.manager.error_exit = jpeg_error_exit_handler;
  ctx->error.status = CSAR_CODEC_OK;
  ctx->error.message = message;
  ctx->error.message_size = message_size;
  if (setjmp(ctx->error.jump)) {
    csar_codec_status status =
        ctx->error.status == CSAR_CODEC_OK ? CSAR_CODEC_CORRUPT : ctx->error.status;
    if (ctx->created) jpeg_destroy_compress(&ctx->cinfo);
    // ctx->buffer may be stale here (the destination reallocates and only publishes the
    // final pointer on success), so it is not freed: encoder errors are argument errors.
    free(ctx);
    return status == CSAR_CODEC_CORRUPT ? CSAR_CODEC_INVALID_ARGUMENT : status;
  }
  jpeg_create_compress(cinfo);
  ctx->created = 1;
  jpeg_mem_dest(cinfo, &ctx->buffer, &ctx->buffer_length);
  cinfo->image_width = (JDIMENSION)width;
  cinfo->image_height = (JDIMENSION)height;
  cinfo->input_components = components;
  cinfo->in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB
                                                                            : JCS_CMYK;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  size_t stride = (size_t)width * (size_t)components;
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row[1] = {(JSAMPROW)(samples + (size_t)cinfo->next_scanline * stride)};
    jpeg_write_scanlines(cinfo, row, 1);
  }
  jpeg_finish_compress(cinfo);
  // The memory destination's buffer is malloc'd by libjpeg-turbo and outlives the struct.
  size_t produced = ctx->buffer_length;
  jpeg_destroy_compress(cinfo);
  *out = ctx->buffer;
  *out_length = produced;
  free(ctx);
  return CSAR_CODEC_OK;
}
