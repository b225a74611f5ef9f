// A minimal socket binding for redkeep: open a packet socket bound to one interface, send
// whole Ethernet frames (gratuitous ARP, unsolicited NA), filter with classic BPF, and read frames
// asynchronously through libuv. It also opens the raw IP sockets VRRP runs on (sent to
// synchronously: a send is one sendto, no poll started and stopped around it) and netlink route
// sockets: one for requests (links, addresses), one for events, read the same way; the agent only
// needs "something changed" from the latter (it then re-reads links and addresses), including
// when the kernel had to drop events (ENOBUFS).
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FRAME 65536

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, err == EPERM ? "EPERM" : err == EACCES ? "EACCES" : err == ENODEV ? "ENODEV" : "EAFPACKET", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errno_value;
  napi_create_int32(env, err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static int arg_int32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

// open(ifindex, ethertype[, filter]) -> fd. ethertype 0 opens a send-only socket. The filter
// (classic BPF, see attachFilter) is attached before the socket is bound to its protocol, so no
// unfiltered frame is ever queued.
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t ifindex, proto;
  if (argc < 2 || !arg_int32(env, argv[0], &ifindex) || !arg_int32(env, argv[1], &proto)) {
    napi_throw_type_error(env, NULL, "open(ifindex, ethertype[, filter])");
    return NULL;
  }
  struct sock_fprog prog = {0, NULL};
  if (argc >= 3) {
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    if (t != napi_undefined) {
      void *data;
      size_t len, offset;
      napi_typedarray_type type;
      napi_value ab;
      if (napi_get_typedarray_info(env, argv[2], &type, &len, &data, &ab, &offset) != napi_ok ||
          type != napi_uint8_array || len == 0 || len % sizeof(struct sock_filter) != 0) {
        napi_throw_type_error(env, NULL, "open: filter must be a Uint8Array of sock_filter");
        return NULL;
      }
      prog.len = (unsigned short)(len / sizeof(struct sock_filter));
      prog.filter = (struct sock_filter *)data;
    }
  }
  // Protocol 0 receives nothing until bind() names one.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  if (prog.len > 0 && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", err);
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)proto);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_PACKET)", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

// A netlink route socket bound to `groups` (0: requests only), with a receive buffer of `size`
// bytes (SO_RCVBUFFORCE when allowed). Returns the fd, or -1 with a pending exception.
static int open_netlink_route(napi_env env, uint32_t groups, int size, bool cap_ack) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    throw_errno(env, "socket(AF_NETLINK)", errno);
    return -1;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  int one = 1;
  // Ask for errors without the whole request echoed back.
  if (cap_ack) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl snl;
  memset(&snl, 0, sizeof snl);
  snl.nl_family = AF_NETLINK;
  snl.nl_groups = groups;
  if (bind(fd, (struct sockaddr *)&snl, sizeof snl) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind(AF_NETLINK)", err);
    return -1;
  }
  return fd;
}

static napi_value fd_value(napi_env env, int fd) {
  if (fd < 0) return NULL;
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

// openRouteEvents() -> fd: a netlink route socket subscribed to link and IPv4/IPv6 address
// changes, with a large receive buffer.
static napi_value OpenRouteEvents(napi_env env, napi_callback_info info) {
  (void)info;
  return fd_value(env, open_netlink_route(env, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, 4 * 1024 * 1024, false));
}

// openNetlinkRoute() -> fd: a netlink route socket for requests (no multicast groups). Requests
// go to the kernel with send(); answers are read with startReading.
static napi_value OpenNetlinkRoute(napi_env env, napi_callback_info info) {
  (void)info;
  return fd_value(env, open_netlink_route(env, 0, 1024 * 1024, true));
}

// openRawIp(family 4|6, protocol, ifname) -> fd: a non-blocking raw IP socket bound to one
// interface (SO_BINDTODEVICE). Options are set with setSockOpt.
static napi_value OpenRawIp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t family, proto;
  char ifname[IFNAMSIZ + 1];
  size_t ifname_len = 0;
  if (argc < 3 || !arg_int32(env, argv[0], &family) || !arg_int32(env, argv[1], &proto) || (family != 4 && family != 6) ||
      napi_get_value_string_utf8(env, argv[2], ifname, sizeof ifname, &ifname_len) != napi_ok || ifname_len == 0 || ifname_len >= IFNAMSIZ) {
    napi_throw_type_error(env, NULL, "openRawIp(4|6, protocol, ifname)");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return throw_errno(env, "socket(raw IP)", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)ifname_len + 1) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt(SO_BINDTODEVICE)", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

// setSockOpt(fd, level, name, value: number | Uint8Array): an int option, or raw bytes.
static napi_value SetSockOpt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, level, name, value;
  if (argc < 4 || !arg_int32(env, argv[0], &fd) || !arg_int32(env, argv[1], &level) || !arg_int32(env, argv[2], &name)) {
    napi_throw_type_error(env, NULL, "setSockOpt(fd, level, name, value)");
    return NULL;
  }
  int rc;
  if (arg_int32(env, argv[3], &value)) {
    int v = value;
    rc = setsockopt(fd, level, name, &v, sizeof v);
  } else {
    napi_typedarray_type type;
    void *data;
    size_t len, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, argv[3], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "setSockOpt: value must be an int32 or a Uint8Array");
      return NULL;
    }
    rc = setsockopt(fd, level, name, data, (socklen_t)len);
  }
  if (rc < 0) {
    char what[64];
    snprintf(what, sizeof what, "setsockopt(%d, %d)", level, name);
    return throw_errno(env, what, errno);
  }
  return NULL;
}

// sendTo(fd, bytes, address: Uint8Array(4 | 16), scopeId) -> bytes sent. One sendto, now; a full
// socket buffer throws (EAGAIN) rather than waiting.
static napi_value SendTo(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, scope = 0;
  napi_typedarray_type type, atype;
  void *data, *addr;
  size_t len, alen, offset;
  napi_value ab;
  if (argc < 3 || !arg_int32(env, argv[0], &fd) ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array ||
      napi_get_typedarray_info(env, argv[2], &atype, &alen, &addr, &ab, &offset) != napi_ok || atype != napi_uint8_array ||
      (alen != 4 && alen != 16) || (argc >= 4 && !arg_int32(env, argv[3], &scope))) {
    napi_throw_type_error(env, NULL, "sendTo(fd, Uint8Array, Uint8Array(4|16)[, scopeId])");
    return NULL;
  }
  ssize_t n;
  if (alen == 4) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, addr, 4);
    n = sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof sin);
  } else {
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    memcpy(&sin6.sin6_addr, addr, 16);
    sin6.sin6_scope_id = (uint32_t)scope;
    n = sendto(fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sin6, sizeof sin6);
  }
  if (n < 0) return throw_errno(env, "sendto", errno);
  napi_value result;
  napi_create_int32(env, (int32_t)n, &result);
  return result;
}


// Reads (fd: number, bytes: Uint8Array) arguments; false (and nothing thrown yet) if they are not.
static bool fd_and_bytes(napi_env env, napi_callback_info info, int32_t *fd, void **data, size_t *len) {
  size_t argc = 2;
  napi_value argv[2];
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc >= 2 && arg_int32(env, argv[0], fd) &&
         napi_get_typedarray_info(env, argv[1], &type, len, data, &ab, &offset) == napi_ok &&
         type == napi_uint8_array;
}

// send(fd, frame) -> bytes sent. The frame is a whole Ethernet frame.
static napi_value Send(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  if (!fd_and_bytes(env, info, &fd, &data, &len)) {
    napi_throw_type_error(env, NULL, "send(fd, Uint8Array)");
    return NULL;
  }
  ssize_t n = send(fd, data, len, 0);
  if (n < 0) return throw_errno(env, "send", errno);
  napi_value result;
  napi_create_int32(env, (int32_t)n, &result);
  return result;
}

// attachFilter(fd, program): program is classic BPF, 8 bytes per instruction (struct sock_filter
// in host byte order).
static napi_value AttachFilter(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  if (!fd_and_bytes(env, info, &fd, &data, &len) || len == 0 || len % sizeof(struct sock_filter) != 0) {
    napi_throw_type_error(env, NULL, "attachFilter(fd, Uint8Array of sock_filter)");
    return NULL;
  }
  struct sock_fprog prog;
  prog.len = (unsigned short)(len / sizeof(struct sock_filter));
  prog.filter = (struct sock_filter *)data;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    return throw_errno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
  }
  return NULL;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int fd;
  unsigned char *buf;
} reader_t;

static void on_closed(uv_handle_t *h) {
  reader_t *r = (reader_t *)h->data;
  free(r->buf);
  free(r);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  reader_t *r = (reader_t *)p->data;
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global;
  napi_get_reference_value(env, r->callback, &cb);
  napi_get_global(env, &global);
  if (status < 0) {
    napi_value args[4];
    napi_get_null(env, &args[0]);
    napi_get_null(env, &args[1]);
    napi_create_int32(env, status, &args[2]);
    napi_get_null(env, &args[3]);
    napi_make_callback(env, r->async, global, cb, 4, args, NULL);
    napi_close_handle_scope(env, scope);
    return;
  }
  // Read what is queued now, a bounded batch per wakeup so other work gets a turn.
  for (int i = 0; i < 64; i++) {
    struct sockaddr_storage from_storage;
    struct sockaddr_ll *fromll = (struct sockaddr_ll *)&from_storage;
    socklen_t fromlen = sizeof from_storage;
    memset(&from_storage, 0, sizeof from_storage);
    ssize_t n = recvfrom(r->fd, r->buf, MAX_FRAME, 0, (struct sockaddr *)&from_storage, &fromlen);
    if (n < 0) {
      // The kernel dropped messages (a netlink flood): say so, the caller re-reads everything.
      if (errno == ENOBUFS) {
        napi_value args[4];
        napi_get_null(env, &args[0]);
        napi_get_null(env, &args[1]);
        napi_create_int32(env, -ENOBUFS, &args[2]);
        napi_get_null(env, &args[3]);
        napi_make_callback(env, r->async, global, cb, 4, args, NULL);
        continue;
      }
      break;  // EAGAIN, or an error the next wakeup will see again
    }
    napi_value args[4], ab;
    void *copy;
    if (napi_create_buffer_copy(env, (size_t)n, r->buf, &copy, &ab) != napi_ok) break;
    args[0] = ab;
    // The packet type for AF_PACKET; other families say -1.
    napi_create_int32(env, from_storage.ss_family == AF_PACKET ? fromll->sll_pkttype : -1, &args[1]);
    napi_create_int32(env, 0, &args[2]);
    // The kernel's receive time of this frame (wall clock), exact whatever our read latency.
    struct timeval tv;
    if (ioctl(r->fd, SIOCGSTAMP, &tv) == 0) {
      napi_create_double(env, (double)tv.tv_sec + (double)tv.tv_usec / 1e6, &args[3]);
    } else {
      napi_get_null(env, &args[3]);
    }
    napi_make_callback(env, r->async, global, cb, 4, args, NULL);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      // The JS side catches its own errors; anything left is a bug: report it, never let it
      // surface later from an unrelated call.
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
      break;
    }
  }
  napi_close_handle_scope(env, scope);
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  (void)hint;
}

// startReading(fd, callback(frame, pktType, status, kernelTimestampSeconds)) -> handle
static napi_value StartReading(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  napi_valuetype t;
  if (argc < 2 || !arg_int32(env, argv[0], &fd) || napi_typeof(env, argv[1], &t) != napi_ok ||
      t != napi_function) {
    napi_throw_type_error(env, NULL, "startReading(fd, callback)");
    return NULL;
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  reader_t *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, "startReading", ENOMEM);
  r->buf = malloc(MAX_FRAME);
  if (r->buf == NULL) {
    free(r);
    return throw_errno(env, "startReading", ENOMEM);
  }
  r->env = env;
  r->fd = fd;
  napi_create_reference(env, argv[1], 1, &r->callback);
  napi_value name;
  napi_create_string_utf8(env, "redkeep.afpacket", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->async);
  int rc = uv_poll_init(loop, &r->poll, fd);
  if (rc != 0) {
    napi_delete_reference(env, r->callback);
    napi_async_destroy(env, r->async);
    free(r->buf);
    free(r);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  r->poll.data = r;
  rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    // The handle is initialised: it must be closed through libuv, which frees it in on_closed.
    napi_delete_reference(env, r->callback);
    napi_async_destroy(env, r->async);
    r->fd = -1;
    uv_close((uv_handle_t *)&r->poll, on_closed);
    return throw_errno(env, "uv_poll_start", -rc);
  }
  napi_value handle;
  napi_create_external(env, r, reader_finalize, NULL, &handle);
  return handle;
}

// stopReading(handle): stops the poll and releases the callback. Does not close the fd.
static napi_value StopReading(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  reader_t *r = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&r) != napi_ok || r == NULL) {
    napi_throw_type_error(env, NULL, "stopReading(handle)");
    return NULL;
  }
  if (r->fd < 0) return NULL;
  r->fd = -1;
  uv_poll_stop(&r->poll);
  napi_delete_reference(env, r->callback);
  napi_async_destroy(env, r->async);
  uv_close((uv_handle_t *)&r->poll, on_closed);
  return NULL;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !arg_int32(env, argv[0], &fd)) {
    napi_throw_type_error(env, NULL, "close(fd)");
    return NULL;
  }
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

// Fills addr from a JS path string; a path starting with '@' is in the abstract namespace.
static bool unix_address(napi_env env, napi_value v, struct sockaddr_un *addr, socklen_t *addr_len) {
  char path[sizeof addr->sun_path + 1];
  size_t path_len = 0;
  if (napi_get_value_string_utf8(env, v, path, sizeof path, &path_len) != napi_ok || path_len == 0 || path_len >= sizeof addr->sun_path) {
    return false;
  }
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path, path_len);
  if (path[0] == '@') addr->sun_path[0] = 0;
  *addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
  return true;
}

// sendUnixDatagram(path, bytes): one datagram to an AF_UNIX SOCK_DGRAM socket (Node has no such
// socket). Used for sd_notify.
static napi_value SendUnixDatagram(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_un addr;
  socklen_t addr_len;
  napi_typedarray_type type;
  void *data;
  size_t len;
  napi_value ab;
  size_t offset;
  if (argc < 2 || !unix_address(env, argv[0], &addr, &addr_len) ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "sendUnixDatagram(path (1..107 bytes), Uint8Array)");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_UNIX)", errno);
  ssize_t n = sendto(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&addr, addr_len);
  int err = errno;
  close(fd);
  if (n < 0) return throw_errno(env, "sendto(AF_UNIX)", err);
  return NULL;
}

// openUnixDatagram(path) -> fd: a bound, non-blocking AF_UNIX SOCK_DGRAM socket to read with
// startReading (a notify socket for tests).
static napi_value OpenUnixDatagram(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_un addr;
  socklen_t addr_len;
  if (argc < 1 || !unix_address(env, argv[0], &addr, &addr_len)) {
    napi_throw_type_error(env, NULL, "openUnixDatagram(path (1..107 bytes))");
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_UNIX)", errno);
  if (bind(fd, (struct sockaddr *)&addr, addr_len) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_UNIX)", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"openRouteEvents", NULL, OpenRouteEvents, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_default, NULL},
      {"attachFilter", NULL, AttachFilter, NULL, NULL, NULL, napi_default, NULL},
      {"startReading", NULL, StartReading, NULL, NULL, NULL, napi_default, NULL},
      {"stopReading", NULL, StopReading, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
      {"sendUnixDatagram", NULL, SendUnixDatagram, NULL, NULL, NULL, napi_default, NULL},
      {"openUnixDatagram", NULL, OpenUnixDatagram, NULL, NULL, NULL, napi_default, NULL},
      {"openRawIp", NULL, OpenRawIp, NULL, NULL, NULL, napi_default, NULL},
      {"setSockOpt", NULL, SetSockOpt, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, SendTo, NULL, NULL, NULL, napi_default, NULL},
      {"openNetlinkRoute", NULL, OpenNetlinkRoute, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
