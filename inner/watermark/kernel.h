#include <stdint.h>
#include <stddef.h>
#include <math.h>

#define WM_COLS 64

// Vector code for AVX2 beside the baseline, picked at load time (ifunc):
// AVX2 works on sixteen 16-bit lanes at once, SSE2 on eight.
#if defined(__x86_64__) && defined(__GNUC__)
#define WM_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define WM_CLONES
#endif

// col and pat are scratch rows of w values. wx and wy are the bump weights
// in 1/256 (at most 256).
void wm_measure(const uint8_t *y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int16_t *wy, int64_t *acc, int32_t *col);
int64_t wm_add(uint8_t *y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int16_t *wy, const double *peak, int16_t *pat);
