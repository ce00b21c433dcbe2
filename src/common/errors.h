/*
 * errors.h — the one table of the Windows error codes nsem uses: name and message of each.
 * The numeric values are the #defines of nsem.h; this X-macro gives their names and messages to
 * NsemErrorName(), NsemErrorMessage(), the server's log and the CLI.
 */
#ifndef NSEM_COMMON_ERRORS_H
#define NSEM_COMMON_ERRORS_H

#include <nsem.h>

#define NSEM_ERROR_MAP(X) \
    X(ERROR_SUCCESS, "The operation completed successfully.") \
    X(ERROR_INVALID_FUNCTION, "Incorrect function.") \
    X(ERROR_FILE_NOT_FOUND, "The system cannot find the file specified.") \
    X(ERROR_PATH_NOT_FOUND, "The system cannot find the path specified.") \
    X(ERROR_ACCESS_DENIED, "Access is denied.") \
    X(ERROR_INVALID_HANDLE, "The handle is invalid.") \
    X(ERROR_NOT_ENOUGH_MEMORY, "Not enough memory resources are available to process this command.") \
    X(ERROR_BAD_LENGTH, "The program issued a command but the command length is incorrect.") \
    X(ERROR_INVALID_PARAMETER, "The parameter is incorrect.") \
    X(ERROR_EXCL_SEM_ALREADY_OWNED, "The exclusive semaphore is owned by another process.") \
    X(ERROR_TOO_MANY_SEM_REQUESTS, "The semaphore cannot be set again.") \
    X(ERROR_SEM_OWNER_DIED, "The previous ownership of this semaphore has ended.") \
    X(ERROR_CALL_NOT_IMPLEMENTED, "This function is not supported on this system.") \
    X(ERROR_SEM_TIMEOUT, "The semaphore timeout period has expired.") \
    X(ERROR_INSUFFICIENT_BUFFER, "The data area passed to a system call is too small.") \
    X(ERROR_DUP_NAME, "You were not connected because a duplicate name exists on the network.") \
    X(ERROR_NOT_SUPPORTED, "The request is not supported.") \
    X(ERROR_INVALID_NAME, "The filename, directory name, or volume label syntax is incorrect.") \
    X(ERROR_BAD_PATHNAME, "The specified path is invalid.") \
    X(ERROR_ALREADY_EXISTS, "Cannot create a file when that file already exists.") \
    X(ERROR_FILENAME_EXCED_RANGE, "The filename or extension is too long.") \
    X(ERROR_NOT_OWNER, "Attempt to release mutex not owned by caller.") \
    X(ERROR_TOO_MANY_POSTS, "Too many posts were made to a semaphore.") \
    X(ERROR_MUTANT_LIMIT_EXCEEDED, "An attempt was made to exceed the limit on the number of concurrent acquisitions of a mutant.") \
    X(ERROR_OBJECT_NAME_EXISTS, "An attempt was made to create an object and the object name already existed.") \
    X(ERROR_ABANDONED_WAIT_0, "The wait was satisfied by an abandoned mutex.") \
    X(ERROR_NOACCESS, "Invalid access to memory location.") \
    X(ERROR_SERVICE_NOT_ACTIVE, "The service has not been started.") \
    X(ERROR_PROCESS_ABORTED, "The process terminated unexpectedly.") \
    X(ERROR_UNKNOWN_REVISION, "The revision level is unknown.") \
    X(ERROR_INVALID_OWNER, "This security ID may not be assigned as the owner of this object.") \
    X(ERROR_PRIVILEGE_NOT_HELD, "A required privilege is not held by the client.") \
    X(ERROR_NONE_MAPPED, "No mapping between account names and security IDs was done.") \
    X(ERROR_INVALID_ACL, "The access control list (ACL) structure is invalid.") \
    X(ERROR_INVALID_SID, "The security ID structure is invalid.") \
    X(ERROR_INVALID_SECURITY_DESCR, "The security descriptor structure is invalid.") \
    X(ERROR_RETRY, "The operation could not be completed. A retry should be performed.") \
    X(ERROR_NO_SYSTEM_RESOURCES, "Insufficient system resources exist to complete the requested service.") \
    X(ERROR_TIMEOUT, "This operation returned because the timeout period expired.") \
    X(ERROR_NOT_ENOUGH_QUOTA, "Not enough quota is available to process this command.")

const char *nsem__error_name(DWORD code);
const char *nsem__error_message(DWORD code);

#endif
