// C shim over FFmpeg's libavformat, libavcodec and libswscale: decodes a video held in memory
// into RGB24 frames, the way vPDQ selects and converts them.
//
// FFmpeg reports errors as return codes (no longjmp), but several of its types and macros do
// not import into Swift; this shim keeps them here and hands Swift plain integers, a status and
// a NUL-terminated message in a caller-supplied buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of a video call.
typedef enum {
  CSAR_VIDEO_OK = 0,
  /// No more frames (from `csar_video_next`).
  CSAR_VIDEO_END = 1,
  /// The data is not a container FFmpeg recognises, or it is damaged beyond reading.
  CSAR_VIDEO_CORRUPT = 2,
  /// The container holds no video stream.
  CSAR_VIDEO_NO_STREAM = 3,
  /// The video's codec has no decoder in this FFmpeg build.
  CSAR_VIDEO_UNSUPPORTED = 4,
  /// The frames are larger than `max_pixels`.
  CSAR_VIDEO_TOO_LARGE = 5,
  /// The video is longer than `max_seconds` (declared, or counted from decoded frames).
  CSAR_VIDEO_TOO_LONG = 6,
  /// More than `max_frames` frames were decoded.
  CSAR_VIDEO_TOO_MANY_FRAMES = 7,
  /// Decoding took longer than `max_decode_seconds` of wall-clock time.
  CSAR_VIDEO_TIMEOUT = 8,
  /// Memory could not be allocated.
  CSAR_VIDEO_NO_MEMORY = 9,
  /// The decoder refused a packet or a frame.
  CSAR_VIDEO_DECODE_FAILED = 10,
  /// Impossible arguments.
  CSAR_VIDEO_INVALID_ARGUMENT = 11
} csar_video_status;

/// Caps applied while opening and decoding. Zero means "no cap" for each.
typedef struct {
  /// Largest width * height of a frame.
  uint64_t max_pixels;
  /// Longest duration in seconds (the container's claim, and decoded frames / frame rate).
  double max_seconds;
  /// Most frames decoded (selected or not).
  uint64_t max_frames;
  /// Wall-clock budget for opening and decoding, in seconds.
  double max_decode_seconds;
  /// Decoder threads (0 = FFmpeg's choice).
  int32_t threads;
} csar_video_limits;

/// What the container says about its first video stream.
typedef struct {
  int32_t width;
  int32_t height;
  /// avg_frame_rate, else r_frame_rate, as num/den.
  int32_t rate_num;
  int32_t rate_den;
  /// Seconds, from the container (or the stream); negative when unknown.
  double duration;
  /// Frames the stream declares (0 when unknown).
  int64_t declared_frames;
  /// The codec's short name ("h264", "vp9", ...), NUL-terminated.
  char codec[32];
  /// The container's short name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", ...).
  char container[64];
} csar_video_info;

/// An open video. Opaque.
typedef struct csar_video csar_video;

/// Opens a video held in memory (the bytes must stay alive until `csar_video_close`): probes
/// the container, picks the first video stream, opens its decoder and checks the declared size
/// and duration against `limits`. On success `*out` must be closed with `csar_video_close`.
csar_video_status csar_video_open(const uint8_t *data, size_t length,
                                  const csar_video_limits *limits, csar_video **out,
                                  csar_video_info *info, char *message, size_t message_size);

/// Decodes up to the next frame whose 0-based number `n` has `n % frame_mod == 0`, converts it
/// with swscale (SWS_AREA) to RGB24 at the stream's width and height into `rgb` (exactly
/// `width * height * 3` bytes, no padding), and sets `*frame_number`. Returns CSAR_VIDEO_END
/// after the last frame (the decoder is flushed first).
csar_video_status csar_video_next(csar_video *video, int64_t frame_mod, uint8_t *rgb,
                                  size_t rgb_length, int64_t *frame_number, char *message,
                                  size_t message_size);

/// Frames decoded so far (selected or not).
int64_t csar_video_decoded_frames(const csar_video *video);

/// Releases everything `csar_video_open` allocated. Accepts NULL.
void csar_video_close(csar_video *video);

#ifdef __cplusplus
}
#endif
