// GrpcGrantSource: a GrantSource over the identity and authz services' gRPC
// APIs (an in-process channel in iamd), calling as a service principal:
// IdentityService.GetPerson for the status (needs iam.people:read) and, for
// an active person, AuthzService.ListPermissions at the area's scope (needs
// iam.authz:check); the roles are those on the returned role paths. The
// policy's badge_service role grants both; iamd binds it to svc:iamd.
// No cache: every Lookup asks both services. Thread-safe.
#ifndef IAM_SERVICES_BADGE_GRPC_GRANT_SOURCE_H_
#define IAM_SERVICES_BADGE_GRPC_GRANT_SOURCE_H_

#include <memory>
#include <string>

#include <grpcpp/channel.h>

#include "proto/iam/v1/authz.grpc.pb.h"
#include "proto/iam/v1/identity.grpc.pb.h"
#include "services/badge/grant_source.h"

namespace iam::badge {

class GrpcGrantSource final : public GrantSource {
 public:
  // `internal_token` (may be empty) proves an in-process caller; see caller.h.
  GrpcGrantSource(std::shared_ptr<grpc::Channel> channel, std::string principal,
                  std::string internal_token);
  absl::StatusOr<PersonGrants> Lookup(absl::string_view person_id,
                                      absl::string_view scope) override;

 private:
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
  std::unique_ptr<iam::v1::AuthzService::Stub> authz_;
  const std::string principal_;
  const std::string internal_token_;
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_GRPC_GRANT_SOURCE_H_
