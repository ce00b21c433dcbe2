/*
 * clean.c — the driver's healthy witness (linked with the normal library): once the scenario's
 * processes are gone, the server must hold nothing but this connection. Polls NsemGetServerStats
 * up to the given milliseconds (a dead client's cleanup is asynchronous).
 * Prints "server <pid>" and, if something is left, the counters. Exit 0: clean; 1: something left;
 * 2: no answer (the server's own fault may hit this connection: the driver asks again).
 */
#include <nsem.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    long wait_ms = argc > 1 ? atol(argv[1]) : 5000;
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    for (long waited = 0;; waited += 20) {
        if (!NsemGetServerStats(&st)) {
            printf("stats failed: %lu\n", (unsigned long)GetLastError());
            return 2;
        }
        if (!st.dwObjects && !st.dwHandles && !st.dwPins && st.dwClients == 1 && !st.dwRecords &&
            !st.dwUndoRecords && !st.dwTickets && !st.dwCleanups && !st.dwArenaSlots)
            break;
        if (waited >= wait_ms) {
            printf("server %lu\nleft: objects %lu handles %lu pins %lu clients %lu records %lu undo %lu tickets %lu "
                   "cleanups %lu arena slots %lu\n",
                   (unsigned long)st.dwServerProcessId, (unsigned long)st.dwObjects, (unsigned long)st.dwHandles,
                   (unsigned long)st.dwPins, (unsigned long)st.dwClients, (unsigned long)st.dwRecords,
                   (unsigned long)st.dwUndoRecords, (unsigned long)st.dwTickets, (unsigned long)st.dwCleanups,
                   (unsigned long)st.dwArenaSlots);
            return 1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("server %lu\n", (unsigned long)st.dwServerProcessId);
    return 0;
}
