/*
 * check.h — the fuzz harnesses' invariant check: a failed CHECK prints where and what, then aborts,
 * so that libFuzzer keeps the input as a crash (a logic bug, not only a memory error).
 */
#ifndef NSEM_FUZZ_CHECK_H
#define NSEM_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)

#endif
