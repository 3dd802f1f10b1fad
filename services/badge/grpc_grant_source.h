// GrpcGrantSource: a GrantSource over the authz and identity services' gRPC
// APIs (an in-process channel in iamd), calling as a service principal.
// Lookup asks AuthzService.ListPermissions at the area's scope (needs
// iam.authz:check); the roles are those on the returned role paths. Authz
// grants only to active people, and identity tells authz about a suspension
// or a departure before committing it, so any grant implies an active
// person; only without grants is IdentityService.GetPerson asked for the
// status (needs iam.people:read), for listed people and precise reasons. The
// policy's badge_service role grants both permissions; iamd binds it to
// svc:iamd. No cache: every Lookup asks, so a revocation that returned
// before is always seen. Thread-safe.
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
  absl::StatusOr<iam::v1::PersonStatus> Status(absl::string_view person_id) override;

 private:
  std::unique_ptr<iam::v1::IdentityService::Stub> identity_;
  std::unique_ptr<iam::v1::AuthzService::Stub> authz_;
  const std::string principal_;
  const std::string internal_token_;
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_GRPC_GRANT_SOURCE_H_
