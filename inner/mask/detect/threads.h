#ifndef SEALGATE_THREADS_H
#define SEALGATE_THREADS_H
#ifdef __cplusplus
extern "C" {
#endif
void sg_cv_set_threads(int n);
#ifdef __cplusplus
}
#endif
#endif
