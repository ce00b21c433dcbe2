/*
 * server_env.h — what nsemd's main.c gives the rest of the server, for a harness that links the
 * server without main.c: a real epoll set behind nsem__loop_add/mod/del (with a registry of what
 * each descriptor carries, so the harness can deliver the events the loop would), nsem__log, and
 * peer processes whose connections become clients, so that each client has a pid of its own.
 */
#ifndef NSEM_FUZZ_SERVER_ENV_H
#define NSEM_FUZZ_SERVER_ENV_H

#include <stdbool.h>
#include <sys/types.h>

struct nsem_client;

/* Starts the epoll set and `peers` peer processes (which die with the harness). Aborts on failure. */
void fuzz_env_init(int peers);
pid_t fuzz_env_peer_pid(int peer);
/* A new connection of the peer, accepted by nsem__client_accept: a client that has said nothing. */
struct nsem_client *fuzz_env_connect(int peer);
/* The peer's connection c ends (its socket reads end-of-file) and the server sees it, as the loop
 * would. c may be freed, or kept as the record of an exec'd image. */
void fuzz_env_disconnect(struct nsem_client *c);
/* Delivers the exit of process pid to everything the loop watches through a pidfd of it. */
void fuzz_env_report_exit(pid_t pid);
/* Descriptors the loop watches now. */
int fuzz_env_watched(void);
/* Descriptors of the kinds the server opens (sockets, pidfds, epoll) open in the harness now. */
int fuzz_env_open_fds(void);
/* Lists them on stderr (what a leak check shows before it fails). */
void fuzz_env_print_fds(void);

#endif
