// C shim over FFmpeg: see include/video.h.

#include "video.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

// MARK: - State

// FFmpeg demuxer names allowed to open a file.
#define CSAR_VIDEO_CONTAINERS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg"

struct csar_video {
  // The bytes, read through a custom AVIOContext (no file is opened here).
  const uint8_t *data;
  size_t length;
  size_t position;

  AVIOContext *io;
  AVFormatContext *format;
  AVCodecContext *codec;
  struct SwsContext *sws;
  AVPacket *packet;
  AVFrame *decoded;
  AVFrame *rgb;

  int stream;
  int width;
  int height;
  double fps;
  csar_video_limits limits;
  double deadline;
  int64_t decoded_frames;
  int draining;
  int finished;
};

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static csar_video_status fail(char *message, size_t size, csar_video_status status,
                              const char *format, ...) {
  if (message && size > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(message, size, format, args);
    va_end(args);
  }
  return status;
}

static void av_error_text(int code, char *out, size_t size) {
  if (av_strerror(code, out, size) < 0) snprintf(out, size, "error %d", code);
}

// MARK: - Reading from memory

static int read_bytes(void *opaque, uint8_t *buffer, int size) {
  csar_video *v = opaque;
  if (v->position >= v->length) return AVERROR_EOF;
  size_t left = v->length - v->position;
  size_t n = (size_t)size < left ? (size_t)size : left;
  memcpy(buffer, v->data + v->position, n);
  v->position += n;
  return (int)n;
}

static int64_t seek_bytes(void *opaque, int64_t offset, int whence) {
  csar_video *v = opaque;
  int64_t base;
  switch (whence & ~AVSEEK_FORCE) {
  case AVSEEK_SIZE: return (int64_t)v->length;
  case SEEK_SET: base = 0; break;
  case SEEK_CUR: base = (int64_t)v->position; break;
  case SEEK_END: base = (int64_t)v->length; break;
  default: return AVERROR(EINVAL);
  }
  if (offset > INT64_MAX - base) return AVERROR(EINVAL);
  int64_t target = base + offset;
  if (target < 0 || target > (int64_t)v->length) return AVERROR(EINVAL);
  v->position = (size_t)target;
  return target;
}

static int interrupted(void *opaque) {
  const csar_video *v = opaque;
  return v->deadline > 0 && now_seconds() > v->deadline;
}

static int past_deadline(const csar_video *v) { return interrupted((void *)v); }

static csar_video_status timed_out(const csar_video *v, char *message, size_t size) {
  return fail(message, size, CSAR_VIDEO_TIMEOUT, "decoding took longer than the limit of %.1f s",
              v->limits.max_decode_seconds);
}

// MARK: - Opening

void csar_video_close(csar_video *v) {
  if (!v) return;
  sws_freeContext(v->sws);
  av_frame_free(&v->rgb);
  av_frame_free(&v->decoded);
  av_packet_free(&v->packet);
  avcodec_free_context(&v->codec);
  avformat_close_input(&v->format);
  if (v->io) {
    av_freep(&v->io->buffer);
    avio_context_free(&v->io);
  }
  av_free(v);
}

static csar_video_status open_container(csar_video *v, char *message, size_t size) {
  enum { io_buffer_size = 32768 };
  uint8_t *buffer = av_malloc(io_buffer_size);
  if (!buffer) return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  v->io = avio_alloc_context(buffer, io_buffer_size, 0, v, read_bytes, NULL, seek_bytes);
  if (!v->io) {
    av_free(buffer);
    return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  }
  v->format = avformat_alloc_context();
  if (!v->format) return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  v->format->pb = v->io;
  v->format->flags |= AVFMT_FLAG_CUSTOM_IO;
  // Only the containers uploads come in: FFmpeg's rarer demuxers stay out of reach of hostile
  // files.
  v->format->format_whitelist = av_strdup(CSAR_VIDEO_CONTAINERS);
  if (!v->format->format_whitelist)
    return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  v->format->interrupt_callback.callback = interrupted;
  v->format->interrupt_callback.opaque = v;

  char text[128];
  int err = avformat_open_input(&v->format, NULL, NULL, NULL);
  if (err < 0) {
    // avformat_open_input frees the context on failure (not our AVIOContext).
    v->format = NULL;
    if (past_deadline(v))
      return timed_out(v, message, size);
    av_error_text(err, text, sizeof text);
    return fail(message, size, CSAR_VIDEO_CORRUPT, "not a video container FFmpeg can read (%s)",
                text);
  }
  err = avformat_find_stream_info(v->format, NULL);
  if (err < 0) {
    if (past_deadline(v))
      return timed_out(v, message, size);
    av_error_text(err, text, sizeof text);
    return fail(message, size, CSAR_VIDEO_CORRUPT, "cannot read the stream information (%s)",
                text);
  }
  return CSAR_VIDEO_OK;
}

// The first video stream, as vPDQ takes it.
static int first_video_stream(const AVFormatContext *format) {
  for (unsigned i = 0; i < format->nb_streams; i++) {
    if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) return (int)i;
  }
  return -1;
}

static csar_video_status describe_stream(csar_video *v, csar_video_info *info, char *message,
                                         size_t size) {
  const AVStream *stream = v->format->streams[v->stream];
  const AVCodecParameters *par = stream->codecpar;
  memset(info, 0, sizeof *info);
  info->width = par->width;
  info->height = par->height;
  const AVCodecDescriptor *descriptor = avcodec_descriptor_get(par->codec_id);
  snprintf(info->codec, sizeof info->codec, "%s", descriptor ? descriptor->name : "unknown");
  snprintf(info->container, sizeof info->container, "%s",
           v->format->iformat && v->format->iformat->name ? v->format->iformat->name : "");

  AVRational rate = stream->avg_frame_rate;
  if (rate.num == 0 || rate.den == 0) rate = stream->r_frame_rate;
  info->rate_num = rate.num;
  info->rate_den = rate.den;
  info->declared_frames = stream->nb_frames > 0 ? stream->nb_frames : 0;
  info->duration = -1;
  if (v->format->duration != AV_NOPTS_VALUE && v->format->duration > 0) {
    info->duration = (double)v->format->duration / AV_TIME_BASE;
  } else if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    info->duration = (double)stream->duration * av_q2d(stream->time_base);
  }

  if (par->width <= 0 || par->height <= 0)
    return fail(message, size, CSAR_VIDEO_CORRUPT, "the video stream has no size (%dx%d)",
                par->width, par->height);
  if (av_image_check_size((unsigned)par->width, (unsigned)par->height, 0, NULL) < 0)
    return fail(message, size, CSAR_VIDEO_TOO_LARGE, "frame size %dx%d is impossible",
                par->width, par->height);
  uint64_t pixels = (uint64_t)par->width * (uint64_t)par->height;
  if (v->limits.max_pixels && pixels > v->limits.max_pixels)
    return fail(message, size, CSAR_VIDEO_TOO_LARGE,
                "frames are %dx%d (%llu pixels), over the limit of %llu pixels", par->width,
                par->height, (unsigned long long)pixels,
                (unsigned long long)v->limits.max_pixels);
  if (rate.num <= 0 || rate.den <= 0)
    return fail(message, size, CSAR_VIDEO_CORRUPT, "the video stream has no frame rate");
  v->fps = (double)rate.num / (double)rate.den;
  if (v->limits.max_seconds > 0 && info->duration > v->limits.max_seconds)
    return fail(message, size, CSAR_VIDEO_TOO_LONG,
                "the video lasts %.1f s, over the limit of %.1f s", info->duration,
                v->limits.max_seconds);
  if (v->limits.max_frames && (uint64_t)info->declared_frames > v->limits.max_frames)
    return fail(message, size, CSAR_VIDEO_TOO_MANY_FRAMES,
                "the video declares %lld frames, over the limit of %llu",
                (long long)info->declared_frames, (unsigned long long)v->limits.max_frames);
  v->width = par->width;
  v->height = par->height;
  return CSAR_VIDEO_OK;
}

static csar_video_status open_decoder(csar_video *v, char *message, size_t size) {
  const AVCodecParameters *par = v->format->streams[v->stream]->codecpar;
  const AVCodec *decoder = avcodec_find_decoder(par->codec_id);
  if (!decoder) {
    const AVCodecDescriptor *d = avcodec_descriptor_get(par->codec_id);
    return fail(message, size, CSAR_VIDEO_UNSUPPORTED, "no decoder for the %s codec",
                d ? d->name : "unknown");
  }
  v->codec = avcodec_alloc_context3(decoder);
  if (!v->codec) return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  if (avcodec_parameters_to_context(v->codec, par) < 0)
    return fail(message, size, CSAR_VIDEO_CORRUPT, "bad codec parameters");
  // As vPDQ: FFmpeg's thread count with slice threads where the decoder has them, else one.
  if (v->limits.threads > 0) {
    v->codec->thread_count = v->limits.threads;
  } else if (decoder->capabilities & AV_CODEC_CAP_SLICE_THREADS) {
    v->codec->thread_count = 0;
    v->codec->thread_type = FF_THREAD_SLICE;
  } else {
    v->codec->thread_count = 1;
  }
  int err = avcodec_open2(v->codec, decoder, NULL);
  if (err < 0) {
    char text[128];
    av_error_text(err, text, sizeof text);
    return fail(message, size, CSAR_VIDEO_UNSUPPORTED, "cannot open the %s decoder (%s)",
                decoder->name, text);
  }
  v->packet = av_packet_alloc();
  v->decoded = av_frame_alloc();
  v->rgb = av_frame_alloc();
  if (!v->packet || !v->decoded || !v->rgb)
    return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  // RGB24 rows padded to FFmpeg's default alignment, as the vpdq package allocates its target
  // frames: swscale takes another (SIMD or C) path for unaligned rows, and with it the pixels
  // of frames whose width * 3 is not a multiple of 16 differ by a rounding.
  v->rgb->format = AV_PIX_FMT_RGB24;
  v->rgb->width = v->width;
  v->rgb->height = v->height;
  if (av_frame_get_buffer(v->rgb, 0) < 0)
    return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory for a %dx%d frame",
                v->width, v->height);
  return CSAR_VIDEO_OK;
}

csar_video_status csar_video_open(const uint8_t *data, size_t length,
                                  const csar_video_limits *limits, csar_video **out,
                                  csar_video_info *info, char *message, size_t message_size) {
  if (!out || !info || (!data && length > 0))
    return fail(message, message_size, CSAR_VIDEO_INVALID_ARGUMENT, "invalid arguments");
  *out = NULL;
  if (length == 0) return fail(message, message_size, CSAR_VIDEO_CORRUPT, "file is empty");
  av_log_set_level(AV_LOG_QUIET);

  csar_video *v = av_mallocz(sizeof *v);
  if (!v) return fail(message, message_size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  v->data = data;
  v->length = length;
  v->stream = -1;
  if (limits) v->limits = *limits;
  if (v->limits.max_decode_seconds > 0) v->deadline = now_seconds() + v->limits.max_decode_seconds;

  csar_video_status status = open_container(v, message, message_size);
  if (status == CSAR_VIDEO_OK) {
    v->stream = first_video_stream(v->format);
    if (v->stream < 0)
      status = fail(message, message_size, CSAR_VIDEO_NO_STREAM, "no video stream");
  }
  if (status == CSAR_VIDEO_OK) status = describe_stream(v, info, message, message_size);
  if (status == CSAR_VIDEO_OK) status = open_decoder(v, message, message_size);
  if (status != CSAR_VIDEO_OK) {
    csar_video_close(v);
    return status;
  }
  *out = v;
  return CSAR_VIDEO_OK;
}

// MARK: - Decoding

int64_t csar_video_decoded_frames(const csar_video *v) { return v ? v->decoded_frames : 0; }

// Converts the decoded frame to RGB24 at the stream's size and copies it out.
static csar_video_status convert(csar_video *v, uint8_t *rgb, size_t rgb_length, char *message,
                                 size_t size) {
  const AVFrame *f = v->decoded;
  if (f->width <= 0 || f->height <= 0 || f->format < 0 ||
      !sws_isSupportedInput((enum AVPixelFormat)f->format))
    return fail(message, size, CSAR_VIDEO_DECODE_FAILED, "frame %lld has no usable pixels",
                (long long)(v->decoded_frames - 1));
  uint64_t pixels = (uint64_t)f->width * (uint64_t)f->height;
  if (v->limits.max_pixels && pixels > v->limits.max_pixels)
    return fail(message, size, CSAR_VIDEO_TOO_LARGE,
                "frame %lld is %dx%d, over the limit of %llu pixels",
                (long long)(v->decoded_frames - 1), f->width, f->height,
                (unsigned long long)v->limits.max_pixels);
  v->sws = sws_getCachedContext(v->sws, f->width, f->height, (enum AVPixelFormat)f->format,
                                v->width, v->height, AV_PIX_FMT_RGB24, SWS_AREA, NULL, NULL,
                                NULL);
  if (!v->sws)
    return fail(message, size, CSAR_VIDEO_DECODE_FAILED, "cannot convert frame %lld to RGB",
                (long long)(v->decoded_frames - 1));
  if (av_frame_make_writable(v->rgb) < 0)
    return fail(message, size, CSAR_VIDEO_NO_MEMORY, "out of memory");
  int rows = sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
                       v->rgb->data, v->rgb->linesize);
  if (rows <= 0)
    return fail(message, size, CSAR_VIDEO_DECODE_FAILED, "cannot convert frame %lld to RGB",
                (long long)(v->decoded_frames - 1));
  size_t row_bytes = (size_t)v->width * 3;
  for (int y = 0; y < v->height; y++)
    memcpy(rgb + (size_t)y * row_bytes, v->rgb->data[0] + (size_t)y * v->rgb->linesize[0],
           row_bytes);
  (void)rgb_length;
  return CSAR_VIDEO_OK;
}

// Feeds the decoder the next packet of the video stream, or starts draining at the end.
static csar_video_status feed(csar_video *v, char *message, size_t size) {
  char text[128];
  for (;;) {
    if (past_deadline(v))
      return timed_out(v, message, size);
    int err = av_read_frame(v->format, v->packet);
    if (err == AVERROR_EXIT || (err < 0 && past_deadline(v)))
      return timed_out(v, message, size);
    if (err < 0) {
      // The end, or an unreadable rest: as vPDQ, flush what the decoder holds.
      v->draining = 1;
      err = avcodec_send_packet(v->codec, NULL);
      if (err < 0 && err != AVERROR_EOF) {
        av_error_text(err, text, sizeof text);
        return fail(message, size, CSAR_VIDEO_DECODE_FAILED, "cannot flush the decoder (%s)",
                    text);
      }
      return CSAR_VIDEO_OK;
    }
    if (v->packet->stream_index != v->stream) {
      av_packet_unref(v->packet);
      continue;
    }
    err = avcodec_send_packet(v->codec, v->packet);
    av_packet_unref(v->packet);
    if (err < 0) {
      av_error_text(err, text, sizeof text);
      return fail(message, size, CSAR_VIDEO_DECODE_FAILED,
                  "the decoder refused a packet after frame %lld (%s)",
                  (long long)v->decoded_frames, text);
    }
    return CSAR_VIDEO_OK;
  }
}

csar_video_status csar_video_next(csar_video *v, int64_t frame_mod, uint8_t *rgb,
                                  size_t rgb_length, int64_t *frame_number, char *message,
                                  size_t size) {
  if (!v || !rgb || !frame_number || frame_mod < 1 ||
      rgb_length != (size_t)v->width * (size_t)v->height * 3)
    return fail(message, size, CSAR_VIDEO_INVALID_ARGUMENT, "invalid arguments");
  if (v->finished) return CSAR_VIDEO_END;
  char text[128];
  for (;;) {
    if (past_deadline(v))
      return timed_out(v, message, size);
    int err = avcodec_receive_frame(v->codec, v->decoded);
    if (err == AVERROR(EAGAIN)) {
      if (v->draining) {  // cannot happen after a flush; end rather than spin
        v->finished = 1;
        return CSAR_VIDEO_END;
      }
      csar_video_status fed = feed(v, message, size);
      if (fed != CSAR_VIDEO_OK) return fed;
      continue;
    }
    if (err == AVERROR_EOF) {
      v->finished = 1;
      return CSAR_VIDEO_END;
    }
    if (err < 0) {
      av_error_text(err, text, sizeof text);
      return fail(message, size, CSAR_VIDEO_DECODE_FAILED,
                  "cannot decode the frame after frame %lld (%s)",
                  (long long)v->decoded_frames, text);
    }
    int64_t n = v->decoded_frames++;
    if (v->limits.max_frames && (uint64_t)v->decoded_frames > v->limits.max_frames) {
      av_frame_unref(v->decoded);
      return fail(message, size, CSAR_VIDEO_TOO_MANY_FRAMES,
                  "the video has more frames than the limit of %llu",
                  (unsigned long long)v->limits.max_frames);
    }
    if (v->limits.max_seconds > 0 && (double)n / v->fps > v->limits.max_seconds) {
      av_frame_unref(v->decoded);
      return fail(message, size, CSAR_VIDEO_TOO_LONG,
                  "the video runs past the limit of %.1f s (frame %lld at %.2f frames/s)",
                  v->limits.max_seconds, (long long)n, v->fps);
    }
    if (n % frame_mod != 0) {
      av_frame_unref(v->decoded);
      continue;
    }
    csar_video_status converted = convert(v, rgb, rgb_length, message, size);
    av_frame_unref(v->decoded);
    if (converted != CSAR_VIDEO_OK) return converted;
    *frame_number = n;
    return CSAR_VIDEO_OK;
  }
}
