// Who is calling: the authenticated identity behind an RPC.
//
// With TLS the caller is the common name of the verified client certificate.
// In the insecure local mode (allowed only on loopback listeners) the caller
// names itself in the `x-iam-caller` header, and only loopback peers are
// accepted. Co-hosted services calling each other over the in-process channel
// (which has neither a peer address nor a certificate) prove themselves with
// a random per-process token in `x-iam-internal-token` and then name
// themselves in `x-iam-caller`; the token never leaves the process.
// Stateless and thread-safe.
#ifndef IAM_SERVICES_COMMON_CALLER_H_
#define IAM_SERVICES_COMMON_CALLER_H_

#include <string>

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace iam {

// Metadata key that carries the caller in insecure local mode.
inline constexpr char kCallerHeader[] = "x-iam-caller";

enum class CallerMode {
  // Caller from the mTLS client certificate.
  kTls,
  // Caller from kCallerHeader; peer must be loopback or in-process.
  kInsecureLoopback,
};

// Metadata key of the in-process token.
inline constexpr char kInternalTokenHeader[] = "x-iam-internal-token";

struct CallerConfig {
  CallerMode mode = CallerMode::kInsecureLoopback;
  // Token that marks in-process calls between co-hosted services; empty
  // disables them.
  std::string internal_token;
};

// A fresh random token for CallerConfig::internal_token.
std::string NewInternalToken();

// The authenticated caller of `context`, or UNAUTHENTICATED saying why.
absl::StatusOr<std::string> CallerFromContext(
    const grpc::ServerContextBase& context, const CallerConfig& config);

// Names `principal` as the caller of an in-process call between co-hosted
// services, proves it with `internal_token` (if non-empty), and sets the
// deadline `timeout` from now. The client side of CallerFromContext.
void PrepareInternalCall(grpc::ClientContext* context,
                         absl::string_view principal,
                         absl::string_view internal_token,
                         absl::Duration timeout);

// True for peers such as "ipv4:127.0.0.1:5555", "ipv6:[::1]:5555", or
// in-process channels.
bool IsLoopbackPeer(absl::string_view peer);

// True if a listen address ("127.0.0.1:7730", "[::1]:0", "localhost:1")
// binds only to loopback.
bool IsLoopbackListenAddress(absl::string_view address);

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_CALLER_H_
