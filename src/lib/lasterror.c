/* lasterror.c — GetLastError/SetLastError (one value per thread) and the error-name lookups. */
#include "common/errors.h"
#include "lib/client.h"

/* initial-exec: a plain TLS load, no __tls_get_addr call, on every API call that sets it. */
static __thread DWORD last_error __attribute__((tls_model("initial-exec")));

NSEM_EXTERN DWORD GetLastError(void)
{
    return last_error;
}

NSEM_EXTERN void SetLastError(DWORD dwErrCode)
{
    last_error = dwErrCode;
}

void nsem__set_error(DWORD code)
{
    last_error = code;
}

NSEM_EXTERN const char *NsemErrorName(DWORD dwError)
{
    return nsem__error_name(dwError);
}

NSEM_EXTERN const char *NsemErrorMessage(DWORD dwError)
{
    return nsem__error_message(dwError);
}
