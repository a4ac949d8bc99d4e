// Pixel loops of the watermark grid, in C so the compiler vectorises them
// (in Go they cost about 40 % of the 1080p render pass). Both run along
// whole rows: the bump is separable, so a cell row is summed down its rows
// first (measure) or its row pattern is built once and scaled per row (add).
#include "kernel.h"

WM_CLONES void wm_measure(const uint8_t *restrict y, int w, int h, const int32_t *x0, const uint8_t *cy,
		const int16_t *wx, const int32_t *wy, int64_t *acc, int32_t *col) {
	for (int r = 0; r < h;) {
		int cr = cy[r];
		for (int x = 0; x < w; x++)
			col[x] = 0;
		// Σ over the cell row's rows of wy·Y, per column: ≤ 256·255 per row,
		// so int32 holds cells up to 32k rows tall.
		for (; r < h && cy[r] == cr; r++) {
			const uint8_t *line = y + (size_t)r * w;
			int32_t wyr = wy[r];
			for (int x = 0; x < w; x++)
				col[x] += wyr * line[x];
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
		const int16_t *wx, const int32_t *wy, const double *peak, int32_t *pat) {
	int64_t sq = 0;
	for (int r = 0; r < h;) {
		int cr = cy[r];
		// The cell row's pattern along x: peak·wx in levels·2¹⁶.
		const double *p = peak + (size_t)cr * WM_COLS;
		for (int c = 0; c < WM_COLS; c++)
			for (int x = x0[c]; x < x0[c + 1]; x++)
				pat[x] = (int32_t)lrint(p[c] * wx[x] * 256);
		for (; r < h && cy[r] == cr; r++) {
			uint8_t *line = y + (size_t)r * w;
			int32_t wyr = wy[r];
			int32_t s = 0; // ≤ 255² per pixel: int32 holds rows of 33k pixels
			for (int x = 0; x < w; x++) {
				int32_t v = line[x];
				int32_t n = v + ((pat[x] * wyr + (1 << 23)) >> 24);
				n = n < 0 ? 0 : (n > 255 ? 255 : n);
				line[x] = (uint8_t)n;
				s += (n - v) * (n - v);
			}
			sq += s;
		}
	}
	return sq;
}
