/*
 * nsem.h — Windows named synchronization objects for Linux.
 *
 * This header is the whole public contract of libnsem. It declares the Win32 types, constants
 * (with their Windows numeric values) and functions for named semaphores, mutexes and events,
 * waits and handles, plus nsem's own extensions (prefix Nsem / NSEM_).
 *
 * Link with -lnsem (pkg-config nsem). Every function is thread-safe; GetLastError() is per thread.
 * The first call that needs the object server starts it if none is running.
 *
 * Error codes: each function's comment lists every GetLastError() value it can set on failure.
 * Any call that needs the server can also fail with ERROR_SERVICE_NOT_ACTIVE (the server could not
 * be reached or started), ERROR_ACCESS_DENIED (the socket's directory is not a directory of the
 * caller's with no group or other access: see README) or ERROR_NOT_ENOUGH_MEMORY; those are not
 * repeated below.
 *
 * Limits. The server is per user, and so are its limits (nsem(1), LIMITS; docs/reliability.md):
 * live objects (default 2,097,152), handles per process (default 1,048,576) and handles in all
 * (default 4,194,304), set by NSEMD_MAX_OBJECTS, NSEMD_MAX_HANDLES_PER_PROCESS and
 * NSEMD_MAX_HANDLES in the environment of the process that starts the server. A call that would
 * pass one fails with ERROR_NOT_ENOUGH_QUOTA — Windows' code when its quota refuses a charge
 * (STATUS_QUOTA_EXCEEDED) — and one that needs shared memory when the server's arena of object
 * slots is full fails with ERROR_NO_SYSTEM_RESOURCES — Windows' code for a resource that is used up
 * (STATUS_INSUFFICIENT_RESOURCES). Either is checked after every other error of the call, and the
 * call then changes nothing. Closing handles (and the objects that go with them) gives the room
 * back. A fork() whose copy of the parent's handles would pass the limit on handles in all goes
 * ahead (a library cannot refuse a fork) without them: its handle values are invalid, but for
 * copies of the inheritable ones that its first call gets if they fit then; posix_spawn(),
 * posix_spawnp() and system() fail with EAGAIN then, as CreateProcess fails when it cannot give a
 * child its inherited handles.
 *
 * If the server dies (it is killed, say), every call blocked in a wait returns at once with
 * WAIT_FAILED and ERROR_PROCESS_ABORTED, as does the call whose request it was serving; from then
 * on the process's handles are closed (ERROR_INVALID_HANDLE), and the next call that needs the
 * server starts a new one. See docs/reliability.md.
 */
#ifndef NSEM_H
#define NSEM_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define NSEM_EXTERN __attribute__((visibility("default")))
#else
#define NSEM_EXTERN
#endif

/* ---------------------------------------------------------------------------------------------
 * Win32 types
 * ------------------------------------------------------------------------------------------- */

typedef int BOOL;
typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int32_t LONG; /* Windows LONG is 32 bits on every platform. */
typedef uint32_t ULONG;
typedef uint64_t ULONGLONG;
typedef void *HANDLE;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef DWORD *LPDWORD;
typedef LONG *LPLONG;
typedef HANDLE *LPHANDLE;
typedef char CHAR;
typedef wchar_t WCHAR; /* so that L"..." literals are WCHAR strings */
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef ULONG *PULONG;
typedef void *HLOCAL;

typedef struct _SECURITY_ATTRIBUTES {
    DWORD nLength;
    LPVOID lpSecurityDescriptor;
    BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#define MAX_PATH 260

/* ---------------------------------------------------------------------------------------------
 * Access rights
 * ------------------------------------------------------------------------------------------- */

#define DELETE 0x00010000u
#define READ_CONTROL 0x00020000u
#define WRITE_DAC 0x00040000u
#define WRITE_OWNER 0x00080000u
#define SYNCHRONIZE 0x00100000u
#define STANDARD_RIGHTS_REQUIRED 0x000F0000u
#define STANDARD_RIGHTS_READ READ_CONTROL
#define STANDARD_RIGHTS_WRITE READ_CONTROL
#define STANDARD_RIGHTS_EXECUTE READ_CONTROL
#define STANDARD_RIGHTS_ALL 0x001F0000u
#define SPECIFIC_RIGHTS_ALL 0x0000FFFFu
#define ACCESS_SYSTEM_SECURITY 0x01000000u
#define MAXIMUM_ALLOWED 0x02000000u
#define GENERIC_ALL 0x10000000u
#define GENERIC_EXECUTE 0x20000000u
#define GENERIC_WRITE 0x40000000u
#define GENERIC_READ 0x80000000u

#define SEMAPHORE_QUERY_STATE 0x0001u
#define SEMAPHORE_MODIFY_STATE 0x0002u
#define SEMAPHORE_ALL_ACCESS 0x001F0003u
#define MUTANT_QUERY_STATE 0x0001u
#define MUTEX_MODIFY_STATE 0x0001u
#define MUTANT_ALL_ACCESS 0x001F0001u
#define MUTEX_ALL_ACCESS 0x001F0001u
#define EVENT_QUERY_STATE 0x0001u
#define EVENT_MODIFY_STATE 0x0002u
#define EVENT_ALL_ACCESS 0x001F0003u
#define PROCESS_TERMINATE 0x0001u
#define PROCESS_DUP_HANDLE 0x0040u
#define PROCESS_QUERY_INFORMATION 0x0400u
#define PROCESS_QUERY_LIMITED_INFORMATION 0x1000u
#define PROCESS_ALL_ACCESS 0x001FFFFFu

/* ---------------------------------------------------------------------------------------------
 * Waits, handles, creation flags
 * ------------------------------------------------------------------------------------------- */

#define WAIT_OBJECT_0 0x00000000u
#define WAIT_ABANDONED 0x00000080u
#define WAIT_ABANDONED_0 0x00000080u
#define WAIT_IO_COMPLETION 0x000000C0u
#define WAIT_TIMEOUT 0x00000102u
#define WAIT_FAILED 0xFFFFFFFFu
#define INFINITE 0xFFFFFFFFu
#define MAXIMUM_WAIT_OBJECTS 64

#define HANDLE_FLAG_INHERIT 0x00000001u
#define HANDLE_FLAG_PROTECT_FROM_CLOSE 0x00000002u
#define DUPLICATE_CLOSE_SOURCE 0x00000001u
#define DUPLICATE_SAME_ACCESS 0x00000002u
#define DUPLICATE_SAME_ATTRIBUTES 0x00000004u

#define CREATE_MUTEX_INITIAL_OWNER 0x00000001u
#define CREATE_EVENT_MANUAL_RESET 0x00000001u
#define CREATE_EVENT_INITIAL_SET 0x00000002u

/* ---------------------------------------------------------------------------------------------
 * Error codes (GetLastError values), with the Windows numbers
 * ------------------------------------------------------------------------------------------- */

#define ERROR_SUCCESS 0u
#define NO_ERROR 0u
#define ERROR_INVALID_FUNCTION 1u
#define ERROR_FILE_NOT_FOUND 2u
#define ERROR_PATH_NOT_FOUND 3u
#define ERROR_ACCESS_DENIED 5u
#define ERROR_INVALID_HANDLE 6u
#define ERROR_NOT_ENOUGH_MEMORY 8u
#define ERROR_BAD_LENGTH 24u
#define ERROR_INVALID_PARAMETER 87u
#define ERROR_EXCL_SEM_ALREADY_OWNED 101u
#define ERROR_TOO_MANY_SEM_REQUESTS 103u
#define ERROR_SEM_OWNER_DIED 105u
#define ERROR_CALL_NOT_IMPLEMENTED 120u
#define ERROR_SEM_TIMEOUT 121u
#define ERROR_INSUFFICIENT_BUFFER 122u
#define ERROR_DUP_NAME 52u
#define ERROR_NOT_SUPPORTED 50u
#define ERROR_INVALID_NAME 123u
#define ERROR_BAD_PATHNAME 161u
#define ERROR_ALREADY_EXISTS 183u
#define ERROR_FILENAME_EXCED_RANGE 206u
#define ERROR_NOT_OWNER 288u
#define ERROR_TOO_MANY_POSTS 298u
#define ERROR_MUTANT_LIMIT_EXCEEDED 587u
#define ERROR_OBJECT_NAME_EXISTS 698u
#define ERROR_ABANDONED_WAIT_0 735u
#define ERROR_NOACCESS 998u
#define ERROR_SERVICE_NOT_ACTIVE 1062u
#define ERROR_PROCESS_ABORTED 1067u
#define ERROR_UNKNOWN_REVISION 1305u
#define ERROR_INVALID_OWNER 1307u
#define ERROR_PRIVILEGE_NOT_HELD 1314u
#define ERROR_NONE_MAPPED 1332u
#define ERROR_INVALID_ACL 1336u
#define ERROR_INVALID_SID 1337u
#define ERROR_INVALID_SECURITY_DESCR 1338u
#define ERROR_RETRY 1237u
#define ERROR_NO_SYSTEM_RESOURCES 1450u
#define ERROR_TIMEOUT 1460u
#define ERROR_NOT_ENOUGH_QUOTA 1816u

/* ---------------------------------------------------------------------------------------------
 * Last error (per thread)
 * ------------------------------------------------------------------------------------------- */

NSEM_EXTERN DWORD GetLastError(void);
NSEM_EXTERN void SetLastError(DWORD dwErrCode);

/* ---------------------------------------------------------------------------------------------
 * Semaphores
 *
 * Names: NULL or "" make an anonymous object. Otherwise the name is relative to the session
 * namespace; "Local\name" is the same, "Global\name" is the global namespace (the same as the
 * session namespace in session 0). Names are case-sensitive and may contain any character but '\'.
 * A names are UTF-8 and may have at most 260 UTF-16 units (more: ERROR_FILENAME_EXCED_RANGE);
 * W names longer than 32766 UTF-16 units are truncated to 32766, as Windows does.
 * Name errors (Create* and Open*): ERROR_BAD_PATHNAME (leading '\'), ERROR_PATH_NOT_FOUND
 * (a '\' after an element that is not a namespace), ERROR_INVALID_NAME (empty element, e.g.
 * "Global\"), ERROR_INVALID_HANDLE (the name is held by an object of another type, or is a
 * namespace link such as "Global" itself), ERROR_FILENAME_EXCED_RANGE (A names only).
 * ------------------------------------------------------------------------------------------- */

/* Creates a semaphore, or opens the existing one of that name (its counts and security descriptor
 * are then ignored, and SEMAPHORE_ALL_ACCESS must pass its descriptor's access check).
 * lpSemaphoreAttributes: NULL, or bInheritHandle and lpSecurityDescriptor, a self-relative
 * descriptor for the new object (NULL: the default one, see "Security" below; what it lacks is
 * taken from the default, so a blank one, a NULL DACL and an empty DACL are all accepted).
 * Success: a handle, with GetLastError() 0 for a new object or ERROR_ALREADY_EXISTS.
 * Failure: NULL with ERROR_INVALID_PARAMETER (lMaximumCount <= 0, lInitialCount < 0 or
 * > lMaximumCount; checked before the name), name errors (above), ERROR_INVALID_SECURITY_DESCR,
 * ERROR_INVALID_SID, ERROR_INVALID_ACL (a malformed lpSecurityDescriptor, even for an existing
 * name), ERROR_INVALID_OWNER (its owner is not the caller's user), ERROR_PRIVILEGE_NOT_HELD (a SACL
 * with anything but mandatory labels, or ACCESS_SYSTEM_SECURITY asked for by CreateSemaphoreEx),
 * ERROR_ACCESS_DENIED (the existing object's descriptor refuses the access), ERROR_NOT_ENOUGH_QUOTA
 * (a new object past the limit on objects, or its handle past the limit on handles per process or
 * in all; opening an existing object makes no object), ERROR_NO_SYSTEM_RESOURCES (a new object, and
 * the arena is full; an undo semaphore needs a second slot for the caller's undo record). */
NSEM_EXTERN HANDLE CreateSemaphoreA(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount,
                                    LONG lMaximumCount, LPCSTR lpName);
NSEM_EXTERN HANDLE CreateSemaphoreW(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount,
                                    LONG lMaximumCount, LPCWSTR lpName);
/* As CreateSemaphore, with the access of the new handle: a new object's handle gets exactly
 * dwDesiredAccess (generic rights mapped, MAXIMUM_ALLOWED as GENERIC_ALL, rights the type lacks
 * dropped; even 0), with no access check; an existing object's is checked against its descriptor
 * (0: ERROR_ACCESS_DENIED). dwFlags: 0, SEMAPHORE_EXCLUSIVE (see
 * "Exclusive semaphores" below: lMaximumCount must be 1, lInitialCount 1 is free and 0 is owned
 * by the calling thread) or SEMAPHORE_UNDO (see "Undo semaphores"); any other bit, both bits, or
 * an exclusive semaphore with another maximum, fails with ERROR_INVALID_PARAMETER. */
NSEM_EXTERN HANDLE CreateSemaphoreExA(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount,
                                      LONG lMaximumCount, LPCSTR lpName, DWORD dwFlags,
                                      DWORD dwDesiredAccess);
NSEM_EXTERN HANDLE CreateSemaphoreExW(LPSECURITY_ATTRIBUTES lpSemaphoreAttributes, LONG lInitialCount,
                                      LONG lMaximumCount, LPCWSTR lpName, DWORD dwFlags,
                                      DWORD dwDesiredAccess);
/* Opens an existing semaphore with dwDesiredAccess (generic rights mapped; MAXIMUM_ALLOWED: every
 * right the descriptor grants), if the object's security descriptor grants it to the caller.
 * Failure: NULL with ERROR_INVALID_PARAMETER (lpName NULL), ERROR_FILE_NOT_FOUND (no such name;
 * before any access check), ERROR_INVALID_HANDLE (another type's name; before the access check),
 * ERROR_ACCESS_DENIED (the descriptor refuses a right requested — a right the type does not have
 * is never granted — or no right is requested), ERROR_PRIVILEGE_NOT_HELD
 * (ACCESS_SYSTEM_SECURITY: nsem enables no privilege, not even root's), name errors,
 * ERROR_NOT_ENOUGH_QUOTA (the handle would pass the limit on handles per process or in all),
 * ERROR_NO_SYSTEM_RESOURCES (an undo semaphore new to the process, and the arena is full). */
NSEM_EXTERN HANDLE OpenSemaphoreA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName);
NSEM_EXTERN HANDLE OpenSemaphoreW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName);
/* Adds lReleaseCount to the count and reports the count before it.
 * Failure: FALSE with ERROR_INVALID_PARAMETER (lReleaseCount <= 0, checked first),
 * ERROR_INVALID_HANDLE (bad handle or not a semaphore), ERROR_ACCESS_DENIED (no
 * SEMAPHORE_MODIFY_STATE), ERROR_TOO_MANY_POSTS (the maximum would be passed: nothing changes and
 * *lpPreviousCount is not written).
 * An exclusive semaphore: releases one level of ownership of the calling process (any of its
 * threads); *lpPreviousCount is 0. Failure, after the handle check: ERROR_INVALID_PARAMETER
 * (lReleaseCount not 1), ERROR_ACCESS_DENIED, ERROR_NOT_OWNER (not owned),
 * ERROR_EXCL_SEM_ALREADY_OWNED (owned by another process; nothing changes). */
NSEM_EXTERN BOOL ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount);

/* ---------------------------------------------------------------------------------------------
 * Mutexes (owned by a thread, recursive; abandoned when the owner thread or process ends)
 * ------------------------------------------------------------------------------------------- */

/* Creates a mutex (owned by the calling thread if bInitialOwner and the object is new), or opens
 * the existing one. GetLastError() and failures as CreateSemaphore (no count errors). */
NSEM_EXTERN HANDLE CreateMutexA(LPSECURITY_ATTRIBUTES lpMutexAttributes, BOOL bInitialOwner, LPCSTR lpName);
NSEM_EXTERN HANDLE CreateMutexW(LPSECURITY_ATTRIBUTES lpMutexAttributes, BOOL bInitialOwner, LPCWSTR lpName);
/* dwFlags: CREATE_MUTEX_INITIAL_OWNER; other bits are ignored, as on Windows. */
NSEM_EXTERN HANDLE CreateMutexExA(LPSECURITY_ATTRIBUTES lpMutexAttributes, LPCSTR lpName, DWORD dwFlags,
                                  DWORD dwDesiredAccess);
NSEM_EXTERN HANDLE CreateMutexExW(LPSECURITY_ATTRIBUTES lpMutexAttributes, LPCWSTR lpName, DWORD dwFlags,
                                  DWORD dwDesiredAccess);
/* As OpenSemaphore. */
NSEM_EXTERN HANDLE OpenMutexA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName);
NSEM_EXTERN HANDLE OpenMutexW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName);
/* Releases one level of ownership. Needs no access right.
 * Failure: FALSE with ERROR_INVALID_HANDLE (bad handle or not a mutex), ERROR_NOT_OWNER (the
 * calling thread does not own it). */
NSEM_EXTERN BOOL ReleaseMutex(HANDLE hMutex);

/* ---------------------------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------------------------- */

/* GetLastError() and failures as CreateSemaphore (no count errors). */
NSEM_EXTERN HANDLE CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                                LPCSTR lpName);
NSEM_EXTERN HANDLE CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset, BOOL bInitialState,
                                LPCWSTR lpName);
/* dwFlags: CREATE_EVENT_MANUAL_RESET | CREATE_EVENT_INITIAL_SET; other bits are ignored. */
NSEM_EXTERN HANDLE CreateEventExA(LPSECURITY_ATTRIBUTES lpEventAttributes, LPCSTR lpName, DWORD dwFlags,
                                  DWORD dwDesiredAccess);
NSEM_EXTERN HANDLE CreateEventExW(LPSECURITY_ATTRIBUTES lpEventAttributes, LPCWSTR lpName, DWORD dwFlags,
                                  DWORD dwDesiredAccess);
/* As OpenSemaphore. */
NSEM_EXTERN HANDLE OpenEventA(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCSTR lpName);
NSEM_EXTERN HANDLE OpenEventW(DWORD dwDesiredAccess, BOOL bInheritHandle, LPCWSTR lpName);
/* Each needs EVENT_MODIFY_STATE. Failure: FALSE with ERROR_INVALID_HANDLE (bad handle or not an
 * event), ERROR_ACCESS_DENIED. PulseEvent releases the threads waiting at that moment (all for a
 * manual-reset event, one for an auto-reset event) and leaves the event reset. */
NSEM_EXTERN BOOL SetEvent(HANDLE hEvent);
NSEM_EXTERN BOOL ResetEvent(HANDLE hEvent);
NSEM_EXTERN BOOL PulseEvent(HANDLE hEvent);

/* ---------------------------------------------------------------------------------------------
 * Waits. Timeouts are in milliseconds on the monotonic clock; INFINITE waits forever.
 * Results: WAIT_OBJECT_0 + i, WAIT_ABANDONED_0 + i (an abandoned mutex was acquired),
 * WAIT_TIMEOUT, or WAIT_FAILED with GetLastError() set. Success leaves GetLastError() unchanged.
 * bAlertable is accepted; nsem has no APCs, so WAIT_IO_COMPLETION is never returned.
 * ------------------------------------------------------------------------------------------- */

/* Failure: WAIT_FAILED with ERROR_INVALID_HANDLE (bad or NULL handle), ERROR_ACCESS_DENIED (no
 * SYNCHRONIZE), ERROR_MUTANT_LIMIT_EXCEEDED (mutex recursion at 0x7FFFFFFF).
 * GetCurrentProcess() and GetCurrentThread() are never signalled while the caller runs. */
NSEM_EXTERN DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
NSEM_EXTERN DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable);
/* bWaitAll FALSE: acquires the lowest-index signalled object. TRUE: acquires all at once or none.
 * Failure: WAIT_FAILED with ERROR_INVALID_PARAMETER (nCount 0 or > 64; for wait-all, the same
 * object twice), ERROR_INVALID_HANDLE (a bad handle, or a pseudo handle), ERROR_ACCESS_DENIED,
 * ERROR_MUTANT_LIMIT_EXCEEDED. */
NSEM_EXTERN DWORD WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                         DWORD dwMilliseconds);
NSEM_EXTERN DWORD WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                           DWORD dwMilliseconds, BOOL bAlertable);
/* Signals hObjectToSignal (semaphore: release 1, needs SEMAPHORE_MODIFY_STATE; event: set, needs
 * EVENT_MODIFY_STATE; mutex: release, needs SYNCHRONIZE) then waits on hObjectToWaitOn.
 * Both handles are checked before anything is signalled. Failure: WAIT_FAILED with the error of
 * the failed release or set (nothing is waited on then), or as WaitForSingleObject. */
NSEM_EXTERN DWORD SignalObjectAndWait(HANDLE hObjectToSignal, HANDLE hObjectToWaitOn, DWORD dwMilliseconds,
                                      BOOL bAlertable);

/* ---------------------------------------------------------------------------------------------
 * Handles
 * ------------------------------------------------------------------------------------------- */

/* Closes a handle; the object goes with its last handle in any process.
 * Pseudo handles (-1 to -6) close successfully and nothing happens.
 * Failure: FALSE with ERROR_INVALID_HANDLE (bad handle, or HANDLE_FLAG_PROTECT_FROM_CLOSE set:
 * the handle stays valid). */
NSEM_EXTERN BOOL CloseHandle(HANDLE hObject);
/* Failure: FALSE with ERROR_INVALID_HANDLE. */
NSEM_EXTERN BOOL GetHandleInformation(HANDLE hObject, LPDWORD lpdwFlags);
/* Changes the flags in dwMask (HANDLE_FLAG_INHERIT, HANDLE_FLAG_PROTECT_FROM_CLOSE) to those in
 * dwFlags. Failure: FALSE with ERROR_INVALID_HANDLE. */
NSEM_EXTERN BOOL SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags);
/* Duplicates hSourceHandle, a handle of the source process, into the target process; each process
 * handle is GetCurrentProcess() or a handle from OpenProcess with PROCESS_DUP_HANDLE. The new value
 * (*lpTargetHandle) is valid in the target, which the caller tells it out of band; a target that
 * has not called nsem yet holds it from now on. hSourceHandle GetCurrentProcess() duplicates the
 * source process's own process handle. dwOptions: DUPLICATE_SAME_ACCESS (else dwDesiredAccess,
 * generic rights mapped; 0 is allowed; rights the source handle lacks are granted only if the
 * object's security descriptor grants them to the caller, and to the target process),
 * DUPLICATE_CLOSE_SOURCE (in the source process; within one process the duplicate keeps the
 * value), DUPLICATE_SAME_ATTRIBUTES.
 * Failure: FALSE with ERROR_INVALID_HANDLE (bad source handle; bad process handle, or one of a
 * process that has ended or, as a source, never called nsem), ERROR_ACCESS_DENIED (more access than
 * the source handle has that the descriptor refuses, any right the type does not have, or a
 * process handle without PROCESS_DUP_HANDLE), ERROR_PRIVILEGE_NOT_HELD (ACCESS_SYSTEM_SECURITY
 * asked for), ERROR_INVALID_PARAMETER (unknown option bits), ERROR_NOT_ENOUGH_QUOTA (the duplicate
 * would pass the target's limit on handles per process, or the limit in all; or hSourceHandle is
 * GetCurrentProcess() and its process object, new, would pass the limit on objects),
 * ERROR_NO_SYSTEM_RESOURCES (the arena is full). With DUPLICATE_CLOSE_SOURCE the source is closed
 * whatever the error, as on Windows; its close comes first, so a duplicate that only moves a
 * handle never passes the limit in all. */
NSEM_EXTERN BOOL DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE hTargetProcessHandle,
                                 LPHANDLE lpTargetHandle, DWORD dwDesiredAccess, BOOL bInheritHandle,
                                 DWORD dwOptions);
/* A handle to a process: signalled (for the wait functions) when it has ended; with
 * PROCESS_DUP_HANDLE, a source or target of DuplicateHandle. A process object's security
 * descriptor is Windows' default for a process: its user and Local System have every right.
 * Failure: NULL with ERROR_INVALID_PARAMETER (no such process, or 0), ERROR_ACCESS_DENIED (another
 * user's process, or the descriptor refuses a right requested, or none is requested),
 * ERROR_NOT_ENOUGH_QUOTA (the limits on handles; or the process has no process object yet, and one
 * more would pass the limit on objects), ERROR_NO_SYSTEM_RESOURCES (a new process object, and the
 * arena is full). */
NSEM_EXTERN HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId);
NSEM_EXTERN HANDLE GetCurrentProcess(void); /* (HANDLE)-1 */
NSEM_EXTERN HANDLE GetCurrentThread(void);  /* (HANDLE)-2 */
NSEM_EXTERN DWORD GetCurrentProcessId(void);
NSEM_EXTERN DWORD GetCurrentThreadId(void); /* the Linux thread id */

/* ---------------------------------------------------------------------------------------------
 * Security: SIDs, ACLs and security descriptors (Windows' binary formats) and SDDL.
 *
 * A Unix user is the SID S-1-22-1-<uid> and a group S-1-22-2-<gid> (Samba's mapping). Security
 * descriptors are self-relative (SE_SELF_RELATIVE set), as ConvertStringSecurityDescriptorTo-
 * SecurityDescriptor makes them; nsem has no absolute descriptors. See docs/security.md.
 * Everything these functions allocate is released with LocalFree.
 * ------------------------------------------------------------------------------------------- */

typedef void *PSID;
typedef void *PSECURITY_DESCRIPTOR;
typedef DWORD ACCESS_MASK;
typedef DWORD SECURITY_INFORMATION, *PSECURITY_INFORMATION;
typedef WORD SECURITY_DESCRIPTOR_CONTROL, *PSECURITY_DESCRIPTOR_CONTROL;

typedef struct _SID_IDENTIFIER_AUTHORITY {
    BYTE Value[6]; /* big-endian */
} SID_IDENTIFIER_AUTHORITY, *PSID_IDENTIFIER_AUTHORITY;

typedef struct _SID {
    BYTE Revision; /* SID_REVISION */
    BYTE SubAuthorityCount;
    SID_IDENTIFIER_AUTHORITY IdentifierAuthority;
    DWORD SubAuthority[1]; /* SubAuthorityCount of them */
} SID, *PISID;

typedef struct _ACL {
    BYTE AclRevision;
    BYTE Sbz1;
    WORD AclSize; /* the whole ACL, ACEs included */
    WORD AceCount;
    WORD Sbz2;
} ACL, *PACL;

typedef struct _ACE_HEADER {
    BYTE AceType;
    BYTE AceFlags;
    WORD AceSize;
} ACE_HEADER, *PACE_HEADER;

/* The layout of the allowed, denied, audit, alarm and mandatory-label ACEs: the SID starts at
 * SidStart. */
typedef struct _ACCESS_ALLOWED_ACE {
    ACE_HEADER Header;
    ACCESS_MASK Mask;
    DWORD SidStart;
} ACCESS_ALLOWED_ACE, *PACCESS_ALLOWED_ACE;
typedef ACCESS_ALLOWED_ACE ACCESS_DENIED_ACE, *PACCESS_DENIED_ACE;
typedef ACCESS_ALLOWED_ACE SYSTEM_AUDIT_ACE, *PSYSTEM_AUDIT_ACE;
typedef ACCESS_ALLOWED_ACE SYSTEM_ALARM_ACE, *PSYSTEM_ALARM_ACE;
typedef ACCESS_ALLOWED_ACE SYSTEM_MANDATORY_LABEL_ACE, *PSYSTEM_MANDATORY_LABEL_ACE;

/* Offsets are from the start of the descriptor; 0 means the part is absent. */
typedef struct _SECURITY_DESCRIPTOR_RELATIVE {
    BYTE Revision; /* SECURITY_DESCRIPTOR_REVISION */
    BYTE Sbz1;
    SECURITY_DESCRIPTOR_CONTROL Control;
    DWORD Owner;
    DWORD Group;
    DWORD Sacl;
    DWORD Dacl;
} SECURITY_DESCRIPTOR_RELATIVE, *PISECURITY_DESCRIPTOR_RELATIVE;

/* The specific and standard rights each generic right means for an object type. */
typedef struct _GENERIC_MAPPING {
    ACCESS_MASK GenericRead;
    ACCESS_MASK GenericWrite;
    ACCESS_MASK GenericExecute;
    ACCESS_MASK GenericAll;
} GENERIC_MAPPING, *PGENERIC_MAPPING;

#define SID_REVISION 1
#define SID_MAX_SUB_AUTHORITIES 15
#define SECURITY_MAX_SID_SIZE 68
#define SECURITY_DESCRIPTOR_REVISION 1
#define SECURITY_DESCRIPTOR_REVISION1 1
#define ACL_REVISION 2
#define ACL_REVISION_DS 4
#define SDDL_REVISION_1 1
#define SDDL_REVISION 1

#define ACCESS_ALLOWED_ACE_TYPE 0x00
#define ACCESS_DENIED_ACE_TYPE 0x01
#define SYSTEM_AUDIT_ACE_TYPE 0x02
#define SYSTEM_ALARM_ACE_TYPE 0x03
#define SYSTEM_MANDATORY_LABEL_ACE_TYPE 0x11

#define OBJECT_INHERIT_ACE 0x01
#define CONTAINER_INHERIT_ACE 0x02
#define NO_PROPAGATE_INHERIT_ACE 0x04
#define INHERIT_ONLY_ACE 0x08
#define INHERITED_ACE 0x10
#define VALID_INHERIT_FLAGS 0x1F
#define SUCCESSFUL_ACCESS_ACE_FLAG 0x40
#define FAILED_ACCESS_ACE_FLAG 0x80

#define SYSTEM_MANDATORY_LABEL_NO_WRITE_UP 0x1
#define SYSTEM_MANDATORY_LABEL_NO_READ_UP 0x2
#define SYSTEM_MANDATORY_LABEL_NO_EXECUTE_UP 0x4

#define SE_OWNER_DEFAULTED 0x0001
#define SE_GROUP_DEFAULTED 0x0002
#define SE_DACL_PRESENT 0x0004
#define SE_DACL_DEFAULTED 0x0008
#define SE_SACL_PRESENT 0x0010
#define SE_SACL_DEFAULTED 0x0020
#define SE_DACL_AUTO_INHERIT_REQ 0x0100
#define SE_SACL_AUTO_INHERIT_REQ 0x0200
#define SE_DACL_AUTO_INHERITED 0x0400
#define SE_SACL_AUTO_INHERITED 0x0800
#define SE_DACL_PROTECTED 0x1000
#define SE_SACL_PROTECTED 0x2000
#define SE_RM_CONTROL_VALID 0x4000
#define SE_SELF_RELATIVE 0x8000

#define OWNER_SECURITY_INFORMATION 0x00000001u
#define GROUP_SECURITY_INFORMATION 0x00000002u
#define DACL_SECURITY_INFORMATION 0x00000004u
#define SACL_SECURITY_INFORMATION 0x00000008u
#define LABEL_SECURITY_INFORMATION 0x00000010u
#define PROTECTED_DACL_SECURITY_INFORMATION 0x80000000u
#define PROTECTED_SACL_SECURITY_INFORMATION 0x40000000u
#define UNPROTECTED_DACL_SECURITY_INFORMATION 0x20000000u
#define UNPROTECTED_SACL_SECURITY_INFORMATION 0x10000000u

/* The kinds of object of GetSecurityInfo and SetSecurityInfo; nsem's are all SE_KERNEL_OBJECT. */
typedef enum _SE_OBJECT_TYPE {
    SE_UNKNOWN_OBJECT_TYPE = 0,
    SE_FILE_OBJECT,
    SE_SERVICE,
    SE_PRINTER,
    SE_REGISTRY_KEY,
    SE_LMSHARE,
    SE_KERNEL_OBJECT,
    SE_WINDOW_OBJECT,
    SE_DS_OBJECT,
    SE_DS_OBJECT_ALL,
    SE_PROVIDER_DEFINED_OBJECT,
    SE_WMIGUID_OBJECT,
    SE_REGISTRY_WOW64_32KEY,
    SE_REGISTRY_WOW64_64KEY
} SE_OBJECT_TYPE;

/* Converts an SDDL string ("O:S-1-22-1-1000D:P(A;;GA;;;WD)(D;OICI;0x1f0003;;;S-1-22-2-100)") to a
 * new self-relative descriptor; *SecurityDescriptorSize (if not NULL) gets its size. Parts O:, G:,
 * D:, S: in any order, each at most once; ACL flags P, AR, AI, NO_ACCESS_CONTROL (a NULL ACL); ACE
 * types A, D, AU, AL, ML; ACE flags OI CI NP IO ID SA FA; rights as letter codes (GA GR GW GX RC
 * SD WD WO, the directory, file, registry and label ones of Windows) and numbers (hex 0x..., octal
 * 0..., decimal), which combine; SIDs as "S-1-..." or two-letter aliases ("WD", "SY", "BA", any
 * case). Spaces are allowed before the string, each part, each ACE and each ACE field but the type,
 * and after a SID. On failure nothing is allocated and the outputs are not written.
 * Failure: FALSE with ERROR_INVALID_PARAMETER (a NULL argument; a part that is not O:, G:, D: or S:,
 * or one given twice), ERROR_UNKNOWN_REVISION (StringSDRevision not SDDL_REVISION_1), ERROR_INVALID_SID
 * (the owner or group), ERROR_NONE_MAPPED (owner or group alias of a domain SID, e.g. "DA"),
 * ERROR_INVALID_ACL (a malformed or unsupported ACL, ACE, right or ACE SID; an ACL over 65535 bytes),
 * ERROR_NOT_ENOUGH_MEMORY. */
NSEM_EXTERN BOOL ConvertStringSecurityDescriptorToSecurityDescriptorA(LPCSTR StringSecurityDescriptor,
                                                                      DWORD StringSDRevision,
                                                                      PSECURITY_DESCRIPTOR *SecurityDescriptor,
                                                                      PULONG SecurityDescriptorSize);
NSEM_EXTERN BOOL ConvertStringSecurityDescriptorToSecurityDescriptorW(LPCWSTR StringSecurityDescriptor,
                                                                      DWORD StringSDRevision,
                                                                      PSECURITY_DESCRIPTOR *SecurityDescriptor,
                                                                      PULONG SecurityDescriptorSize);
/* Writes the parts of a descriptor that SecurityInformation selects (OWNER_, GROUP_, DACL_,
 * SACL_SECURITY_INFORMATION; other bits are ignored) as SDDL, in the order O: G: D: S:, as Windows
 * does: SIDs with an alias as the alias, rights as letter codes when a code names the whole mask
 * (FA, KR, ...) or every bit has one (CC DC LC SW RP WP DT LO CR SD RC WD WO GA GX GW GR; NW NR NX
 * in a label), else "0x%x". *StringSecurityDescriptorLen (if not NULL) gets the length with the NUL.
 * Failure: FALSE with ERROR_INVALID_PARAMETER (NULL SecurityDescriptor or output),
 * ERROR_UNKNOWN_REVISION, ERROR_INVALID_SECURITY_DESCR, ERROR_INVALID_SID, ERROR_INVALID_ACL (an
 * invalid part; or an ACE of a type SDDL output does not support: only A, D, AU, AL, ML are),
 * ERROR_NOT_ENOUGH_MEMORY. */
NSEM_EXTERN BOOL ConvertSecurityDescriptorToStringSecurityDescriptorA(PSECURITY_DESCRIPTOR SecurityDescriptor,
                                                                      DWORD RequestedStringSDRevision,
                                                                      SECURITY_INFORMATION SecurityInformation,
                                                                      LPSTR *StringSecurityDescriptor,
                                                                      PULONG StringSecurityDescriptorLen);
NSEM_EXTERN BOOL ConvertSecurityDescriptorToStringSecurityDescriptorW(PSECURITY_DESCRIPTOR SecurityDescriptor,
                                                                      DWORD RequestedStringSDRevision,
                                                                      SECURITY_INFORMATION SecurityInformation,
                                                                      LPWSTR *StringSecurityDescriptor,
                                                                      PULONG StringSecurityDescriptorLen);
/* "S-1-5-32-544" (or "s-1-...", numbers decimal or 0x hex, 1 to 15 sub-authorities) or an SDDL
 * alias ("BA", any case) to a new SID. Failure: FALSE with ERROR_INVALID_PARAMETER (a NULL
 * argument), ERROR_INVALID_SID, ERROR_NONE_MAPPED (an alias of a domain SID), ERROR_NOT_ENOUGH_MEMORY. */
NSEM_EXTERN BOOL ConvertStringSidToSidA(LPCSTR StringSid, PSID *Sid);
NSEM_EXTERN BOOL ConvertStringSidToSidW(LPCWSTR StringSid, PSID *Sid);
/* A SID to "S-1-..." (never an alias; an authority of 2^32 or more as 0x + 12 hex digits).
 * Failure: FALSE with ERROR_INVALID_PARAMETER (a NULL argument), ERROR_INVALID_SID,
 * ERROR_NOT_ENOUGH_MEMORY. */
NSEM_EXTERN BOOL ConvertSidToStringSidA(PSID Sid, LPSTR *StringSid);
NSEM_EXTERN BOOL ConvertSidToStringSidW(PSID Sid, LPWSTR *StringSid);
/* Revision 1 and at most 15 sub-authorities (FALSE for NULL). Does not change the last error. */
NSEM_EXTERN BOOL IsValidSid(PSID pSid);
/* 8 + 4 * SubAuthorityCount of a valid SID; 0 for NULL or an invalid SID. */
NSEM_EXTERN DWORD GetLengthSid(PSID pSid);
/* Whether two SIDs are equal. Sets the last error to ERROR_SUCCESS, as Windows does, or to
 * ERROR_INVALID_SID (and returns FALSE) when either is NULL or invalid. */
NSEM_EXTERN BOOL EqualSid(PSID pSid1, PSID pSid2);
/* Whether a self-relative descriptor is valid (the offsets are believed: there is no length).
 * FALSE with ERROR_INVALID_SECURITY_DESCR when it is not (or is NULL, or absolute). */
NSEM_EXTERN BOOL IsValidSecurityDescriptor(PSECURITY_DESCRIPTOR pSecurityDescriptor);
/* 20 plus the size of each part, each rounded up to 4; 0 for an invalid descriptor. */
NSEM_EXTERN DWORD GetSecurityDescriptorLength(PSECURITY_DESCRIPTOR pSecurityDescriptor);
/* Frees what the functions above returned. Returns NULL (also for NULL). */
NSEM_EXTERN HLOCAL LocalFree(HLOCAL hMem);

/* ---- Security of objects -------------------------------------------------------------------
 * Every semaphore, mutex, event and process object has a security descriptor, kept by the server.
 * An object created without one gets the default: owner the creator's user, group its primary
 * group, DACL "(A;;GA;;;<user>)(A;;GA;;;SY)" (the creator and Local System may do everything). Who
 * asks is the calling process as the kernel knows it: its user, primary group and supplementary
 * groups (and Everyone, Authenticated Users, Users; root is also Local System and Administrators).
 * Opening an existing object (Open*, Create* of an existing name, OpenProcess, DuplicateHandle for
 * more than the source has) runs Windows' access check over the descriptor. See docs/security.md. */

/* Copies the parts of the object's security descriptor that RequestedInformation selects
 * (OWNER_, GROUP_, DACL_, SACL_, LABEL_SECURITY_INFORMATION; other bits are ignored) into
 * pSecurityDescriptor as a self-relative descriptor; *lpnLengthNeeded gets its length.
 * The handle needs READ_CONTROL for owner, group, DACL and label, ACCESS_SYSTEM_SECURITY for the
 * SACL. LABEL_SECURITY_INFORMATION gives a SACL of the object's mandatory labels only.
 * Failure: FALSE with ERROR_NOACCESS (lpnLengthNeeded NULL, or pSecurityDescriptor NULL with
 * nLength > 0; checked first), ERROR_INVALID_HANDLE (a bad handle, or a pseudo handle),
 * ERROR_ACCESS_DENIED, ERROR_INSUFFICIENT_BUFFER (more than nLength bytes: *lpnLengthNeeded says
 * how many, nothing is copied). Success leaves GetLastError() unchanged. */
NSEM_EXTERN BOOL GetKernelObjectSecurity(HANDLE Handle, SECURITY_INFORMATION RequestedInformation,
                                         PSECURITY_DESCRIPTOR pSecurityDescriptor, DWORD nLength,
                                         LPDWORD lpnLengthNeeded);
/* Replaces the parts of the object's security descriptor that SecurityInformation selects by
 * those of SecurityDescriptor (self-relative). A DACL_SECURITY_INFORMATION descriptor without
 * SE_DACL_PRESENT leaves the object without a DACL (no protection). LABEL_SECURITY_INFORMATION
 * replaces the mandatory labels of the SACL, and keeps the rest of it. Later opens are checked
 * against the new descriptor; handles already open keep their access.
 * The handle needs WRITE_DAC for the DACL, WRITE_OWNER for owner, group and label,
 * ACCESS_SYSTEM_SECURITY for the SACL.
 * Failure: FALSE with ERROR_NOACCESS (SecurityDescriptor NULL; checked first),
 * ERROR_INVALID_HANDLE (a bad handle, or a pseudo handle), ERROR_ACCESS_DENIED, then
 * ERROR_INVALID_SECURITY_DESCR, ERROR_INVALID_SID, ERROR_INVALID_ACL (malformed; also
 * ERROR_INVALID_SECURITY_DESCR for OWNER_ or GROUP_SECURITY_INFORMATION without that part),
 * ERROR_INVALID_OWNER (an owner other than the caller's user); nothing changes on failure. */
NSEM_EXTERN BOOL SetKernelObjectSecurity(HANDLE Handle, SECURITY_INFORMATION SecurityInformation,
                                         PSECURITY_DESCRIPTOR SecurityDescriptor);
/* GetKernelObjectSecurity into a new descriptor (*ppSecurityDescriptor, freed with LocalFree) and
 * pointers into it to the parts asked for (NULL for a part absent or a NULL ACL). ObjectType must be
 * SE_KERNEL_OBJECT. Without ppSecurityDescriptor the descriptor the pointers point into is never
 * freed, as on Windows. Returns ERROR_SUCCESS or the error (GetLastError() is left alone):
 * ERROR_INVALID_PARAMETER (another ObjectType, no output at all, or a part asked for with neither its
 * pointer nor ppSecurityDescriptor), and GetKernelObjectSecurity's. */
NSEM_EXTERN DWORD GetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType, SECURITY_INFORMATION SecurityInfo,
                                  PSID *ppsidOwner, PSID *ppsidGroup, PACL *ppDacl, PACL *ppSacl,
                                  PSECURITY_DESCRIPTOR *ppSecurityDescriptor);
/* SetKernelObjectSecurity of a descriptor made of the parts SecurityInfo selects: a NULL pDacl with
 * DACL_SECURITY_INFORMATION is a NULL DACL (everyone may do everything); the SACL (pSacl) goes with
 * SACL_ or LABEL_SECURITY_INFORMATION; PROTECTED_DACL_ (_SACL_) SECURITY_INFORMATION sets
 * SE_DACL_PROTECTED (SE_SACL_PROTECTED). ObjectType must be SE_KERNEL_OBJECT. Returns ERROR_SUCCESS
 * or the error (GetLastError() is left alone): ERROR_INVALID_PARAMETER (another ObjectType),
 * ERROR_INVALID_SID, ERROR_INVALID_ACL (a malformed part), and SetKernelObjectSecurity's (a NULL
 * owner or group selected is ERROR_INVALID_SECURITY_DESCR). */
NSEM_EXTERN DWORD SetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType, SECURITY_INFORMATION SecurityInfo,
                                  PSID psidOwner, PSID psidGroup, PACL pDacl, PACL pSacl);

/* ---------------------------------------------------------------------------------------------
 * Private namespaces: a namespace found by its boundary (a name and SIDs the caller must all have)
 * rather than by a name, and entered by each process through an alias of its own choosing:
 * "alias\name" names an object in it. See docs/namespaces.md.
 * ------------------------------------------------------------------------------------------- */

typedef unsigned char BOOLEAN;
#define CREATE_BOUNDARY_DESCRIPTOR_ADD_APPCONTAINER_SID 0x1u
#define PRIVATE_NAMESPACE_FLAG_DESTROY 0x1u
#define DIRECTORY_QUERY 0x0001u
#define DIRECTORY_TRAVERSE 0x0002u
#define DIRECTORY_CREATE_OBJECT 0x0004u
#define DIRECTORY_CREATE_SUBDIRECTORY 0x0008u
#define DIRECTORY_ALL_ACCESS 0x000F000Fu

/* A boundary descriptor (in the caller's memory): Name, and the SIDs AddSIDToBoundaryDescriptor
 * adds. Failure: NULL with ERROR_INVALID_PARAMETER (Name NULL, or Flags other than 0: nsem has no
 * app containers), ERROR_NOT_ENOUGH_MEMORY. */
NSEM_EXTERN HANDLE CreateBoundaryDescriptorA(LPCSTR Name, ULONG Flags);
NSEM_EXTERN HANDLE CreateBoundaryDescriptorW(LPCWSTR Name, ULONG Flags);
/* Adds a SID the caller of Create/OpenPrivateNamespace must have (its user, or one of its
 * groups); *BoundaryDescriptor may move. Failure: FALSE with ERROR_INVALID_PARAMETER (a NULL or
 * invalid descriptor or SID), ERROR_NOT_ENOUGH_MEMORY. */
NSEM_EXTERN BOOL AddSIDToBoundaryDescriptor(HANDLE *BoundaryDescriptor, PSID RequiredSid);
NSEM_EXTERN void DeleteBoundaryDescriptor(HANDLE BoundaryDescriptor);
/* Creates the private namespace of the boundary and makes lpAliasPrefix its alias in this process.
 * Returns a handle (DIRECTORY_ALL_ACCESS). Failure: NULL with
 *   ERROR_ALREADY_EXISTS     a namespace of this boundary exists (OpenPrivateNamespace it)
 *   ERROR_DUP_NAME           this process already has a namespace under this alias
 *   ERROR_ACCESS_DENIED      the caller lacks one of the boundary's SIDs
 *   ERROR_INVALID_PARAMETER  no descriptor, a descriptor with no SID, an empty alias
 *   ERROR_INVALID_NAME       an alias with '\', or "Global", "Local" or "Session" */
NSEM_EXTERN HANDLE CreatePrivateNamespaceA(LPSECURITY_ATTRIBUTES lpPrivateNamespaceAttributes, LPVOID lpBoundaryDescriptor,
                                           LPCSTR lpAliasPrefix);
NSEM_EXTERN HANDLE CreatePrivateNamespaceW(LPSECURITY_ATTRIBUTES lpPrivateNamespaceAttributes, LPVOID lpBoundaryDescriptor,
                                           LPCWSTR lpAliasPrefix);
/* Opens the private namespace of the boundary under an alias of this process. Failure: NULL with
 * ERROR_PATH_NOT_FOUND (no namespace of this boundary, or it was destroyed), or as Create's but
 * ERROR_ALREADY_EXISTS. */
NSEM_EXTERN HANDLE OpenPrivateNamespaceA(LPVOID lpBoundaryDescriptor, LPCSTR lpAliasPrefix);
NSEM_EXTERN HANDLE OpenPrivateNamespaceW(LPVOID lpBoundaryDescriptor, LPCWSTR lpAliasPrefix);
/* Closes a namespace handle (its alias goes with it). PRIVATE_NAMESPACE_FLAG_DESTROY: the namespace
 * can no longer be opened; objects in it live on. Failure: FALSE with ERROR_INVALID_HANDLE (not a
 * namespace handle), ERROR_INVALID_PARAMETER (other flags). */
NSEM_EXTERN BOOLEAN ClosePrivateNamespace(HANDLE Handle, ULONG Flags);

/* ---------------------------------------------------------------------------------------------
 * nsem extensions
 * ------------------------------------------------------------------------------------------- */

#define NSEM_TYPE_SEMAPHORE 1u
#define NSEM_TYPE_MUTEX 2u
#define NSEM_TYPE_EVENT 3u
#define NSEM_TYPE_PROCESS 4u
#define NSEM_TYPE_NAMESPACE 5u /* a private namespace (not waitable) */

#define NSEM_INFO_MANUAL_RESET 0x00000001u /* dwFlags of an event */
#define NSEM_INFO_EXCLUSIVE 0x00000002u    /* dwFlags of an exclusive semaphore */
#define NSEM_INFO_UNDO 0x00000004u         /* dwFlags of an undo semaphore */

/* ---- Exclusive semaphores (OS/2's exclusive system semaphores, inside the Win32 API) ----------
 * An exclusive semaphore is owned by one thread, recursively, and may be changed only by the
 * process that owns it. Another process's request fails with ERROR_EXCL_SEM_ALREADY_OWNED (101)
 * when it must not wait, or waits. When the owner thread ends, its process ends in any way, or
 * its process closes its last handle to it, the semaphore is abandoned: the next owner is told
 * (ERROR_SEM_OWNER_DIED, or WAIT_ABANDONED through the wait functions), once. A child made by
 * fork() never owns what its parent owned. Through WaitForSingleObject/WaitForMultipleObjects:
 * success WAIT_OBJECT_0 + i, owner died WAIT_ABANDONED_0 + i, 101 and 121 WAIT_TIMEOUT, and 103
 * WAIT_FAILED with GetLastError() 103. */
#define SEMAPHORE_EXCLUSIVE 0x00000001u /* CreateSemaphoreEx dwFlags */

/* ---- Undo semaphores (System V's SEM_UNDO, for named semaphores) -----------------------------
 * A semaphore created with SEMAPHORE_UNDO (any maximum; not with SEMAPHORE_EXCLUSIVE) counts,
 * per process, the permits the process took and has not given back (a release gives back at most
 * what it took); when the process ends, however it ends, those permits are released, never above
 * the maximum. A crashed holder no longer leaves the semaphore short forever. */
#define SEMAPHORE_UNDO 0x00000002u /* CreateSemaphoreEx dwFlags */

/* Acquires one permit of a semaphore and returns the precise outcome (also set as the last error):
 *   0                             acquired (an exclusive semaphore: owned, or one more level)
 *   ERROR_SEM_OWNER_DIED          acquired an exclusive semaphore whose owner died (told once)
 *   ERROR_TOO_MANY_SEM_REQUESTS   the caller already owns it 65535 times; nothing changes
 *   ERROR_EXCL_SEM_ALREADY_OWNED  owned by another process and dwMilliseconds is 0
 *   ERROR_SEM_TIMEOUT             not acquired in time (also: owned by another thread of the
 *                                 calling process and dwMilliseconds is 0)
 *   ERROR_INVALID_HANDLE          bad handle, or not a semaphore
 *   ERROR_ACCESS_DENIED           no SYNCHRONIZE right */
NSEM_EXTERN DWORD NsemRequestSemaphore(HANDLE hSemaphore, DWORD dwMilliseconds);

/* What NsemQueryObject reports. Set cbSize = sizeof(NSEM_OBJECT_INFO) before the call; fields may
 * be added at the end in later versions. */
typedef struct _NSEM_OBJECT_INFO {
    DWORD cbSize;
    DWORD dwType;             /* NSEM_TYPE_* */
    DWORD dwFlags;            /* NSEM_INFO_* */
    LONG lCurrentCount;       /* semaphore: count (exclusive: 1 free, 0 owned); mutex: 1 - recursion
                                 (Windows' CurrentCount);
                                 event: 1 if set, else 0 */
    LONG lMaximumCount;       /* semaphore: maximum; mutex and event: 1 */
    DWORD dwOwnerProcessId;   /* owner of a mutex or exclusive semaphore, 0 when free */
    DWORD dwOwnerThreadId;
    DWORD dwRecursionCount;
    BOOL bAbandoned;          /* an owner died and no one has been told yet */
    DWORD dwLastOwnerProcessId; /* the owner that abandoned it, while bAbandoned */
    DWORD dwHandleCount;      /* open handles, in all processes */
    DWORD dwWaiterCount;      /* threads blocked on it now */
} NSEM_OBJECT_INFO;

/* Describes the object behind hObject. Needs the type's QUERY_STATE right (value 1).
 * Failure: FALSE with ERROR_INVALID_HANDLE, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER (lpInfo
 * NULL or cbSize smaller than the first version of the struct). */
NSEM_EXTERN BOOL NsemQueryObject(HANDLE hObject, NSEM_OBJECT_INFO *lpInfo);

/* Called by NsemEnumObjects for each object: lpName is its name within its namespace (UTF-8; ""
 * for an anonymous object), dwSession its namespace (0: Global\, else the session whose Local\
 * it is). Return FALSE to stop. */
typedef BOOL (*NSEM_ENUM_PROC)(const NSEM_OBJECT_INFO *lpInfo, DWORD dwSession, LPCSTR lpName, LPVOID lpContext);
/* Calls lpEnumFunc for every object of the caller's server, named or anonymous. Objects made or
 * destroyed meanwhile may or may not be reported. Failure: FALSE with ERROR_INVALID_PARAMETER
 * (lpEnumFunc NULL). */
NSEM_EXTERN BOOL NsemEnumObjects(NSEM_ENUM_PROC lpEnumFunc, LPVOID lpContext);
/* The ids of the processes that hold handles to the object: at most nMax stored in lpPids, their
 * number in *lpdwCount. Needs the type's QUERY_STATE right. Failure: FALSE with
 * ERROR_INVALID_HANDLE, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER (lpdwCount NULL, or lpPids NULL
 * with nMax > 0), ERROR_INSUFFICIENT_BUFFER (more than nMax: the first nMax are stored). */
NSEM_EXTERN BOOL NsemGetObjectHolders(HANDLE hObject, LPDWORD lpPids, DWORD nMax, LPDWORD lpdwCount);
/* What the caller's server holds: for leak checks and `nsem stats`. Set cbSize first, as for
 * NSEM_OBJECT_INFO. */
typedef struct _NSEM_SERVER_STATS {
    DWORD cbSize;
    DWORD dwServerProcessId;
    DWORD dwObjects;        /* live objects, named or anonymous */
    DWORD dwHandles;        /* handles of every process */
    DWORD dwPins;           /* objects kept for a wait or an owned mutex after their last close */
    DWORD dwClients;        /* connected processes */
    DWORD dwRecords;        /* processes holding handles without a connection (exec'd, spawned) */
    DWORD dwUndoRecords;    /* per-process undo records of undo semaphores */
    DWORD dwTickets;        /* handles copied for fork or spawn children not yet started */
    DWORD dwCleanups;       /* cleanups after dead processes still waiting for a lock */
    DWORD dwArenaSlots;     /* 64-byte shared-memory slots in use */
    ULONGLONG ullHeapBytes; /* server memory in use (malloc) */
} NSEM_SERVER_STATS;
/* Fills lpStats, connecting (and starting the server) first if needed. Failure: FALSE with
 * ERROR_INVALID_PARAMETER (lpStats NULL or cbSize too small), or the connection's error. */
NSEM_EXTERN BOOL NsemGetServerStats(NSEM_SERVER_STATS *lpStats);
/* The session of the caller's Local\ namespace (0: the same as Global\). */
NSEM_EXTERN DWORD NsemGetSessionId(void);

/* The access a handle was granted (what Windows' NtQueryObject reports as GrantedAccess): the
 * type's specific and standard rights, generic rights mapped. Needs no right. Failure: FALSE with
 * ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER (lpdwGrantedAccess NULL). */
NSEM_EXTERN BOOL NsemGetHandleAccess(HANDLE hObject, LPDWORD lpdwGrantedAccess);

/* The symbolic name ("ERROR_INVALID_HANDLE") and the message of a Windows error code nsem uses;
 * NULL for a code it does not know. */
NSEM_EXTERN const char *NsemErrorName(DWORD dwError);
NSEM_EXTERN const char *NsemErrorMessage(DWORD dwError);

/* ---------------------------------------------------------------------------------------------
 * TCHAR names: the W functions when UNICODE is defined, else the A functions.
 * ------------------------------------------------------------------------------------------- */

#ifdef UNICODE
typedef WCHAR TCHAR;
#define TEXT(s) L##s
#define CreateSemaphore CreateSemaphoreW
#define CreateSemaphoreEx CreateSemaphoreExW
#define OpenSemaphore OpenSemaphoreW
#define CreateMutex CreateMutexW
#define CreateMutexEx CreateMutexExW
#define OpenMutex OpenMutexW
#define CreateEvent CreateEventW
#define CreateEventEx CreateEventExW
#define OpenEvent OpenEventW
#define ConvertStringSecurityDescriptorToSecurityDescriptor ConvertStringSecurityDescriptorToSecurityDescriptorW
#define ConvertSecurityDescriptorToStringSecurityDescriptor ConvertSecurityDescriptorToStringSecurityDescriptorW
#define ConvertStringSidToSid ConvertStringSidToSidW
#define ConvertSidToStringSid ConvertSidToStringSidW
#else
typedef CHAR TCHAR;
#define TEXT(s) s
#define CreateSemaphore CreateSemaphoreA
#define CreateSemaphoreEx CreateSemaphoreExA
#define OpenSemaphore OpenSemaphoreA
#define CreateMutex CreateMutexA
#define CreateMutexEx CreateMutexExA
#define OpenMutex OpenMutexA
#define CreateEvent CreateEventA
#define CreateEventEx CreateEventExA
#define OpenEvent OpenEventA
#define ConvertStringSecurityDescriptorToSecurityDescriptor ConvertStringSecurityDescriptorToSecurityDescriptorA
#define ConvertSecurityDescriptorToStringSecurityDescriptor ConvertSecurityDescriptorToStringSecurityDescriptorA
#define ConvertStringSidToSid ConvertStringSidToSidA
#define ConvertSidToStringSid ConvertSidToStringSidA
#endif
typedef TCHAR *LPTSTR;
typedef const TCHAR *LPCTSTR;

#ifdef __cplusplus
}
#endif

#endif /* NSEM_H */
