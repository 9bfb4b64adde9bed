#ifndef CCPUFEATURES_SHIM_H
#define CCPUFEATURES_SHIM_H

// Which x86-64 micro-architecture level features this CPU (and OS) lacks, from CPUID and
// XGETBV, for `pruned` to refuse to start with a message instead of dying of SIGILL in the
// kernels (PruneKit is compiled for a raised level; see Package.swift). Header-only, compiled
// into the caller at the baseline level. Levels as in the x86-64 psABI: 2, 3, 4.

#include <stdint.h>

enum { CCPU_FEATURE_COUNT = 22 };

static inline const char *ccpu_feature_name(int i) {
    static const char *const names[CCPU_FEATURE_COUNT] = {
        "SSE3", "SSSE3", "SSE4.1", "SSE4.2", "POPCNT", "CMPXCHG16B", "LAHF-SAHF",          // v2
        "AVX", "AVX2", "BMI1", "BMI2", "F16C", "FMA", "LZCNT", "MOVBE", "OS support of AVX state", // v3
        "AVX512F", "AVX512BW", "AVX512CD", "AVX512DQ", "AVX512VL", "OS support of AVX-512 state", // v4
    };
    return (i >= 0 && i < CCPU_FEATURE_COUNT) ? names[i] : "?";
}

#if defined(__x86_64__)
#include <cpuid.h>

static inline uint64_t ccpu_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/// Bit i set: feature `ccpu_feature_name(i)` of `level` (or a lower level) is missing.
static inline uint64_t ccpu_missing_features(int level) {
    unsigned a = 0, b = 0, c1 = 0, d = 0, b7 = 0, c7 = 0, d7 = 0, cx = 0, dx = 0;
    __get_cpuid(1, &a, &b, &c1, &d);
    if (__get_cpuid_max(0, 0) >= 7) __cpuid_count(7, 0, a, b7, c7, d7);
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000001) __cpuid(0x80000001, a, b, cx, dx);
    const uint64_t xcr0 = (c1 & (1u << 27)) ? ccpu_xgetbv0() : 0;  // OSXSAVE
    const int present[CCPU_FEATURE_COUNT] = {
        c1 & 1, c1 & (1u << 9), c1 & (1u << 19), c1 & (1u << 20), c1 & (1u << 23), c1 & (1u << 13), cx & 1,
        c1 & (1u << 28), b7 & (1u << 5), b7 & (1u << 3), b7 & (1u << 8), c1 & (1u << 29), c1 & (1u << 12),
        cx & (1u << 5), c1 & (1u << 22), (xcr0 & 0x6) == 0x6,
        b7 & (1u << 16), b7 & (1u << 30), b7 & (1u << 28), b7 & (1u << 17), b7 & (1u << 31),
        (xcr0 & 0xE6) == 0xE6,
    };
    const int firstOfLevel[] = {0, 0, 0, 7, 16, CCPU_FEATURE_COUNT};  // index = level + 1
    const int end = (level >= 2 && level <= 4) ? firstOfLevel[level + 1] : 0;
    uint64_t missing = 0;
    for (int i = 0; i < end; i++) {
        if (!present[i]) missing |= (uint64_t)1 << i;
    }
    return missing;
}
#else
static inline uint64_t ccpu_missing_features(int level) { (void)level; return 0; }
#endif

#endif
