#include <stdint.h>
#include <stddef.h>
#include <math.h>

#define WM_COLS 64

// Vector code for AVX2 beside the baseline, picked at load time (ifunc):
// SSE2 has no 32-bit multiply, AVX2 does eight at once.
#if defined(__x86_64__) && defined(__GNUC__)
#define WM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WM_CLONES
#endif

// col and pat are scratch rows of w values.
void wm_measure(const uint8_t *y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int32_t *wy, int64_t *acc, int32_t *col);
int64_t wm_add(uint8_t *y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int32_t *wy, const double *peak, int32_t *pat);
