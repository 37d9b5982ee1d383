// libwebp (still images) and libwebpdemux (animations), for the CImageCodecs shim.
#include <webp/decode.h>
#include <webp/demux.h>
