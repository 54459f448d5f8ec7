#ifndef CANCEL_TRACE_CRC32_H
#define CANCEL_TRACE_CRC32_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <emmintrin.h>
#include <wmmintrin.h>

/// Whether the CPU has carry-less multiply (pclmulqdq): asked once (cpuid traps to the hypervisor in a VM, so it
/// is not asked per call); 0 = not asked yet, 1 = no, 2 = yes. Racing first callers store the same answer.
static inline int cancel_trace_has_clmul(void) {
    static int known = 0;
    int answer = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (answer == 0) {
        unsigned int a = 0, b = 0, c = 0, d = 0;
        answer = (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_PCLMUL)) ? 2 : 1;
        __atomic_store_n(&known, answer, __ATOMIC_RELAXED);
    }
    return answer == 2;
}

/// The CRC-32 register (bit-reflected, not inverted) after `count` more bytes, folding 64 bytes a round with
/// carry-less multiplies (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
/// Instruction", Intel 2009; the constants are that paper's for the reflected polynomial 0x04C11DB7).
/// `count` is at least 64 and a multiple of 16.
__attribute__((target("pclmul,sse2")))
static inline uint32_t cancel_trace_crc32_fold(uint32_t reg, const unsigned char *p, size_t count) {
    // x^(4·128+32), x^(4·128−32) mod P: fold one lane 512 bits on; x^(128+32), x^(128−32): 128 bits on;
    // x^64 mod P: 96 → 64 bits; then the Barrett constants (P' and P, reflected).
    const __m128i fold512 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);
    const __m128i fold128 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);
    const __m128i fold64 = _mm_set_epi64x(0, 0x0163cd6124);
    const __m128i barrett = _mm_set_epi64x(0x01f7011641, 0x01db710641);
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);

    __m128i lane0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)reg));
    __m128i lane1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i lane2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i lane3 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    count -= 64;
#define CANCEL_TRACE_FOLD(lane, k, next) \
    _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(lane, k, 0x00), _mm_clmulepi64_si128(lane, k, 0x11)), next)
    while (count >= 64) {
        lane0 = CANCEL_TRACE_FOLD(lane0, fold512, _mm_loadu_si128((const __m128i *)p));
        lane1 = CANCEL_TRACE_FOLD(lane1, fold512, _mm_loadu_si128((const __m128i *)(p + 16)));
        lane2 = CANCEL_TRACE_FOLD(lane2, fold512, _mm_loadu_si128((const __m128i *)(p + 32)));
        lane3 = CANCEL_TRACE_FOLD(lane3, fold512, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        count -= 64;
    }
    __m128i acc = CANCEL_TRACE_FOLD(lane0, fold128, lane1);
    acc = CANCEL_TRACE_FOLD(acc, fold128, lane2);
    acc = CANCEL_TRACE_FOLD(acc, fold128, lane3);
    while (count >= 16) {
        acc = CANCEL_TRACE_FOLD(acc, fold128, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        count -= 16;
    }
#undef CANCEL_TRACE_FOLD
    // 128 → 96 → 64 bits.
    acc = _mm_xor_si128(_mm_srli_si128(acc, 8), _mm_clmulepi64_si128(acc, fold128, 0x10));
    acc = _mm_xor_si128(_mm_srli_si128(acc, 4), _mm_clmulepi64_si128(_mm_and_si128(acc, low32), fold64, 0x00));
    // Barrett reduction to 32 bits.
    __m128i t = _mm_clmulepi64_si128(_mm_and_si128(acc, low32), barrett, 0x10);
    t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
    return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(_mm_xor_si128(acc, t), 4));
}
#endif

/// zlib's `crc32` (the same value for the same bytes), with a carry-less-multiply path for the bulk of a buffer
/// of 64 bytes or more where the CPU has one: zlib 1.2.13's table-driven loop costs about 4 instructions a byte,
/// and chunk CRCs were 3 % of reading a trace (Docs/Performance.md).
static inline uint32_t cancel_trace_crc32(uint32_t crc, const unsigned char *bytes, size_t count) {
#if defined(__x86_64__)
    if (count >= 64 && cancel_trace_has_clmul()) {
        size_t bulk = count & ~(size_t)15;
        crc = ~cancel_trace_crc32_fold(~crc, bytes, bulk);
        bytes += bulk;
        count -= bulk;
    }
#endif
    return count == 0 ? crc : (uint32_t)crc32_z(crc, bytes, (z_size_t)count);
}

#endif
