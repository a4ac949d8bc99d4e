// A whole-number downscale by k×k box means, in C so the compiler
// vectorises the column sums: OpenCV's INTER_AREA computes the same means
// but without vectors for factors other than 2, and the 3× shrink of a
// 1080p frame was the analysis's largest cost after the face network.
#include <stddef.h>

#include "shrink.h"

// reduce writes the dw rounded means of k adjacent column sums. Inlined
// with a constant k, the compiler turns the strided sums into vectors.
static inline __attribute__((always_inline)) void reduce(const uint16_t *restrict col, uint8_t *restrict out, int dw, int k,
		uint64_t inv) {
	uint32_t half = (uint32_t)(k * k) / 2;
	for (int x = 0; x < dw; x++) {
		uint32_t s = half;
		for (int i = 0; i < k; i++) s += col[x * k + i];
		out[x] = (uint8_t)((s * inv) >> 32);
	}
}

// sg_shrink writes the (sw/k)×(sh/k) picture of k×k means (rounded) of the
// sw×sh plane src to dst. col is scratch for sw sums (k ≤ 16: 16·255 fits).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx2", "default")))
#endif
void sg_shrink(const uint8_t *restrict src, int sw, int sh, uint8_t *restrict dst, int k, uint16_t *restrict col) {
	int dw = sw / k, dh = sh / k;
	uint32_t n = (uint32_t)k * k;
	// Division by n as a multiply: exact, as x·(2³²/n rounded up) errs by
	// less than x/2³², far below 1/n for sums under 2¹⁷.
	uint64_t inv = ((1ull << 32) + n - 1) / n;
	for (int y = 0; y < dh; y++) {
		const uint8_t *row = src + (size_t)y * k * sw;
		for (int x = 0; x < sw; x++) col[x] = row[x];
		for (int r = 1; r < k; r++) {
			row += sw;
			for (int x = 0; x < sw; x++) col[x] += row[x];
		}
		uint8_t *out = dst + (size_t)y * dw;
		switch (k) {
		case 2: reduce(col, out, dw, 2, inv); break;
		case 3: reduce(col, out, dw, 3, inv); break;
		case 4: reduce(col, out, dw, 4, inv); break;
		default: reduce(col, out, dw, k, inv);
		}
	}
}
