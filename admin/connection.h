// A connection to iamd for one iamctl run: the gRPC channel (plain or TLS
// with a client certificate), the three service stubs, and the per-call
// setup every RPC needs (deadline, and the x-iam-caller metadata in insecure
// mode). Thread-compatible: stubs are thread-safe, the object is not mutated
// after Open().
#ifndef IAM_ADMIN_CONNECTION_H_
#define IAM_ADMIN_CONNECTION_H_

#include <memory>

#include "absl/status/statusor.h"
#include "admin/options.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "proto/iam/v1/audit.grpc.pb.h"
#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"

namespace iam::admin {

inline constexpr char kCallerMetadataKey[] = "x-iam-caller";

class ServerConnection {
 public:
  // Creates the channel; does not connect yet (the first RPC does). Reads the
  // TLS files in TLS mode; returns InvalidArgument if one cannot be read.
  static absl::StatusOr<std::unique_ptr<ServerConnection>> Open(
      const GlobalOptions& options);

  // Sets the deadline and, in insecure mode, the caller metadata on a fresh
  // context. Call once per RPC.
  void Prepare(grpc::ClientContext* context) const;

  iam::v1::IdentityService::StubInterface& identity() { return *identity_; }
  iam::v1::AuthzService::StubInterface& authz() { return *authz_; }
  iam::v1::AuditService::StubInterface& audit() { return *audit_; }
  // The channel, for areas that make stubs of their own services.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  ServerConnection(const GlobalOptions& options,
                   std::shared_ptr<grpc::Channel> channel);

  GlobalOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<iam::v1::IdentityService::StubInterface> identity_;
  std::unique_ptr<iam::v1::AuthzService::StubInterface> authz_;
  std::unique_ptr<iam::v1::AuditService::StubInterface> audit_;
};

}  // namespace iam::admin

#endif  // IAM_ADMIN_CONNECTION_H_
