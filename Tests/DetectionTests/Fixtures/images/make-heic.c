// Encodes an 8-bit RGB PNG as HEIC (HEVC through libheif's x265 encoder) or AVIF, for the
// image-format fixtures: make-heic IN.png OUT.heic QUALITY [avif]. Used by make.sh only.
#include <libheif/heif.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  png_image png;
  memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, argv[1])) return 1;
  png.format = PNG_FORMAT_RGB;
  uint8_t *rgb = malloc(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, NULL, rgb, 0, NULL)) return 1;
  int avif = argc > 4 && strcmp(argv[4], "avif") == 0;
  struct heif_context *context = heif_context_alloc();
  struct heif_encoder *encoder = NULL;
  struct heif_error error = heif_context_get_encoder_for_format(
      context, avif ? heif_compression_AV1 : heif_compression_HEVC, &encoder);
  if (error.code) { fprintf(stderr, "%s\n", error.message); return 1; }
  heif_encoder_set_lossy_quality(encoder, atoi(argv[3]));
  struct heif_image *image = NULL;
  heif_image_create((int)png.width, (int)png.height, heif_colorspace_RGB,
                    heif_chroma_interleaved_RGB, &image);
  heif_image_add_plane(image, heif_channel_interleaved, (int)png.width, (int)png.height, 8);
  int stride = 0;
  uint8_t *plane = heif_image_get_plane(image, heif_channel_interleaved, &stride);
  for (uint32_t y = 0; y < png.height; y++)
    memcpy(plane + (size_t)y * stride, rgb + (size_t)y * png.width * 3, png.width * 3);
  error = heif_context_encode_image(context, image, encoder, NULL, NULL);
  if (error.code) { fprintf(stderr, "%s\n", error.message); return 1; }
  error = heif_context_write_to_file(context, argv[2]);
  if (error.code) { fprintf(stderr, "%s\n", error.message); return 1; }
  return 0;
}
