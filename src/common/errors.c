/* errors.c — names and messages of the Windows error codes, from the one table in errors.h. */
#include "common/errors.h"

const char *nsem__error_name(DWORD code)
{
    switch (code) {
#define NSEM_ERROR_NAME_CASE(name, msg) \
    case name: \
        return #name;
        NSEM_ERROR_MAP(NSEM_ERROR_NAME_CASE)
#undef NSEM_ERROR_NAME_CASE
    default:
        return NULL;
    }
}

const char *nsem__error_message(DWORD code)
{
    switch (code) {
#define NSEM_ERROR_MSG_CASE(name, msg) \
    case name: \
        return msg;
        NSEM_ERROR_MAP(NSEM_ERROR_MSG_CASE)
#undef NSEM_ERROR_MSG_CASE
    default:
        return NULL;
    }
}
