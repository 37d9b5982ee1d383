// libtiff, for the CImageCodecs shim.
#include <tiffio.h>
