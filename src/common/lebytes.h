/*
 * lebytes.h — little-endian fields of Windows' binary security structures, read and written byte
 * by byte: a SID, ACL or security descriptor may sit at any address of a caller's buffer or of a
 * message, so no field is ever read through a cast pointer.
 */
#ifndef NSEM_COMMON_LEBYTES_H
#define NSEM_COMMON_LEBYTES_H

#include <stdint.h>

static inline uint16_t nsem__rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t nsem__rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void nsem__wr16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void nsem__wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

#endif
