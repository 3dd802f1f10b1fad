// Authorizer: decides whether an authenticated caller may use an admin RPC.
// The service eats its own cooking: implementations ask the authz engine
// (co-hosted) or the AuthzService over gRPC whether the caller holds a
// permission such as "iam.bindings:write" at the root scope "/".
// Implementations are thread-safe.
#ifndef IAM_SERVICES_COMMON_AUTHORIZER_H_
#define IAM_SERVICES_COMMON_AUTHORIZER_H_

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace iam {

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK if `caller` holds `permission` at "/"; PERMISSION_DENIED naming the
  // missing permission otherwise; UNAVAILABLE if it cannot be decided (which
  // callers treat as a denial).
  virtual absl::Status Require(absl::string_view caller,
                               absl::string_view permission) = 0;
};

// Forwards to a target set once the server is up (the gRPC-backed
// authorizers need the running server's in-process channel). Until then every
// request is refused with UNAVAILABLE: fail closed.
class DeferredAuthorizer final : public Authorizer {
 public:
  // REQUIRES: target outlives this object.
  void set_target(Authorizer* target) { target_.store(target); }
  absl::Status Require(absl::string_view caller,
                       absl::string_view permission) override {
    Authorizer* target = target_.load();
    if (target == nullptr) {
      return absl::UnavailableError("the server is starting; retry");
    }
    return target->Require(caller, permission);
  }

 private:
  std::atomic<Authorizer*> target_{nullptr};
};

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_AUTHORIZER_H_
