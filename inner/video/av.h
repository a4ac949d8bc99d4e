// In-process decoding and encoding with FFmpeg's libraries (libavformat,
// libavcodec, libswscale): the frames stay in our address space instead of
// crossing two pipes, which cost as much CPU as the encode itself at 1080p.
#ifndef SEALGATE_AV_H
#define SEALGATE_AV_H

#include <stdint.h>

typedef struct {
	char codec[32];
	int width, height;     // coded size (before rotation)
	int tb_num, tb_den;    // the stream's time base
	int fr_num, fr_den;    // nominal frame rate (r_frame_rate)
	int rotation;          // clockwise display rotation: 0, 90, 180, 270
	int has_audio;
	int n;                 // packets of the video stream
	int64_t *pts, *dts;    // per packet; INT64_MIN when missing
	uint8_t *discard;      // per packet: an edit list drops it
} sg_probe_info;

// sg_probe reads path's first video stream's parameters and every packet's
// timestamps (demuxing only). 0, or -1 with err filled. Free with
// sg_probe_free, also after a failure.
int sg_probe(const char *path, sg_probe_info *out, char *err, int errlen);
void sg_probe_free(sg_probe_info *p);

typedef struct sg_dec sg_dec;
typedef struct sg_enc sg_enc;

// sg_dec_open opens path's first video stream. out_w×out_h is the picture
// sg_dec_next writes (even; after the stream's display rotation, which is
// applied as players do). Returns NULL and fills err on failure.
sg_dec *sg_dec_open(const char *path, int out_w, int out_h, char *err, int errlen);

// sg_dec_next writes the next frame as planar yuv420p into dst (out_w*out_h*3/2
// bytes) and its timestamp into pts (INT64_MIN when unknown). Returns 1 for a
// frame, 0 at the end, -1 on error (see sg_dec_error).
int sg_dec_next(sg_dec *d, uint8_t *dst, int64_t *pts);

// sg_dec_seek moves to the keyframe at or before ts (the stream's time base)
// and flushes the decoder; 0 or -1 (see sg_dec_error).
int sg_dec_seek(sg_dec *d, int64_t ts);

// sg_dec_error is the last error, or the last decoding problem that was
// skipped over (a damaged packet), which explains missing frames.
const char *sg_dec_error(sg_dec *d);

void sg_dec_close(sg_dec *d);

typedef struct {
	int width, height;
	int tb_num, tb_den;   // timestamps' time base (the input stream's)
	int fps_num, fps_den; // nominal rate, for rate control
	int crf, gop, level_idc, max_kbps;
	const char *preset;
	const char *timescale; // MP4 track timescale
} sg_enc_params;

// sg_enc_open starts an H.264 (libx264, High, yuv420p, no B-frames)
// fragmented MP4 at path. Returns NULL and fills err on failure.
sg_enc *sg_enc_open(const char *path, const sg_enc_params *p, char *err, int errlen);

// sg_enc_write encodes one yuv420p frame at pts; 0 or -1 (see sg_enc_error).
// src is read in place and not referenced after the call returns.
int sg_enc_write(sg_enc *e, uint8_t *src, int64_t pts);

// sg_enc_finish flushes the encoder and writes the trailer; 0 or -1.
int sg_enc_finish(sg_enc *e);

const char *sg_enc_error(sg_enc *e);

// sg_enc_close frees e (finished or not) and closes the file.
void sg_enc_close(sg_enc *e);

#endif
