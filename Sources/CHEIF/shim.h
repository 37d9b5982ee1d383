// libheif (HEIF/HEIC and AVIF), for the CImageCodecs shim.
#include <libheif/heif.h>
