// giflib, for the CImageCodecs shim.
#include <gif_lib.h>
