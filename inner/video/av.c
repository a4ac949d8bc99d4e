#include "av.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

// Errors are returned to Go with their context; FFmpeg's own log lines
// would only be noise on the daemon's stderr.
__attribute__((constructor)) static void quiet(void) { av_log_set_level(AV_LOG_QUIET); }

static void put_err(char *buf, int len, const char *what, int code) {
	char e[AV_ERROR_MAX_STRING_SIZE] = "";
	if (code) {
		av_strerror(code, e, sizeof e);
		snprintf(buf, len, "%s: %s", what, e);
	} else {
		snprintf(buf, len, "%s", what);
	}
}

struct sg_dec {
	AVFormatContext *fmt;
	AVCodecContext *ctx;
	AVPacket *pkt;
	AVFrame *frame;
	struct SwsContext *sws;
	int stream;
	int nat_w, nat_h; // the stream's coded picture size (odd sizes allowed)
	int pw, ph;       // picture before rotation, even
	int out_w, out_h; // picture handed out
	int rot;          // clockwise degrees
	int scale;        // pw×ph is not the natural size padded: resample
	uint8_t *tmp;     // pre-rotation picture when rotating
	int draining, errors;
	char err[256];
};

// rotation is the clockwise turn the stream asks players to apply, as the
// ffmpeg tool's autorotation reads it.
static int rotation(AVStream *st) {
	const int32_t *m = (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
	if (!m) return 0;
	double theta = -av_display_rotation_get(m);
	theta -= 360 * floor(theta / 360 + 0.9 / 360);
	int r = (int)lround(theta / 90) * 90 % 360;
	return r;
}

// first_video is the stream the tools' "v:0" names: the first video stream
// that is not cover art.
static int first_video(AVFormatContext *fmt) {
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		AVStream *st = fmt->streams[i];
		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) return (int)i;
	}
	return -1;
}

int sg_probe(const char *path, sg_probe_info *out, char *err, int errlen) {
	AVFormatContext *fmt = NULL;
	AVPacket *pkt = NULL;
	int cap = 0, ret = -1;
	memset(out, 0, sizeof *out);
	int r = avformat_open_input(&fmt, path, NULL, NULL);
	if (r < 0) {
		put_err(err, errlen, "opening", r);
		return -1;
	}
	if ((r = avformat_find_stream_info(fmt, NULL)) < 0) {
		put_err(err, errlen, "reading stream parameters", r);
		goto done;
	}
	int s = first_video(fmt);
	if (s < 0) {
		put_err(err, errlen, "no video stream", 0);
		goto done;
	}
	for (unsigned i = 0; i < fmt->nb_streams; i++) {
		if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) out->has_audio = 1;
		if ((int)i != s) fmt->streams[i]->discard = AVDISCARD_ALL;
	}
	AVStream *st = fmt->streams[s];
	snprintf(out->codec, sizeof out->codec, "%s", avcodec_get_name(st->codecpar->codec_id));
	out->width = st->codecpar->width;
	out->height = st->codecpar->height;
	out->tb_num = st->time_base.num;
	out->tb_den = st->time_base.den;
	out->fr_num = st->r_frame_rate.num;
	out->fr_den = st->r_frame_rate.den;
	out->rotation = rotation(st);
	if (!(pkt = av_packet_alloc())) {
		put_err(err, errlen, "out of memory", 0);
		goto done;
	}
	while ((r = av_read_frame(fmt, pkt)) >= 0) {
		if (pkt->stream_index == s) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 1024;
				int64_t *pts = av_realloc_array(out->pts, cap, sizeof *pts);
				if (pts) out->pts = pts;
				int64_t *dts = av_realloc_array(out->dts, cap, sizeof *dts);
				if (dts) out->dts = dts;
				uint8_t *d = av_realloc_array(out->discard, cap, 1);
				if (d) out->discard = d;
				if (!pts || !dts || !d) {
					av_packet_unref(pkt);
					put_err(err, errlen, "out of memory", 0);
					goto done;
				}
			}
			out->pts[out->n] = pkt->pts == AV_NOPTS_VALUE ? INT64_MIN : pkt->pts;
			out->dts[out->n] = pkt->dts == AV_NOPTS_VALUE ? INT64_MIN : pkt->dts;
			out->discard[out->n] = (pkt->flags & AV_PKT_FLAG_DISCARD) != 0;
			out->n++;
		}
		av_packet_unref(pkt);
	}
	// A read error ends the listing as the end of the file would: the
	// frames that are there are counted, and decoding reports the rest.
	ret = 0;
done:
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return ret;
}

void sg_probe_free(sg_probe_info *p) {
	av_freep(&p->pts);
	av_freep(&p->dts);
	av_freep(&p->discard);
}

sg_dec *sg_dec_open(const char *path, int out_w, int out_h, char *err, int errlen) {
	sg_dec *d = av_mallocz(sizeof *d);
	if (!d) {
		put_err(err, errlen, "out of memory", 0);
		return NULL;
	}
	int r = avformat_open_input(&d->fmt, path, NULL, NULL);
	if (r < 0) {
		put_err(err, errlen, "opening", r);
		goto fail;
	}
	if ((r = avformat_find_stream_info(d->fmt, NULL)) < 0) {
		put_err(err, errlen, "reading stream parameters", r);
		goto fail;
	}
	d->stream = first_video(d->fmt);
	for (unsigned i = 0; i < d->fmt->nb_streams; i++)
		if ((int)i != d->stream) d->fmt->streams[i]->discard = AVDISCARD_ALL; // not demuxed further
	if (d->stream < 0) {
		put_err(err, errlen, "no video stream", 0);
		goto fail;
	}
	AVStream *st = d->fmt->streams[d->stream];
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	if (!codec) {
		snprintf(err, errlen, "no decoder for %s", avcodec_get_name(st->codecpar->codec_id));
		goto fail;
	}
	if (!(d->ctx = avcodec_alloc_context3(codec)) || !(d->pkt = av_packet_alloc()) || !(d->frame = av_frame_alloc())) {
		put_err(err, errlen, "out of memory", 0);
		goto fail;
	}
	if ((r = avcodec_parameters_to_context(d->ctx, st->codecpar)) < 0) {
		put_err(err, errlen, "decoder parameters", r);
		goto fail;
	}
	d->ctx->pkt_timebase = st->time_base;
	d->ctx->thread_count = 0; // one per core, as the ffmpeg tool does
	d->ctx->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	if ((r = avcodec_open2(d->ctx, codec, NULL)) < 0) {
		put_err(err, errlen, "opening the decoder", r);
		goto fail;
	}
	d->nat_w = st->codecpar->width;
	d->nat_h = st->codecpar->height;
	d->rot = rotation(st);
	d->out_w = out_w;
	d->out_h = out_h;
	d->pw = out_w;
	d->ph = out_h;
	if (d->rot == 90 || d->rot == 270) {
		d->pw = out_h;
		d->ph = out_w;
	}
	if (out_w <= 0 || out_h <= 0 || out_w % 2 || out_h % 2 || d->nat_w <= 0 || d->nat_h <= 0) {
		snprintf(err, errlen, "bad picture size %dx%d for a %dx%d stream", out_w, out_h, d->nat_w, d->nat_h);
		goto fail;
	}
	d->scale = d->pw != d->nat_w + d->nat_w % 2 || d->ph != d->nat_h + d->nat_h % 2;
	if (d->rot && !(d->tmp = av_malloc((size_t)d->pw * d->ph * 3 / 2))) {
		put_err(err, errlen, "out of memory", 0);
		goto fail;
	}
	return d;
fail:
	sg_dec_close(d);
	return NULL;
}

static void copy_plane(uint8_t *dst, int dstride, const uint8_t *src, int sstride, int w, int h) {
	for (int y = 0; y < h; y++) memcpy(dst + (size_t)y * dstride, src + (size_t)y * sstride, w);
}

// rotate_plane turns a w×h plane clockwise by rot degrees into dst.
static void rotate_plane(uint8_t *dst, const uint8_t *src, int w, int h, int rot) {
	switch (rot) {
	case 90: // dst is h wide: dst(X, Y) = src(Y, h-1-X)
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) dst[(size_t)x * h + (h - 1 - y)] = src[(size_t)y * w + x];
		break;
	case 180:
		for (size_t i = 0, n = (size_t)w * h; i < n; i++) dst[n - 1 - i] = src[i];
		break;
	case 270: // dst(X, Y) = src(w-1-Y, X)
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) dst[(size_t)(w - 1 - x) * h + y] = src[(size_t)y * w + x];
		break;
	}
}

// picture converts the decoded frame into a pw×ph yuv420p picture at out.
static int picture(sg_dec *d, uint8_t *out) {
	AVFrame *f = d->frame;
	int pw = d->pw, ph = d->ph;
	uint8_t *planes[4] = {out, out + (size_t)pw * ph, out + (size_t)pw * ph * 5 / 4, NULL};
	int strides[4] = {pw, pw / 2, pw / 2, 0};
	int same = !d->scale && f->width == d->nat_w && f->height == d->nat_h;
	if (same && f->format == AV_PIX_FMT_YUV420P) {
		copy_plane(planes[0], strides[0], f->data[0], f->linesize[0], f->width, f->height);
		copy_plane(planes[1], strides[1], f->data[1], f->linesize[1], (f->width + 1) / 2, (f->height + 1) / 2);
		copy_plane(planes[2], strides[2], f->data[2], f->linesize[2], (f->width + 1) / 2, (f->height + 1) / 2);
	} else {
		// Other pixel formats, full-range (yuvj) sources, the small copies
		// analysis asks for and streams that change size midway.
		int tw = same ? f->width : pw, th = same ? f->height : ph;
		d->sws = sws_getCachedContext(d->sws, f->width, f->height, f->format, tw, th, AV_PIX_FMT_YUV420P,
		                              d->scale ? SWS_AREA : SWS_BICUBIC, NULL, NULL, NULL);
		if (!d->sws) {
			snprintf(d->err, sizeof d->err, "cannot convert %s %dx%d to yuv420p", av_get_pix_fmt_name(f->format), f->width, f->height);
			return -1;
		}
		sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes, strides);
	}
	if (same) { // odd sizes: repeat the last column and row
		if (f->width % 2)
			for (int y = 0; y < f->height; y++) planes[0][(size_t)y * pw + f->width] = planes[0][(size_t)y * pw + f->width - 1];
		if (f->height % 2) memcpy(planes[0] + (size_t)f->height * pw, planes[0] + (size_t)(f->height - 1) * pw, pw);
	}
	return 0;
}

static int convert(sg_dec *d, uint8_t *dst) {
	if (!d->rot) return picture(d, dst);
	if (picture(d, d->tmp) < 0) return -1;
	size_t n = (size_t)d->pw * d->ph;
	rotate_plane(dst, d->tmp, d->pw, d->ph, d->rot);
	rotate_plane(dst + n, d->tmp + n, d->pw / 2, d->ph / 2, d->rot);
	rotate_plane(dst + n * 5 / 4, d->tmp + n * 5 / 4, d->pw / 2, d->ph / 2, d->rot);
	return 0;
}

// A damaged packet is skipped, as the ffmpeg tool does; the caller counts
// frames and reports the loss. Too many errors in a row is a broken stream.
static int skipped(sg_dec *d, const char *what, int code) {
	put_err(d->err, sizeof d->err, what, code);
	if (code == AVERROR(ENOMEM) || ++d->errors > 64) return -1;
	return 0;
}

int sg_dec_next(sg_dec *d, uint8_t *dst, int64_t *pts) {
	for (;;) {
		int r = avcodec_receive_frame(d->ctx, d->frame);
		if (r == 0) {
			d->errors = 0;
			*pts = d->frame->best_effort_timestamp;
			r = convert(d, dst);
			av_frame_unref(d->frame);
			return r < 0 ? -1 : 1;
		}
		if (r == AVERROR_EOF) return 0;
		if (r != AVERROR(EAGAIN)) {
			if (skipped(d, "decoding", r) < 0) return -1;
			continue;
		}
		if (d->draining) return 0;
		r = av_read_frame(d->fmt, d->pkt);
		if (r < 0) {
			if (r != AVERROR_EOF) put_err(d->err, sizeof d->err, "reading", r);
			d->draining = 1;
			avcodec_send_packet(d->ctx, NULL);
			continue;
		}
		if (d->pkt->stream_index != d->stream) {
			av_packet_unref(d->pkt);
			continue;
		}
		r = avcodec_send_packet(d->ctx, d->pkt);
		av_packet_unref(d->pkt);
		if (r < 0 && skipped(d, "decoding", r) < 0) return -1;
	}
}

int sg_dec_seek(sg_dec *d, int64_t ts) {
	int r = av_seek_frame(d->fmt, d->stream, ts, AVSEEK_FLAG_BACKWARD);
	if (r < 0) {
		put_err(d->err, sizeof d->err, "seeking", r);
		return -1;
	}
	avcodec_flush_buffers(d->ctx);
	d->draining = 0;
	d->errors = 0;
	return 0;
}

const char *sg_dec_error(sg_dec *d) { return d->err; }

void sg_dec_close(sg_dec *d) {
	if (!d) return;
	sws_freeContext(d->sws);
	av_frame_free(&d->frame);
	av_packet_free(&d->pkt);
	avcodec_free_context(&d->ctx);
	avformat_close_input(&d->fmt);
	av_free(d->tmp);
	av_free(d);
}

struct sg_enc {
	AVFormatContext *oc;
	AVCodecContext *c;
	AVStream *st;
	AVFrame *frame;
	AVPacket *pkt;
	char err[256];
};

static int enc_fail(sg_enc *e, const char *what, int code) {
	put_err(e->err, sizeof e->err, what, code);
	return -1;
}

// ENCODER_NICE is how much lower than the caller's the encoder's threads
// run. Masking feeds the encoder from one analysis thread; at equal
// priority libx264's workers take most of both cores, the analysis falls
// behind and the encoder then starves. Lower, the encoder still gets every
// cycle the analysis leaves.
#define ENCODER_NICE 10

struct open_args {
	AVCodecContext *c;
	const AVCodec *codec;
	AVDictionary **opts;
	int ret;
};

static void *open_thread(void *p) {
	struct open_args *a = p;
	// On Linux the nice value is per thread, and threads inherit it: the
	// workers libx264 starts here run at this one's.
	pid_t tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno == 0) setpriority(PRIO_PROCESS, (id_t)tid, nice + ENCODER_NICE > 19 ? 19 : nice + ENCODER_NICE);
	a->ret = avcodec_open2(a->c, a->codec, a->opts);
	return NULL;
}

// open_yielding opens the encoder from a short-lived thread of lower
// priority (see ENCODER_NICE), or from this one if no thread can start.
static int open_yielding(AVCodecContext *c, const AVCodec *codec, AVDictionary **opts) {
	struct open_args a = {c, codec, opts, 0};
	pthread_t t;
	if (pthread_create(&t, NULL, open_thread, &a) != 0) return avcodec_open2(c, codec, opts);
	pthread_join(t, NULL);
	return a.ret;
}

sg_enc *sg_enc_open(const char *path, const sg_enc_params *p, char *err, int errlen) {
	sg_enc *e = av_mallocz(sizeof *e);
	AVDictionary *opts = NULL;
	char crf[16];
	if (!e) {
		put_err(err, errlen, "out of memory", 0);
		return NULL;
	}
	int r = avformat_alloc_output_context2(&e->oc, NULL, "mp4", path);
	if (r < 0) {
		put_err(err, errlen, "mp4 muxer", r);
		goto fail;
	}
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	if (!codec) {
		put_err(err, errlen, "this FFmpeg has no libx264 encoder", 0);
		goto fail;
	}
	if (!(e->st = avformat_new_stream(e->oc, NULL)) || !(e->c = avcodec_alloc_context3(codec)) ||
	    !(e->pkt = av_packet_alloc()) || !(e->frame = av_frame_alloc())) {
		put_err(err, errlen, "out of memory", 0);
		goto fail;
	}
	AVCodecContext *c = e->c;
	c->width = p->width;
	c->height = p->height;
	c->pix_fmt = AV_PIX_FMT_YUV420P;
	c->time_base = (AVRational){p->tb_num, p->tb_den};
	c->framerate = (AVRational){p->fps_num, p->fps_den};
	c->gop_size = p->gop;
	c->max_b_frames = 0;
	c->profile = FF_PROFILE_H264_HIGH;
	c->level = p->level_idc;
	c->rc_max_rate = (int64_t)p->max_kbps * 1000;
	c->rc_buffer_size = p->max_kbps * 1000;
	c->thread_count = 0;
	if (e->oc->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	snprintf(crf, sizeof crf, "%d", p->crf);
	av_dict_set(&opts, "preset", p->preset, 0);
	av_dict_set(&opts, "crf", crf, 0);
	av_dict_set(&opts, "profile", "high", 0);
	if ((r = open_yielding(c, codec, &opts)) < 0) {
		put_err(err, errlen, "opening libx264", r);
		goto fail;
	}
	if (av_dict_count(opts) > 0) {
		snprintf(err, errlen, "libx264 does not know option %s", av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX)->key);
		goto fail;
	}
	av_dict_free(&opts);
	if ((r = avcodec_parameters_from_context(e->st->codecpar, c)) < 0) {
		put_err(err, errlen, "stream parameters", r);
		goto fail;
	}
	e->st->time_base = c->time_base;
	if ((r = avio_open(&e->oc->pb, path, AVIO_FLAG_WRITE)) < 0) {
		put_err(err, errlen, "creating the output", r);
		goto fail;
	}
	av_dict_set(&opts, "movflags", "+frag_keyframe+delay_moov+default_base_moof", 0);
	av_dict_set(&opts, "video_track_timescale", p->timescale, 0);
	if ((r = avformat_write_header(e->oc, &opts)) < 0) {
		put_err(err, errlen, "writing the MP4 header", r);
		goto fail;
	}
	av_dict_free(&opts);
	return e;
fail:
	av_dict_free(&opts);
	sg_enc_close(e);
	return NULL;
}

// drain moves every packet the encoder has ready into the file.
static int drain(sg_enc *e) {
	for (;;) {
		int r = avcodec_receive_packet(e->c, e->pkt);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
		if (r < 0) return enc_fail(e, "encoding", r);
		av_packet_rescale_ts(e->pkt, e->c->time_base, e->st->time_base);
		e->pkt->stream_index = e->st->index;
		if ((r = av_interleaved_write_frame(e->oc, e->pkt)) < 0) return enc_fail(e, "writing", r);
	}
}

// keep is the free callback of a picture the caller owns.
static void keep(void *opaque, uint8_t *data) { (void)opaque, (void)data; }

int sg_enc_write(sg_enc *e, uint8_t *src, int64_t pts) {
	// The picture is handed to the encoder where it lies, without a copy:
	// libx264 copies it into its own frame inside avcodec_send_frame, and
	// every packet is drained before returning. The caller's buffer must
	// not be referenced after this call, so that is checked, not assumed.
	if (!e->c) return enc_fail(e, "the encoder has failed", 0);
	AVFrame *f = e->frame;
	int w = e->c->width, h = e->c->height;
	size_t n = (size_t)w * h;
	AVBufferRef *ours = av_buffer_create(src, n * 3 / 2, keep, NULL, 0);
	if (!ours || !(f->buf[0] = av_buffer_ref(ours))) {
		av_buffer_unref(&ours);
		return enc_fail(e, "out of memory", 0);
	}
	f->format = AV_PIX_FMT_YUV420P;
	f->width = w;
	f->height = h;
	f->data[0] = src;
	f->data[1] = src + n;
	f->data[2] = src + n * 5 / 4;
	f->linesize[0] = w;
	f->linesize[1] = f->linesize[2] = w / 2;
	f->pts = pts;
	int r = avcodec_send_frame(e->c, f);
	av_frame_unref(f);
	r = r < 0 ? enc_fail(e, "encoding", r) : drain(e);
	int held = av_buffer_get_ref_count(ours) > 1;
	av_buffer_unref(&ours);
	if (held) {
		// The encoder kept the picture: let go of it now, before the
		// caller reuses the buffer, and fail the stream.
		avcodec_free_context(&e->c);
		return enc_fail(e, "the encoder kept a reference to the input picture", 0);
	}
	return r;
}

int sg_enc_finish(sg_enc *e) {
	if (!e->c) return enc_fail(e, "the encoder has failed", 0);
	int r = avcodec_send_frame(e->c, NULL);
	if (r < 0) return enc_fail(e, "flushing the encoder", r);
	if (drain(e) < 0) return -1;
	if ((r = av_write_trailer(e->oc)) < 0) return enc_fail(e, "finishing the MP4", r);
	if ((r = avio_closep(&e->oc->pb)) < 0) return enc_fail(e, "closing the output", r);
	return 0;
}

const char *sg_enc_error(sg_enc *e) { return e->err; }

void sg_enc_close(sg_enc *e) {
	if (!e) return;
	if (e->oc && e->oc->pb) avio_closep(&e->oc->pb);
	avformat_free_context(e->oc);
	avcodec_free_context(&e->c);
	av_frame_free(&e->frame);
	av_packet_free(&e->pkt);
	av_free(e);
}
