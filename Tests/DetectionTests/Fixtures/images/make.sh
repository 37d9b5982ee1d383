#!/usr/bin/env bash
# Makes the image-format fixtures from benign synthetic pictures: ffmpeg's test pattern
# posterised to at most 216 colours (`picture`, so that GIF and palette BMP hold it exactly)
# for the lossless formats, and as it is (`photo`) for the lossy ones. Needs the
# ffmpeg CLI, gcc, libheif-dev and libpng-dev. The files are committed; run this only to
# make them again: Tests/DetectionTests/Fixtures/images/make.sh
set -euo pipefail
cd "$(dirname "$0")"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
poster="lutrgb=r=floor(val/43)*51:g=floor(val/43)*51:b=floor(val/43)*51"
source="testsrc2=size=192x144:rate=1,$poster"

ff -f lavfi -i "$source" -frames:v 1 -pix_fmt rgb24 picture.png
ff -i picture.png -c:v libwebp -lossless 1 picture.webp
ff -i picture.png -vf "split[a][b];[a]palettegen=reserve_transparent=0:stats_mode=full[p];[b][p]paletteuse=dither=none" picture.gif
ff -i picture.png -pix_fmt bgr24 picture.bmp
ff -i picture.png -vf "split[a][b];[a]palettegen=reserve_transparent=0:stats_mode=full[p];[b][p]paletteuse=dither=none" picture-pal8.bmp
ff -i picture.png -pix_fmt rgb565le picture-565.bmp
ff -i picture.png -pix_fmt bgra picture-32.bmp
ff -i picture.png -pix_fmt rgb24 -compression_algo deflate picture.tiff
ff -i picture.png -pix_fmt gray -compression_algo lzw picture-grey.tiff

# Three frames that differ (the pattern's counter moves): a GIF of them on one palette, and
# a lossless animated WebP.
ff -f lavfi -i "$source" -frames:v 3 -pix_fmt rgb24 animated-%d.png
ff -framerate 1 -i animated-%d.png -vf "split[a][b];[a]palettegen=reserve_transparent=0:stats_mode=full[p];[b][p]paletteuse=dither=none" animated.gif
ff -framerate 1 -i animated-%d.png -c:v libwebp_anim -lossless 1 -loop 0 animated.webp

gcc -O1 -o /tmp/csar-make-heic make-heic.c $(pkg-config --cflags --libs libheif libpng)
ff -f lavfi -i "testsrc2=size=192x144:rate=1" -frames:v 1 -pix_fmt rgb24 photo.png
ff -i photo.png -c:v libwebp -quality 90 photo.webp
/tmp/csar-make-heic photo.png photo.heic 90 2>/dev/null
/tmp/csar-make-heic photo.png photo.avif 90 avif 2>/dev/null
rm -f /tmp/csar-make-heic
