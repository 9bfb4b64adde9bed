#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

// Digests go through the EVP interface (the low-level SHA256_* calls are deprecated in 3.0).
#include <openssl/evp.h>
#include <openssl/err.h>

#endif
