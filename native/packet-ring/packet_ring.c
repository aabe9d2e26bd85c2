// packet_ring: the ring I/O backend's native half (src/io/ring-addon.ts loads it).
// Receive: an AF_PACKET socket with a TPACKET_V2 ring mapped into the process; one JS call per wake-up hands
// over up to RX_BUDGET frames as descriptors into the ring, which JS reads in place (no copy, no object per frame).
// Emit: packets queued during a batch are copied into a staging area and sent with one sendmmsg per socket;
// outside a batch, one sendto. Nothing here allocates per packet.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <node_api.h>
#include <uv.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/** Frames handed to JS per wake-up at most: under a flood the loop must still run its timers (the fd stays
 *  readable, so libuv comes back after the rest of its turn). */
#define RX_BUDGET 256
/** Per frame in the descriptor array: ring slot, offset of the frame in the ring, captured length, wire length. */
#define RX_FIELDS 4
/** Messages per sendmmsg: the kernel takes at most UIO_MAXIOV (1024) a call. */
#define TX_MAX 1024
#define TX_BYTES (1u << 20)
/** Send buffer asked for: a batch of TX_MAX frames must not find the socket full while the NIC still holds the last. */
#define SNDBUF (8 << 20)
/** Largest ring: descriptors carry ring offsets as int32. */
#define RING_MAX (1u << 30)

#define MAGIC_RING 0x52494e47u
#define MAGIC_IP 0x49505458u

struct txq {
  uint8_t *bytes;
  size_t used;
  unsigned n;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_in *to; /* per message destination (IP sockets); NULL on a bound packet socket */
  double failed;
  int last_errno;
};

/** What both socket kinds share: the emit side. */
struct sock {
  uint32_t magic;
  int fd;
  int closed;
  struct txq tx;
};

struct ring {
  struct sock s; /* first: a ring is a sock */
  napi_env env;
  uint8_t *map;
  size_t map_len;
  uint32_t snaplen, frame_size, frame_nr, block_size, per_block;
  uint32_t cursor;
  int32_t *rx;
  napi_ref rx_ref, cb_ref, mem_ref;
  napi_async_context actx;
  uv_poll_t poll;
  int poll_live; /* initialised and its close callback not yet run */
  int finalized;
  int hook_added, in_hook;
  int in_callback; /* inside onWake: its function and async context are released after it returns */
  double received, dropped, callback_errors;
};

struct ipsock {
  struct sock s;
};

/* ---- helpers ---- */

#define NAPI(call)                                                                                         \
  do {                                                                                                     \
    if ((call) != napi_ok) return fail_napi(env);                                                          \
  } while (0)

static napi_value fail_napi(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) napi_throw_error(env, NULL, "packet_ring: N-API call failed");
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/** "<step>: <errno text>" as a JS Error. */
static napi_value throw_errno(napi_env env, const char *step, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", step, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, NULL, "packet_ring: missing arguments");
    return -1;
  }
  return 0;
}

static int get_sock(napi_env env, napi_value v, uint32_t magic, struct sock **out) {
  napi_valuetype t;
  void *p = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "packet_ring: not a handle");
    return -1;
  }
  struct sock *s = p;
  if (s->magic != MAGIC_RING && s->magic != MAGIC_IP) {
    napi_throw_type_error(env, NULL, "packet_ring: not a handle");
    return -1;
  }
  if (magic != 0 && s->magic != magic) {
    napi_throw_type_error(env, NULL, "packet_ring: wrong kind of handle");
    return -1;
  }
  *out = s;
  return 0;
}

/** A heap copy of a JS string (open and setFilter only). */
static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "packet_ring: expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    napi_throw_error(env, NULL, "packet_ring: out of memory");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    napi_throw_type_error(env, NULL, "packet_ring: expected a string");
    return NULL;
  }
  return s;
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  bool is = false;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is || napi_get_typedarray_info(env, v, &t, length, data, &ab, &off) != napi_ok ||
      t != want) {
    napi_throw_type_error(env, NULL, want == napi_uint8_array ? "packet_ring: expected a Uint8Array" : "packet_ring: expected a typed array");
    return -1;
  }
  return 0;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "packet_ring: expected a number");
    return -1;
  }
  return 0;
}

/** A bigger send buffer, best effort: SO_SNDBUFFORCE needs CAP_NET_ADMIN; without it the sysctl caps SO_SNDBUF. */
static void grow_sndbuf(int fd) {
  int v = SNDBUF;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) == 0) return;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v) != 0) { /* keep the default: sends still work */
  }
}

/* ---- emit ---- */

static int txq_init(struct txq *q, int with_addr) {
  size_t sz = TX_BYTES + TX_MAX * (sizeof(struct mmsghdr) + sizeof(struct iovec) + (with_addr ? sizeof(struct sockaddr_in) : 0));
  uint8_t *p = calloc(1, sz);
  if (p == NULL) return -1;
  q->bytes = p;
  q->msgs = (struct mmsghdr *)(p + TX_BYTES);
  q->iov = (struct iovec *)(q->msgs + TX_MAX);
  q->to = with_addr ? (struct sockaddr_in *)(q->iov + TX_MAX) : NULL;
  for (unsigned i = 0; i < TX_MAX; i++) {
    struct msghdr *m = &q->msgs[i].msg_hdr;
    m->msg_iov = &q->iov[i];
    m->msg_iovlen = 1;
    if (q->to != NULL) {
      q->to[i].sin_family = AF_INET;
      m->msg_name = &q->to[i];
      m->msg_namelen = sizeof(struct sockaddr_in);
    }
  }
  return 0;
}

/** Send everything queued: one sendmmsg, more only past a failing message (counted and skipped). */
static unsigned tx_flush(struct sock *s) {
  struct txq *q = &s->tx;
  unsigned done = 0, failed = 0;
  while (done < q->n) {
    if (s->closed) {
      q->last_errno = EBADF;
      failed += q->n - done;
      break;
    }
    int r = sendmmsg(s->fd, q->msgs + done, q->n - done, MSG_DONTWAIT);
    if (r > 0) {
      done += (unsigned)r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    q->last_errno = r < 0 ? errno : EIO;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      /* The send buffer is full: every other message would fail the same way, one syscall each. */
      failed += q->n - done;
      break;
    }
    failed++;
    done++;
  }
  q->n = 0;
  q->used = 0;
  q->failed += failed;
  return failed;
}

/** The arguments txQueue and txSend share: (h, buf, off, len, dst), the range checked against the buffer. */
struct tx_args {
  struct sock *s;
  uint8_t *at;
  uint32_t len, dst;
};

static int get_tx_args(napi_env env, napi_callback_info info, struct tx_args *a) {
  napi_value argv[5];
  void *data;
  size_t length;
  uint32_t off;
  if (get_args(env, info, 5, argv) || get_sock(env, argv[0], 0, &a->s) || get_typed(env, argv[1], napi_uint8_array, &data, &length) ||
      get_u32(env, argv[2], &off) || get_u32(env, argv[3], &a->len) || get_u32(env, argv[4], &a->dst))
    return -1;
  if ((size_t)off + a->len > length) {
    throw_type(env, "packet_ring: range outside the buffer");
    return -1;
  }
  a->at = (uint8_t *)data + off;
  return 0;
}

/** txQueue(h, buf, off, len, dst): copy into the staging area; false when it is full (flush, then again). */
static napi_value tx_queue(napi_env env, napi_callback_info info) {
  napi_value res;
  struct tx_args a;
  if (get_tx_args(env, info, &a)) return NULL;
  struct sock *s = a.s;
  uint32_t len = a.len, dst = a.dst;
  struct txq *q = &s->tx;
  bool ok = !s->closed && q->n < TX_MAX && q->used + len <= TX_BYTES;
  if (ok) {
    uint8_t *at = q->bytes + q->used;
    memcpy(at, a.at, len);
    q->iov[q->n].iov_base = at;
    q->iov[q->n].iov_len = len;
    if (q->to != NULL) q->to[q->n].sin_addr.s_addr = htonl(dst);
    q->n++;
    q->used += (len + 15) & ~15u; /* keep each message 16-byte aligned */
  }
  NAPI(napi_get_boolean(env, ok, &res));
  return res;
}

/** txFlush(h): messages that failed (0 when all went). */
static napi_value tx_flush_js(napi_env env, napi_callback_info info) {
  napi_value argv[1], res;
  struct sock *s;
  if (get_args(env, info, 1, argv) || get_sock(env, argv[0], 0, &s)) return NULL;
  NAPI(napi_create_uint32(env, tx_flush(s), &res));
  return res;
}

/** txSend(h, buf, off, len, dst): one packet now; 0 or the errno. */
static napi_value tx_send(napi_env env, napi_callback_info info) {
  napi_value res;
  struct tx_args a;
  if (get_tx_args(env, info, &a)) return NULL;
  struct sock *s = a.s;
  uint32_t len = a.len, dst = a.dst;
  int err = 0;
  if (s->closed) {
    err = EBADF;
  } else {
    ssize_t r;
    do {
      if (s->magic == MAGIC_IP) {
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(dst)};
        r = sendto(s->fd, a.at, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
      } else {
        r = send(s->fd, a.at, len, MSG_DONTWAIT); /* the socket is bound to the interface */
      }
    } while (r < 0 && errno == EINTR);
    if (r < 0) err = errno;
  }
  NAPI(napi_create_uint32(env, (uint32_t)err, &res));
  return res;
}

/** txError(h): the errno text of the last failed queued send. */
static napi_value tx_error(napi_env env, napi_callback_info info) {
  napi_value argv[1], res;
  struct sock *s;
  if (get_args(env, info, 1, argv) || get_sock(env, argv[0], 0, &s)) return NULL;
  NAPI(napi_create_string_utf8(env, s->tx.last_errno ? strerror(s->tx.last_errno) : "", NAPI_AUTO_LENGTH, &res));
  return res;
}

static napi_value errno_text(napi_env env, napi_callback_info info) {
  napi_value argv[1], res;
  uint32_t e;
  if (get_args(env, info, 1, argv) || get_u32(env, argv[0], &e)) return NULL;
  NAPI(napi_create_string_utf8(env, strerror((int)e), NAPI_AUTO_LENGTH, &res));
  return res;
}

/* ---- receive ---- */

static inline struct tpacket2_hdr *slot(const struct ring *r, uint32_t i) {
  return (struct tpacket2_hdr *)(r->map + (size_t)(i / r->per_block) * r->block_size + (size_t)(i % r->per_block) * r->frame_size);
}

/** Compile `filter` with libpcap (as for an Ethernet capture of `snaplen`) and attach it to the socket. */
static int attach_filter(int fd, const char *filter, uint32_t snaplen, char *err, size_t errlen) {
  pcap_t *p = pcap_open_dead(DLT_EN10MB, (int)snaplen);
  if (p == NULL) {
    snprintf(err, errlen, "filter: pcap_open_dead failed");
    return -1;
  }
  struct bpf_program prog;
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    snprintf(err, errlen, "filter: %s", pcap_geterr(p));
    pcap_close(p);
    return -1;
  }
  /* libpcap's bpf_insn is the kernel's sock_filter (code, jt, jf, k). */
  struct {
    unsigned short len;
    struct bpf_insn *filter;
  } fprog = {(unsigned short)prog.bf_len, prog.bf_insns};
  int rc = 0;
  if (prog.bf_len > 0xffff || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) != 0) {
    snprintf(err, errlen, "filter: SO_ATTACH_FILTER: %s", strerror(prog.bf_len > 0xffff ? E2BIG : errno));
    rc = -1;
  }
  pcap_freecode(&prog);
  pcap_close(p);
  return rc;
}

static void ring_free_if_done(struct ring *r) {
  if (r->finalized && !r->poll_live) {
    free(r->s.tx.bytes);
    free(r);
  }
}

static void on_poll_closed(uv_handle_t *h) {
  struct ring *r = h->data;
  r->poll_live = 0;
  ring_free_if_done(r);
}

static void ring_cleanup_hook(void *arg);

static void release_callback(struct ring *r) {
  if (r->cb_ref != NULL) napi_delete_reference(r->env, r->cb_ref);
  if (r->rx_ref != NULL) napi_delete_reference(r->env, r->rx_ref);
  if (r->actx != NULL) napi_async_destroy(r->env, r->actx);
  r->cb_ref = r->rx_ref = NULL;
  r->actx = NULL;
}

/** Release the socket, the ring and (with_js) the JS values it holds. Idempotent. */
static void ring_shutdown(struct ring *r, int with_js) {
  if (r->s.closed) return;
  r->s.closed = 1;
  if (r->poll_live) {
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, on_poll_closed);
  }
  napi_env env = r->env;
  if (with_js) {
    /* Views of the ring must not outlive the mapping: detached, they read as empty. */
    napi_value ab;
    if (r->mem_ref != NULL && napi_get_reference_value(env, r->mem_ref, &ab) == napi_ok && ab != NULL) napi_detach_arraybuffer(env, ab);
    if (r->mem_ref != NULL) napi_delete_reference(env, r->mem_ref);
    r->mem_ref = NULL;
    if (!r->in_callback) release_callback(r);
    if (r->hook_added && !r->in_hook) napi_remove_env_cleanup_hook(env, ring_cleanup_hook, r);
    r->hook_added = 0;
  }
  if (r->map != NULL && munmap(r->map, r->map_len) != 0) { /* nothing left to do about it */
  }
  r->map = NULL;
  if (close(r->s.fd) != 0) { /* the fd is gone either way */
  }
  r->s.fd = -1;
}

/** The environment is going away (a worker thread ends): close what is still open. */
static void ring_cleanup_hook(void *arg) {
  struct ring *r = arg;
  napi_handle_scope scope;
  r->in_hook = 1;
  if (napi_open_handle_scope(r->env, &scope) == napi_ok) {
    ring_shutdown(r, 1);
    napi_close_handle_scope(r->env, scope);
  } else {
    ring_shutdown(r, 0);
  }
  r->hook_added = 0;
}

static void ring_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  struct ring *r = data;
  r->finalized = 1;
  if (r->hook_added) napi_remove_env_cleanup_hook(env, ring_cleanup_hook, r); /* never left pointing at freed memory */
  r->hook_added = 0;
  ring_shutdown(r, 0);
  ring_free_if_done(r);
}

static void call_js(struct ring *r, uint32_t n) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) {
    r->callback_errors++;
    return;
  }
  napi_value cb = NULL, recv, arg, res; /* napi_make_callback wants an object as `this` */
  bool ok = napi_get_reference_value(env, r->cb_ref, &cb) == napi_ok && cb != NULL && napi_get_global(env, &recv) == napi_ok &&
            napi_create_uint32(env, n, &arg) == napi_ok && napi_make_callback(env, r->actx, recv, cb, 1, &arg, &res) == napi_ok;
  if (!ok) {
    /* The data path must never take the process down: count it, drop the exception. */
    r->callback_errors++;
    bool pending = false;
    napi_value e;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &e);
  }
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  (void)events;
  struct ring *r = p->data;
  if (r->s.closed) return;
  uint32_t start = r->cursor, i = start, n = 0;
  /* Frames go back to the kernel only after the callback: a ring smaller than the budget must not wrap onto them. */
  uint32_t budget = r->frame_nr < RX_BUDGET ? r->frame_nr : RX_BUDGET;
  while (n < budget) {
    struct tpacket2_hdr *h = slot(r, i);
    if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) break;
    int32_t *d = r->rx + n * RX_FIELDS;
    d[0] = (int32_t)i;
    d[1] = (int32_t)((uint8_t *)h - r->map + h->tp_mac);
    d[2] = (int32_t)h->tp_snaplen;
    d[3] = (int32_t)h->tp_len;
    n++;
    if (++i == r->frame_nr) i = 0;
  }
  /* An error wake-up with no frame still reaches JS (n = 0): that is how a link flap shows (capture-watch.ts). */
  if (n > 0 || status < 0) {
    r->in_callback = 1;
    call_js(r, n);
    r->in_callback = 0;
  }
  if (r->s.closed) {
    /* Closed by the callback: the ring is gone, and what the callback ran on can go now. */
    napi_handle_scope scope;
    if (napi_open_handle_scope(r->env, &scope) == napi_ok) {
      release_callback(r);
      napi_close_handle_scope(r->env, scope);
    }
    return;
  }
  for (uint32_t k = 0, j = start; k < n; k++) {
    __atomic_store_n(&slot(r, j)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    if (++j == r->frame_nr) j = 0;
  }
  r->cursor = i;
  if (status < 0) {
    /* libuv stops polling a handle on POLLERR (ENETDOWN when the link goes down). Clearing the socket's error
     * and polling again keeps the session alive across a flap; if no error was pending, stay stopped rather
     * than spin on a condition we cannot clear. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(r->s.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
      if (uv_poll_start(&r->poll, UV_READABLE, on_poll) != 0) r->callback_errors++;
    }
  }
}

/** ringOpen(iface, filter, snaplen, bufferSize, rx: Int32Array, onWake: (n) => void): handle. */
static napi_value ring_open(napi_env env, napi_callback_info info) {
  napi_value argv[6], result = NULL;
  if (get_args(env, info, 6, argv)) return NULL;
  uint32_t snaplen, bufsize;
  void *rxdata;
  size_t rxlen;
  napi_valuetype cbt;
  if (get_u32(env, argv[2], &snaplen) || get_u32(env, argv[3], &bufsize) || get_typed(env, argv[4], napi_int32_array, &rxdata, &rxlen))
    return NULL;
  if (napi_typeof(env, argv[5], &cbt) != napi_ok || cbt != napi_function) return throw_type(env, "packet_ring: onWake must be a function");
  if (rxlen < RX_BUDGET * RX_FIELDS) return throw_type(env, "packet_ring: rx descriptors too short");
  if (snaplen < 64 || snaplen > 262144) return throw_type(env, "packet_ring: snaplen out of range");
  char *iface = get_string(env, argv[0]);
  if (iface == NULL) return NULL;
  char *filter = get_string(env, argv[1]);
  if (filter == NULL) {
    free(iface);
    return NULL;
  }
  char err[PCAP_ERRBUF_SIZE + 64] = "";
  struct ring *r = calloc(1, sizeof *r);
  int fd = -1;
  uint8_t *map = MAP_FAILED;
  size_t map_len = 0;
  unsigned ifindex = strlen(iface) < IFNAMSIZ ? if_nametoindex(iface) : 0;
  if (r == NULL || txq_init(&r->s.tx, 0) != 0) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  if (ifindex == 0) {
    snprintf(err, sizeof err, "no such interface");
    goto fail;
  }
  /* Protocol 0: the socket receives nothing until bind, which comes after the filter and the ring. */
  fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(err, sizeof err, "socket: %s", strerror(errno));
    goto fail;
  }
  if (attach_filter(fd, filter, snaplen, err, sizeof err) != 0) goto fail;
  int v = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0) {
    snprintf(err, sizeof err, "PACKET_VERSION: %s", strerror(errno));
    goto fail;
  }
  /* A frame: header, sockaddr_ll, room for the MAC header's alignment, then snaplen bytes of packet. */
  uint32_t frame_size = TPACKET_ALIGN(TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + snaplen);
  long page = sysconf(_SC_PAGESIZE);
  uint32_t block_size = page > 0 ? (uint32_t)page : 4096;
  while (block_size < 8 * frame_size) block_size <<= 1; /* at least 8 frames a block: little waste at its end */
  uint32_t ring_bytes = bufsize > RING_MAX ? RING_MAX : bufsize;
  uint32_t block_nr = ring_bytes / block_size > 0 ? ring_bytes / block_size : 1;
  struct tpacket_req req = {
      .tp_block_size = block_size,
      .tp_block_nr = block_nr,
      .tp_frame_size = frame_size,
      .tp_frame_nr = block_nr * (block_size / frame_size),
  };
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
    snprintf(err, sizeof err, "PACKET_RX_RING: %s", strerror(errno));
    goto fail;
  }
  map_len = (size_t)block_size * block_nr;
  map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    snprintf(err, sizeof err, "mmap: %s", strerror(errno));
    goto fail;
  }
  /* Our own emits (and the kernel's, e.g. RingIpSender's) must not come back as captured frames. */
  v = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v) != 0 && errno != ENOPROTOOPT) {
    snprintf(err, sizeof err, "PACKET_IGNORE_OUTGOING: %s", strerror(errno));
    goto fail;
  }
  struct packet_mreq mr = {.mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC};
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) {
    snprintf(err, sizeof err, "PACKET_ADD_MEMBERSHIP: %s", strerror(errno));
    goto fail;
  }
  grow_sndbuf(fd);
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
    snprintf(err, sizeof err, "bind: %s", strerror(errno));
    goto fail;
  }
  /* Bound to a down interface, the socket only records ENETDOWN: refuse, as libpcap does. */
  int soerr = 0;
  socklen_t soerrlen = sizeof soerr;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerrlen) != 0) soerr = errno;
  if (soerr != 0) {
    snprintf(err, sizeof err, "bind: %s", strerror(soerr));
    goto fail;
  }

  r->s.magic = MAGIC_RING;
  r->s.fd = fd;
  r->env = env;
  r->map = map;
  r->map_len = map_len;
  r->snaplen = snaplen;
  r->frame_size = frame_size;
  r->frame_nr = req.tp_frame_nr;
  r->block_size = block_size;
  r->per_block = block_size / frame_size;
  r->rx = rxdata;

  napi_value ab, name;
  uv_loop_t *loop;
  if (napi_create_external_arraybuffer(env, map, map_len, NULL, NULL, &ab) != napi_ok || napi_create_reference(env, ab, 1, &r->mem_ref) != napi_ok ||
      napi_create_reference(env, argv[4], 1, &r->rx_ref) != napi_ok || napi_create_reference(env, argv[5], 1, &r->cb_ref) != napi_ok ||
      napi_create_string_utf8(env, "userlvs.packetRing", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &r->actx) != napi_ok || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    snprintf(err, sizeof err, "N-API setup failed");
    goto fail_js;
  }
  int uerr = uv_poll_init(loop, &r->poll, fd);
  if (uerr != 0) {
    snprintf(err, sizeof err, "uv_poll_init: %s", uv_strerror(uerr));
    goto fail_js;
  }
  r->poll.data = r;
  r->poll_live = 1;
  if ((uerr = uv_poll_start(&r->poll, UV_READABLE, on_poll)) != 0) {
    snprintf(err, sizeof err, "uv_poll_start: %s", uv_strerror(uerr));
    goto fail_js;
  }
  if (napi_create_external(env, r, ring_finalize, NULL, &result) != napi_ok) {
    snprintf(err, sizeof err, "N-API setup failed");
    goto fail_js;
  }
  if (napi_add_env_cleanup_hook(env, ring_cleanup_hook, r) == napi_ok) r->hook_added = 1;
  free(iface);
  free(filter);
  return result;

fail_js:
  /* The struct now owns the fd and the mapping; it is freed once its poll handle (if any) has closed. */
  r->finalized = 1;
  ring_shutdown(r, 1);
  ring_free_if_done(r);
  napi_throw_error(env, NULL, err);
  free(iface);
  free(filter);
  return NULL;

fail:
  if (map != MAP_FAILED && munmap(map, map_len) != 0) { /* failing anyway */
  }
  if (fd >= 0 && close(fd) != 0) { /* failing anyway */
  }
  if (r != NULL) free(r->s.tx.bytes);
  free(r);
  napi_throw_error(env, NULL, err);
  free(iface);
  free(filter);
  return NULL;
}

/** ringMemory(h): the whole ring as one ArrayBuffer (detached at close). */
static napi_value ring_memory(napi_env env, napi_callback_info info) {
  napi_value argv[1], res;
  struct sock *s;
  if (get_args(env, info, 1, argv) || get_sock(env, argv[0], MAGIC_RING, &s)) return NULL;
  struct ring *r = (struct ring *)s;
  if (s->closed || r->mem_ref == NULL) return throw_errno(env, "ringMemory", EBADF);
  NAPI(napi_get_reference_value(env, r->mem_ref, &res));
  return res;
}

/** ringLayout(h, out: Int32Array): [frame size, frames, frames per block, block size]. */
static napi_value ring_layout(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sock *s;
  void *data;
  size_t len;
  if (get_args(env, info, 2, argv) || get_sock(env, argv[0], MAGIC_RING, &s) || get_typed(env, argv[1], napi_int32_array, &data, &len)) return NULL;
  if (len < 4) return throw_type(env, "packet_ring: layout needs 4 slots");
  struct ring *r = (struct ring *)s;
  int32_t *o = data;
  o[0] = (int32_t)r->frame_size;
  o[1] = (int32_t)r->frame_nr;
  o[2] = (int32_t)r->per_block;
  o[3] = (int32_t)r->block_size;
  return NULL;
}

/** ringSetFilter(h, filter): SO_ATTACH_FILTER swaps the program atomically; on error the old one stays. */
static napi_value ring_set_filter(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sock *s;
  if (get_args(env, info, 2, argv) || get_sock(env, argv[0], MAGIC_RING, &s)) return NULL;
  if (s->closed) return throw_errno(env, "filter", EBADF);
  char *filter = get_string(env, argv[1]);
  if (filter == NULL) return NULL;
  struct ring *r = (struct ring *)s;
  char err[PCAP_ERRBUF_SIZE + 64];
  int rc = attach_filter(s->fd, filter, r->snaplen, err, sizeof err);
  free(filter);
  if (rc != 0) napi_throw_error(env, NULL, err);
  return NULL;
}

/** ringStats(h, out: Float64Array): [received, dropped, callback errors] since open. Reading resets the
 *  kernel's counters, so they are summed here. */
static napi_value ring_stats(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sock *s;
  void *data;
  size_t len;
  if (get_args(env, info, 2, argv) || get_sock(env, argv[0], MAGIC_RING, &s) || get_typed(env, argv[1], napi_float64_array, &data, &len)) return NULL;
  if (len < 3) return throw_type(env, "packet_ring: stats needs 3 slots");
  struct ring *r = (struct ring *)s;
  if (!s->closed) {
    struct tpacket_stats st;
    socklen_t sl = sizeof st;
    if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) != 0) return throw_errno(env, "PACKET_STATISTICS", errno);
    r->received += st.tp_packets; /* the kernel includes the drops */
    r->dropped += st.tp_drops;
  }
  double *o = data;
  o[0] = r->received;
  o[1] = r->dropped;
  o[2] = r->callback_errors;
  return NULL;
}

/* ---- IPv4 raw socket ---- */

static void ip_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct ipsock *p = data;
  if (!p->s.closed && close(p->s.fd) != 0) { /* gone either way */
  }
  free(p->s.tx.bytes);
  free(p);
}

/** ipOpen(): a raw IPv4 socket (IPPROTO_RAW: the caller writes the IP header). */
static napi_value ip_open(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value res;
  struct ipsock *p = calloc(1, sizeof *p);
  if (p == NULL || txq_init(&p->s.tx, 1) != 0) {
    free(p);
    return throw_errno(env, "raw IPv4 socket", ENOMEM);
  }
  int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) {
    int e = errno;
    free(p->s.tx.bytes);
    free(p);
    return throw_errno(env, "raw IPv4 socket", e);
  }
  grow_sndbuf(fd);
  p->s.magic = MAGIC_IP;
  p->s.fd = fd;
  if (napi_create_external(env, p, ip_finalize, NULL, &res) != napi_ok) {
    if (close(fd) != 0) { /* failing anyway */
    }
    free(p->s.tx.bytes);
    free(p);
    return fail_napi(env);
  }
  return res;
}

/** close(h): either kind; idempotent. Anything still queued is dropped (the caller flushes first). */
static napi_value close_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct sock *s;
  if (get_args(env, info, 1, argv) || get_sock(env, argv[0], 0, &s)) return NULL;
  if (s->magic == MAGIC_RING) {
    ring_shutdown((struct ring *)s, 1);
  } else if (!s->closed) {
    s->closed = 1;
    if (close(s->fd) != 0) { /* gone either way */
    }
    s->fd = -1;
  }
  s->tx.n = 0;
  s->tx.used = 0;
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"ringOpen", ring_open}, {"ringMemory", ring_memory}, {"ringLayout", ring_layout}, {"ringSetFilter", ring_set_filter},
      {"ringStats", ring_stats}, {"ipOpen", ip_open}, {"txQueue", tx_queue}, {"txFlush", tx_flush_js},
      {"txSend", tx_send}, {"txError", tx_error}, {"errnoText", errno_text}, {"close", close_js},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok ||
        napi_set_named_property(env, exports, fns[i].name, f) != napi_ok)
      return NULL;
  }
  napi_value c;
  if (napi_create_uint32(env, RX_BUDGET, &c) != napi_ok || napi_set_named_property(env, exports, "RX_BUDGET", c) != napi_ok) return NULL;
  if (napi_create_uint32(env, RX_FIELDS, &c) != napi_ok || napi_set_named_property(env, exports, "RX_FIELDS", c) != napi_ok) return NULL;
  return exports;
}
