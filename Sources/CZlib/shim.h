#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

// ZLIB_CONST makes next_in a pointer to const, so Swift can pass read-only buffers.
#define ZLIB_CONST
#include <zlib.h>

// deflateInit2 and inflateInit2 are macros (they pass ZLIB_VERSION and sizeof(z_stream)),
// which Swift cannot import; these wrappers make them callable.
static inline int czlib_deflateInit2(z_streamp strm, int level, int method, int windowBits,
                                     int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}

static inline int czlib_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

#endif
