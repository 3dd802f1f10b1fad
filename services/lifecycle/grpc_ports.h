// gRPC implementations of the lifecycle's ports (ports.h): the identity,
// authz, password and badge services' APIs, called as a service principal
// (in iamd "svc:iamd" over the in-process channel, proven by the internal
// token; see services/common/caller.h). The principal needs the
// lifecycle_service role (policy/birthright.textproto). Thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_GRPC_PORTS_H_
#define IAM_SERVICES_LIFECYCLE_GRPC_PORTS_H_

#include <memory>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "services/lifecycle/ports.h"

namespace iam::lifecycle {

// Who calls, and how: shared by every port.
struct CallAs {
  std::string principal;
  std::string internal_token;  // may be empty (mTLS deployments)
  // Sets caller metadata and a deadline on a fresh context.
  void Prepare(grpc::ClientContext* context) const;
};

// absl::Status from a grpc::Status, the message prefixed with the service.
absl::Status FromGrpc(const grpc::Status& status, absl::string_view service);

class GrpcPersonDirectory final : public PersonDirectory {
 public:
  GrpcPersonDirectory(std::shared_ptr<grpc::Channel> channel, CallAs as);
  absl::StatusOr<iam::v1::Person> Get(absl::string_view person_id) override;
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> Create(
      const iam::v1::Person& person, absl::string_view reason) override;
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> Update(
      const iam::v1::Person& person, const std::vector<std::string>& mask,
      absl::string_view reason) override;
  absl::StatusOr<std::pair<iam::v1::Person, Revision>> RecordAttestation(
      absl::string_view person_id, iam::v1::AttestationType type,
      absl::string_view reason) override;

 private:
  std::unique_ptr<iam::v1::IdentityService::Stub> stub_;
  const CallAs as_;
};

class GrpcAccessGrants final : public AccessGrants {
 public:
  GrpcAccessGrants(std::shared_ptr<grpc::Channel> channel, CallAs as);
  absl::StatusOr<std::vector<iam::v1::RoleBinding>> ListOf(
      absl::string_view person_id) override;
  absl::StatusOr<std::pair<iam::v1::RoleBinding, Revision>> Bind(
      const iam::v1::RoleBinding& binding) override;
  absl::StatusOr<Revision> Unbind(absl::string_view binding_id,
                                  absl::string_view reason) override;
  absl::StatusOr<Removed> UnbindAllOf(absl::string_view person_id,
                                      absl::string_view reason) override;

 private:
  std::unique_ptr<iam::v1::AuthzService::Stub> stub_;
  const CallAs as_;
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_GRPC_PORTS_H_
