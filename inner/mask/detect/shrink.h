#ifndef SEALGATE_SHRINK_H
#define SEALGATE_SHRINK_H
#include <stdint.h>
void sg_shrink(const uint8_t *src, int sw, int sh, uint8_t *dst, int k, uint16_t *col);
#endif
