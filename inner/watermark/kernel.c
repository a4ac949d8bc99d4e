// Pixel loops of the watermark grid, in C so the compiler vectorises them
// (in Go they cost about 40 % of the 1080p render pass). Both run along
// whole rows: the bump is separable, so a cell row is summed down its rows
// first (measure) or its row pattern is built once and scaled per row (add).
// The per-pixel work is in 16-bit lanes, sixteen to an AVX2 register.
#include "kernel.h"

WM_CLONES void wm_measure(const uint8_t *restrict y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int16_t *wy, int64_t *acc, int32_t *col) {
	for (int r = 0; r < h;) {
		int cr = cy[r];
		for (int x = 0; x < w; x++)
			col[x] = 0;
		// Σ over the cell row's rows of wy·Y, per column. One product is at
		// most 256·255, so it is formed in 16 bits; the sum grows by that per
		// row, so int32 holds cells up to 32k rows tall.
		for (; r < h && cy[r] == cr; r++) {
			const uint8_t *line = y + (size_t)r * w;
			uint16_t wyr = (uint16_t)wy[r];
			for (int x = 0; x < w; x++)
				col[x] += (uint16_t)(wyr * line[x]);
		}
		int64_t *a = acc + (size_t)cr * WM_COLS;
		for (int c = 0; c < WM_COLS; c++) {
			int64_t s = 0;
			for (int x = x0[c]; x < x0[c + 1]; x++)
				s += (int64_t)col[x] * wx[x];
			a[c] += s;
		}
	}
}

WM_CLONES int64_t wm_add(uint8_t *restrict y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int16_t *wy, const double *peak, int16_t *pat) {
	int64_t sq = 0;
	for (int r = 0; r < h;) {
		int cr = cy[r];
		// The cell row's pattern along x: peak·wx in levels·2⁷, so that a
		// row's change, pattern·wy rounded at 2¹⁵, is one rounding high
		// multiply (pmulhrsw). Peaks are held within ±255 levels to fit.
		const double *p = peak + (size_t)cr * WM_COLS;
		for (int c = 0; c < WM_COLS; c++) {
			double pc = p[c] < -255 ? -255 : (p[c] > 255 ? 255 : p[c]);
			for (int x = x0[c]; x < x0[c + 1]; x++) {
				// Rounded half away from zero by hand: lrint is a call per
				// pixel, this is a vector conversion.
				double v = pc * wx[x] / 2;
				pat[x] = (int16_t)(v + (v < 0 ? -0.5 : 0.5));
			}
		}
		for (; r < h && cy[r] == cr; r++) {
			uint8_t *line = y + (size_t)r * w;
			int16_t wyr = wy[r];
			int32_t s = 0; // ≤ 255² per pixel: int32 holds rows of 33k pixels
			for (int x = 0; x < w; x++) {
				int16_t v = line[x];
				int16_t d = (int16_t)(((((int32_t)pat[x] * wyr) >> 14) + 1) >> 1);
				int16_t n = (int16_t)(v + d);
				n = n < 0 ? 0 : (n > 255 ? 255 : n);
				line[x] = (uint8_t)n;
				int16_t e = (int16_t)(n - v);
				s += (int32_t)e * e;
			}
			sq += s;
		}
	}
	return sq;
}
